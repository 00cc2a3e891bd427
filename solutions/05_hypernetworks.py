# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Hypernetworks — exercises
# Six questions: the exact ridge best response a hypernet is compared with, the 2-D hypervolume that
# judges a Pareto front, the weight matrix of the STN layer, what a Self-Tuning Network can tune, what
# linear scalarisation does on a concave front, and how EPO measures the distance to a preference ray.
# Reference implementations live in `mlcourse.hypernets`.

# %%
import numpy as np
import torch

import mlcourse
from mlcourse import hypernets as H
from mlcourse.grading import check, one_of

device = mlcourse.setup()
X, y, Xval, yval = H.ridge_problem(n=20, d=50, noise=1.0, seed=0, device="cpu")

# %% [markdown]
# ### Q1 · The ridge best response
# For $\mathcal{L}_{train}(\mathbf{w}, \lambda) = \tfrac1n\lVert X\mathbf{w} - \mathbf{y}\rVert^2 + e^{\lambda}\lVert\mathbf{w}\rVert^2$,
# write `ridge_best_response(X, y, log_lam)` returning $\mathbf{w}^*(\lambda) = \arg\min_\mathbf{w}\mathcal{L}_{train}$
# (a tensor of shape `[d]`, for a float `log_lam`). Set the gradient to zero and solve the linear
# system with `torch.linalg.solve` (do not form an inverse).

# %%
def ridge_best_response(X, y, log_lam):
    ### BEGIN SOLUTION
    n, d = X.shape
    system = X.T @ X / n + np.exp(log_lam) * torch.eye(d, dtype=X.dtype)
    return torch.linalg.solve(system, X.T @ y / n)
    ### END SOLUTION


# %% tags=["check"]
with check("Q1 ridge best response", hint="Write the gradient of each of the two terms with respect to w, "
           "set their sum to zero and collect what multiplies w."):
    assert torch.allclose(ridge_best_response(X, y, 0.28), H.best_response(X, y, 0.28), atol=1e-10)
    ### BEGIN HIDDEN CHECKS
    X2, y2, _, _ = H.ridge_problem(n=30, d=10, seed=3, device="cpu")
    for lam in (-5.0, 2.0):
        assert torch.allclose(ridge_best_response(X2, y2, lam), H.best_response(X2, y2, lam), atol=1e-10)
    ### END HIDDEN CHECKS

# %% [markdown]
# ### Q2 · The 2-D hypervolume
# Write `hypervolume(points, ref)`: the area of the set of loss vectors $(u_1, u_2)$ with
# $u \le \mathrm{ref}$ that are dominated by at least one of the `points` (a NumPy array `[k, 2]`,
# both losses minimised), i.e. $\{u : \exists p,\; p_1 \le u_1 \le r_1,\; p_2 \le u_2 \le r_2\}$.
# Points outside the reference box contribute nothing. Return a float. Hint: sort by the first loss
# and sweep.

# %%
def hypervolume(points, ref=(1.0, 1.0)):
    ### BEGIN SOLUTION
    p = np.asarray(points, dtype=float)
    p = p[(p[:, 0] < ref[0]) & (p[:, 1] < ref[1])]
    p = p[np.argsort(p[:, 0], kind="stable")]
    area, level = 0.0, ref[1]
    for f1, f2 in p:
        if f2 < level:
            area += (ref[0] - f1) * (level - f2)
            level = f2
    return float(area)
    ### END SOLUTION


# %% tags=["check"]
with check("Q2 hypervolume", hint="Sweep the points in order of the first loss and keep track of the "
           "lowest second loss seen so far; what lies outside the box adds nothing."):
    pts = np.random.default_rng(0).uniform(0, 1, size=(15, 2))
    assert abs(hypervolume(pts) - H.hypervolume_2d(pts)) < 1e-12
    pts2 = np.random.default_rng(1).uniform(0, 1.3, size=(40, 2))  # some points leave the box
    assert abs(hypervolume(pts2, ref=(1.2, 1.1)) - H.hypervolume_2d(pts2, ref=(1.2, 1.1))) < 1e-12
    assert abs(hypervolume(np.array([[0.5, 0.5], [1.5, 0.2]])) - 0.25) < 1e-12  # (1.5, 0.2) lies outside
    ### BEGIN HIDDEN CHECKS
    assert abs(hypervolume(H.pareto_front(2001).numpy()) - H.hypervolume_2d(H.pareto_front(2001))) < 1e-12
    assert hypervolume(np.array([[1.5, 0.2], [0.3, 1.0]])) == 0.0
    ### END HIDDEN CHECKS

# %% [markdown]
# ### Q3 · The STN layer's weight matrix
# A Self-Tuning Network layer has $\hat W(\lambda) = W_{elem} + (V\lambda) \odot_{row} W_{hyper}$: the vector
# $V\lambda$ (one entry per output unit) scales the **rows** of $W_{hyper}$. Write
# `stn_weight(W_elem, W_hyper, V, lam)` with shapes `[out, in]`, `[out, in]`, `[out, h]`, `[h]`,
# returning `[out, in]`.

# %%
def stn_weight(W_elem, W_hyper, V, lam):
    ### BEGIN SOLUTION
    return W_elem + (V @ lam)[:, None] * W_hyper
    ### END SOLUTION


