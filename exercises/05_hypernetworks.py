# ---
# jupyter:
#   jupytext:
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
# > **Exercises.** Replace each `...` and each `raise NotImplementedError()` with your answer, then run
# > the check cell below it: ✓, or ✗ with a hint. *Run All* runs every check, answered or not.
# > Work in your own copy (`mlcourse start 05` makes one in `work/` and opens it), and grade the
# > whole notebook from a terminal with `mlcourse grade work/05_hypernetworks.ipynb`.

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

# %% mlcourse={"answer": "ridge_best_response"}
def ridge_best_response(X, y, log_lam):
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q1 ridge best response", hint="Write the gradient of each of the two terms with respect to w, "
           "set their sum to zero and collect what multiplies w."):
    assert torch.allclose(ridge_best_response(X, y, 0.28), H.best_response(X, y, 0.28), atol=1e-10)


# %% [markdown]
# ### Q2 · The 2-D hypervolume
# Write `hypervolume(points, ref)`: the area of the set of loss vectors $(u_1, u_2)$ with
# $u \le \mathrm{ref}$ that are dominated by at least one of the `points` (a NumPy array `[k, 2]`,
# both losses minimised), i.e. $\{u : \exists p,\; p_1 \le u_1 \le r_1,\; p_2 \le u_2 \le r_2\}$.
# Points outside the reference box contribute nothing. Return a float. Hint: sort by the first loss
# and sweep.

# %% mlcourse={"answer": "hypervolume"}
def hypervolume(points, ref=(1.0, 1.0)):
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q2 hypervolume", hint="Sweep the points in order of the first loss and keep track of the "
           "lowest second loss seen so far; what lies outside the box adds nothing."):
    pts = np.random.default_rng(0).uniform(0, 1, size=(15, 2))
    assert abs(hypervolume(pts) - H.hypervolume_2d(pts)) < 1e-12
    pts2 = np.random.default_rng(1).uniform(0, 1.3, size=(40, 2))  # some points leave the box
    assert abs(hypervolume(pts2, ref=(1.2, 1.1)) - H.hypervolume_2d(pts2, ref=(1.2, 1.1))) < 1e-12
    assert abs(hypervolume(np.array([[0.5, 0.5], [1.5, 0.2]])) - 0.25) < 1e-12  # (1.5, 0.2) lies outside


# %% [markdown]
# ### Q3 · The STN layer's weight matrix
# A Self-Tuning Network layer has $\hat W(\lambda) = W_{elem} + (V\lambda) \odot_{row} W_{hyper}$: the vector
# $V\lambda$ (one entry per output unit) scales the **rows** of $W_{hyper}$. Write
# `stn_weight(W_elem, W_hyper, V, lam)` with shapes `[out, in]`, `[out, in]`, `[out, h]`, `[h]`,
# returning `[out, in]`.

# %% mlcourse={"answer": "stn_weight"}
def stn_weight(W_elem, W_hyper, V, lam):
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q3 STN weight", hint="Compute Vλ first; then broadcast it so that entry i multiplies "
           "row i of W_hyper."):
    torch.manual_seed(0)
    layer = H.STNLinear(5, 4, 3).double()
    lam = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64)
    mine = stn_weight(layer.elem.weight, layer.hyper.weight, layer.V, lam)
    assert torch.allclose(mine, layer.weight(lam), atol=1e-12)


# %% [markdown]
# ### Q4 · What can a Self-Tuning Network tune?
# An STN trains the weights $\hat{\mathbf{w}}_\varphi(\lambda)$ and the metaparameters $\lambda$ jointly in a
# single run. Which of these can it **not** tune? Set `answer` to one letter.
#
# - a) the dropout rate of a hidden layer
# - b) the learning rate of the optimiser that trains the weights
# - c) the strength of a continuous data augmentation (e.g. contrast)
# - d) the weight-decay coefficient

# %% mlcourse={"answer": "answer"}
# YOUR CODE HERE: replace each ... with your answer
answer = ...


# %% tags=["check"]
with check("Q4 what an STN cannot tune", hint="The bilevel problem was collapsed into one training run: "
           "which of these only acts on how an inner training loop moves, not on what the trained "
           "model computes?", recorded=True):
    one_of(answer, "abcd")


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

# %% mlcourse={"answer": "ls_point,answer5"}
# YOUR CODE HERE: replace each ... with your answer
ls_point = ...
answer5 = ...


# %% tags=["check"]
with check("Q5 linear scalarisation on a concave front", hint="Evaluate the weighted sum at every "
           "front point and take the index of its minimum; then look at the two losses of that point.", recorded=True):
    scores = H.linear_scalarization(front, r)
    assert torch.isclose(H.linear_scalarization(ls_point, r), scores.min())
    one_of(answer5, "abc")


# %% [markdown]
# ### Q6 · How far from the ray?
# EPO measures how far a loss vector $f$ is from the preference ray $r$ by the *non-uniformity*
# $\mu_r(f) = \sum_i \hat f_i \log(m \hat f_i)$ with $\hat f = r \odot f / \sum_j r_j f_j$ — the KL
# divergence of $\hat f$ from the uniform distribution over the $m$ losses. Write
# `non_uniformity(f, ray)` for vectors of $m$ positive numbers.

# %% mlcourse={"answer": "non_uniformity"}
def non_uniformity(f: torch.Tensor, ray: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q6 non-uniformity", hint="Normalise r ⊙ f to sum to 1 first; the value is 0 exactly when "
           "every r_i f_i is the same."):
    ray = torch.tensor([0.25, 0.75], dtype=torch.float64)
    assert abs(float(non_uniformity(torch.tensor([0.6, 0.2], dtype=torch.float64), ray))) < 1e-12
    off = torch.tensor([0.2, 0.6], dtype=torch.float64)
    assert abs(float(non_uniformity(off, ray)) - float(H.non_uniformity(off, ray))) < 1e-12