# %% tags=["check"]
with check("Q3 STN weight", hint="Compute Vλ first; then broadcast it so that entry i multiplies "
           "row i of W_hyper."):
    torch.manual_seed(0)
    layer = H.STNLinear(5, 4, 3).double()
    lam = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64)
    mine = stn_weight(layer.elem.weight, layer.hyper.weight, layer.V, lam)
    assert torch.allclose(mine, layer.weight(lam), atol=1e-12)
    ### BEGIN HIDDEN CHECKS
    layer2 = H.STNLinear(3, 7, 2).double()
    lam2 = torch.tensor([1.5, 0.25], dtype=torch.float64)
    assert torch.allclose(stn_weight(layer2.elem.weight, layer2.hyper.weight, layer2.V, lam2),
                          layer2.weight(lam2), atol=1e-12)
    ### END HIDDEN CHECKS

# %% [markdown]
# ### Q4 · What can a Self-Tuning Network tune?
# An STN trains the weights $\hat{\mathbf{w}}_\varphi(\lambda)$ and the metaparameters $\lambda$ jointly in a
# single run. Which of these can it **not** tune? Set `answer` to one letter.
#
# - a) the dropout rate of a hidden layer
# - b) the learning rate of the optimiser that trains the weights
# - c) the strength of a continuous data augmentation (e.g. contrast)
# - d) the weight-decay coefficient

# %%
### BEGIN SOLUTION
answer = "b"
### END SOLUTION

# %% tags=["check"]
with check("Q4 what an STN cannot tune", hint="The bilevel problem was collapsed into one training run: "
           "which of these only acts on how an inner training loop moves, not on what the trained "
           "model computes?", recorded=True):
    one_of(answer, "abcd")
    ### BEGIN HIDDEN CHECKS
    assert answer.strip().lower() == "b"
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# Dropout, augmentation and weight decay change the training objective, so the best response
# $\mathbf{w}^*(\lambda)$ depends on them and $\hat{\mathbf{w}}_\varphi(\lambda)$ can model that dependence. The
# learning rate changes only the path of an inner optimisation, which an STN does not have.

# %% [markdown]
# ### Q5 · Linear scalarisation on a concave front
# On the toy problem of Lin et al. the front is concave except near its two ends. Take the balanced preference
# $\mathbf{r} = (0.5, 0.5)$. Use `H.pareto_front(2001)` (exact front points) and
# `H.linear_scalarization(front, r)` to find the front point that minimises $r_1 f_1 + r_2 f_2$, and store it
# as `ls_point` (a tensor `[2]`). Then set `answer5` to the letter that describes where it lies:
#
# - a) at the middle of the front, $f_1 = f_2 \approx 0.63$
# - b) halfway between the middle and an end
# - c) within a few percent of one end of the front (one loss close to 0)

# %%
front = H.pareto_front(2001)
r = torch.tensor([0.5, 0.5], dtype=torch.float64)

# %%
### BEGIN SOLUTION
ls_point = front[H.linear_scalarization(front, r).argmin()]
answer5 = "c"
### END SOLUTION

# %% tags=["check"]
with check("Q5 linear scalarisation on a concave front", hint="Evaluate the weighted sum at every "
           "front point and take the index of its minimum; then look at the two losses of that point.", recorded=True):
    scores = H.linear_scalarization(front, r)
    assert torch.isclose(H.linear_scalarization(ls_point, r), scores.min())
    one_of(answer5, "abc")
    ### BEGIN HIDDEN CHECKS
    assert answer5.strip().lower() == "c"
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# The weighted sum is *largest* in the middle of a concave front ($f_1 + f_2 = 2(1 - e^{-1}) \approx 1.26$
# at $t = 0$ against $\approx 0.98$ at the ends), so every balanced ray is pulled to the ends. Only the last
# few percent next to each end, where the front bends the other way, are reachable. A ray-targeting
# scalarisation (Chebyshev $\max_i r_i f_i$, or EPO) reaches the middle.

# %% [markdown]
# ### Q6 · How far from the ray?
# EPO measures how far a loss vector $f$ is from the preference ray $r$ by the *non-uniformity*
# $\mu_r(f) = \sum_i \hat f_i \log(m \hat f_i)$ with $\hat f = r \odot f / \sum_j r_j f_j$ — the KL
# divergence of $\hat f$ from the uniform distribution over the $m$ losses. Write
# `non_uniformity(f, ray)` for vectors of $m$ positive numbers.

# %%
def non_uniformity(f: torch.Tensor, ray: torch.Tensor) -> torch.Tensor:
    ### BEGIN SOLUTION
    f_hat = ray * f / (ray * f).sum()
    return (f_hat * torch.log(len(f) * f_hat)).sum()
    ### END SOLUTION


# %% tags=["check"]
with check("Q6 non-uniformity", hint="Normalise r ⊙ f to sum to 1 first; the value is 0 exactly when "
           "every r_i f_i is the same."):
    ray = torch.tensor([0.25, 0.75], dtype=torch.float64)
    assert abs(float(non_uniformity(torch.tensor([0.6, 0.2], dtype=torch.float64), ray))) < 1e-12
    off = torch.tensor([0.2, 0.6], dtype=torch.float64)
    assert abs(float(non_uniformity(off, ray)) - float(H.non_uniformity(off, ray))) < 1e-12
    ### BEGIN HIDDEN CHECKS
    gen = torch.Generator().manual_seed(5)
    for m in (2, 3, 5):
        f, r3 = torch.rand(m, generator=gen, dtype=torch.float64) + 0.1, torch.rand(m, generator=gen, dtype=torch.float64) + 0.1
        assert abs(float(non_uniformity(f, r3)) - float(H.non_uniformity(f, r3))) < 1e-12
        assert float(non_uniformity(f, r3)) >= 0
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# $\mu_r = 0$ exactly on the ray ($r_1 f_1 = r_2 f_2 = \dots$) and grows as the weighted losses become
# unequal. EPO balances while $\mu_r$ is above a small threshold, and only then descends.
