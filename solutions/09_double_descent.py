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
# # 09 · Double descent — exercises
# Six questions: write the min-norm least-squares solution and the theory curve of its risk, find
# the ridge penalty that removes the peak, say where the peak moves when the data change and what a
# few more samples do near the threshold, and write the step that removes epoch-wise double descent.
# Setting as in the lecture: $x \sim \mathcal N(0, I_d)$, $y = x^\top\beta + \sigma\varepsilon$,
# excess risk $\|\hat\beta - \beta\|^2$.

# %%
import math

import numpy as np
import torch

import mlcourse
from mlcourse import double_descent as dd
from mlcourse.grading import check, one_of

device = mlcourse.setup()
g = torch.Generator().manual_seed(0)

# %% [markdown]
# ### Q1 · The min-norm solution
# Write `min_norm(X, y)`: for `X` of shape `(n, d)` and `y` of shape `(n, 1)`, return the
# least-squares solution of smallest Euclidean norm, shape `(d, 1)`. It must work for $n < d$
# (then it interpolates), for $n > d$, and when `X` has linearly dependent columns. Write it
# yourself (`torch.linalg` is allowed); `dd.least_squares` is what the check compares against.

# %%
def min_norm(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    ### BEGIN SOLUTION
    U, S, Vh = torch.linalg.svd(X, full_matrices=False)
    keep = S > S.max() * max(X.shape) * torch.finfo(X.dtype).eps  # drop the null directions
    return Vh[keep].T @ ((U[:, keep].T @ y) / S[keep].unsqueeze(1))
    ### END SOLUTION


# %% tags=["check"]
with check("Q1 min-norm least squares", hint="Among all minimizers of ‖y − Xβ‖², take the one with no "
           "component in the null space of X: the pseudo-inverse, or an SVD keeping the nonzero "
           "singular values."):
    for n, d in [(20, 50), (50, 20)]:
        X = torch.randn(n, d, generator=g, dtype=torch.float64)
        y = torch.randn(n, 1, generator=g, dtype=torch.float64)
        assert min_norm(X, y).shape == (d, 1)
        assert torch.allclose(min_norm(X, y), dd.least_squares(X, y), atol=1e-8)
    ### BEGIN HIDDEN CHECKS
    X = torch.randn(40, 10, generator=g, dtype=torch.float64)
    X = torch.cat([X, X[:, :3]], dim=1)  # duplicated columns: many least-squares solutions
    y = torch.randn(40, 1, generator=g, dtype=torch.float64)
    assert torch.allclose(min_norm(X, y), dd.least_squares(X, y), atol=1e-8)
    ### END HIDDEN CHECKS

# %% [markdown]
# ### Q2 · The theory curve
# Write `risk_theory(n, d, sigma, beta_norm)`: the expected excess risk of min-norm least squares
# with isotropic Gaussian inputs and noise $\sigma > 0$, as given in the lecture for
# $n \le d - 2$ and $n \ge d + 2$, and `math.inf` in between.

# %%
def risk_theory(n: int, d: int, sigma: float, beta_norm: float = 1.0) -> float:
    ### BEGIN SOLUTION
    if n <= d - 2:
        return beta_norm**2 * (1 - n / d) + sigma**2 * n / (d - n - 1)
    if n >= d + 2:
        return sigma**2 * d / (n - d - 1)
    return math.inf
    ### END SOLUTION


# %% tags=["check"]
with check("Q2 theory curve", hint="Below the threshold: the bias of the d − n unseen directions plus "
           "a variance term; above it: variance only. Mind the −1 in the denominators."):
    for n in (10, 100, 250, 498, 502, 600, 1000):
        assert math.isclose(risk_theory(n, 500, 0.5), dd.minnorm_risk_theory(n, 500, 0.5), rel_tol=1e-9)
    assert all(risk_theory(n, 500, 0.5) == math.inf for n in (499, 500, 501))
    ### BEGIN HIDDEN CHECKS
    for n, d, sigma, b in [(30, 80, 1.3, 2.0), (200, 80, 0.2, 5.0), (1, 3, 0.7, 0.5)]:
        assert math.isclose(risk_theory(n, d, sigma, b), dd.minnorm_risk_theory(n, d, sigma, b),
                            rel_tol=1e-12)
    ### END HIDDEN CHECKS

# %% [markdown]
# ### Q3 · The ridge that removes the peak
# Take $d = 300$, $\sigma = 0.8$ and $\|\beta\| = 2$. Find the ridge penalty $\lambda$ (unnormalized:
# $\|y - X\beta\|^2 + \lambda\|\beta\|^2$) that minimizes the risk *at the threshold* $n = d$.
# Search numerically with `dd.ridge_risk_theory(n, d, sigma, ridge, beta_norm)`, or derive it; store
# it in `lam_q3`. The check also verifies that your $\lambda$ makes the theory curve monotone in $n$.

# %%
### BEGIN SOLUTION
lams = np.geomspace(1e-2, 1e4, 4001)
lam_q3 = float(lams[np.argmin([dd.ridge_risk_theory(300, 300, 0.8, lam, 2.0) for lam in lams])])
print(f"λ = {lam_q3:.1f}")
### END SOLUTION

# %% tags=["check"]
with check("Q3 optimal ridge", hint="Evaluate the risk at n = d on a log-spaced grid of λ and take the "
           "minimizer; the lecture's formula for λ* tells you whether you are close."):
    assert abs(math.log(lam_q3 / dd.optimal_ridge(300, 0.8, 2.0))) < 0.02
    curve = [dd.ridge_risk_theory(n, 300, 0.8, lam_q3, 2.0) for n in range(10, 1001, 10)]
    assert all(b < a for a, b in zip(curve, curve[1:]))

# %% [markdown] tags=["solution-only"]
# The minimizer is $\lambda^* = d\sigma^2/\|\beta\|^2 = 300 \cdot 0.64 / 4 = 48$ — the same for every
# $n$ (Nakkiran et al. 2021): the posterior mean under the prior $\beta \sim \mathcal N(0, \|\beta\|^2/d\, I)$.

# %% [markdown]
# ### Q4 · More data moves the peak
# The lecture's random-features model has its peak at $p = 100$ with $n = 100$ training points.
# You double the training set to $n = 200$ and sweep $p$ again. Where is the peak of the min-norm
# test error now? Set `answer_q4` to one letter (you may check with `dd.random_features_curve`).
#
# - a) still at $p = 100$: the peak belongs to the model family
# - b) at $p = 200$
# - c) at $p = 50$
# - d) there is no peak any more: more data removes it

# %%
### BEGIN SOLUTION
answer_q4 = "b"
### END SOLUTION

# %% tags=["check"]
with check("Q4 the peak when the data double", hint="The peak sits where the model can first fit "
           "every training point exactly.", recorded=True):
    one_of(answer_q4, "abcd")
    ### BEGIN HIDDEN CHECKS
    assert answer_q4.strip().lower() == "b"
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# The interpolation threshold is $p = n$: with 200 points, 200 features are needed to fit them all.
# A model with $p = 200$ that sat comfortably past the old peak now sits right on the new one —
# more data hurt it. Check:

# %% tags=["solution-only"]
ps = [100, 150, 190, 200, 210, 250]
mse = dd.random_features_curve(ps, n_train=200, draws=5, n_test=500, seed=0)
print("peak at p =", ps[int(torch.argmax(mse))])

# %% [markdown]
# ### Q5 · A little more data
# Min-norm least squares, $d = 500$, $\sigma = 0.5$, and you have $n = 450$ samples. You can collect
# 50 more. What happens to the expected excess risk? Set `answer_q5` to one letter.
#
# - a) it falls: more data always helps least squares
# - b) it stays the same: the model is still over-parameterized
# - c) it rises sharply (to infinity in expectation): $n = 500$ is the interpolation threshold

# %%
### BEGIN SOLUTION
answer_q5 = "c"
### END SOLUTION

# %% tags=["check"]
with check("Q5 more data near the threshold", hint="Compare n with d after the new samples arrive; "
           "what does the noise term of the theory do there?", recorded=True):
    one_of(answer_q5, "abc")
    ### BEGIN HIDDEN CHECKS
    assert answer_q5.strip().lower() == "c"
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# At $n = d$ the square matrix $X$ has singular values near zero and the interpolant amplifies the
# noise without bound: the theory is infinite for $d - 2 < n < d + 2$. At $n = 450$ it is
# $0.1 + 0.25 \cdot 450/49 \approx 2.4$. Going *past* the threshold (say $n = 600$) brings it back
# to about $1.26$, and the optimal ridge avoids the whole problem.

# %% [markdown]
# ### Q6 · One step size per feature
# Heckel & Yilmaz remove epoch-wise double descent by giving feature $j$ the step size
# $\eta_j = \eta / s_j^2$, where $s_j$ is its scale. Write `equalized_step(theta, X, y, scale, lr)`:
# one full-batch gradient-descent step on $\frac{1}{2n}\|X\theta - y\|^2$ with these step sizes.
# Shapes: `theta` [d], `X` [n, d], `y` [n], `scale` [d].

# %%
def equalized_step(theta, X, y, scale, lr):
    ### BEGIN SOLUTION
    return theta - lr / scale**2 * (X.T @ (X @ theta - y)) / len(y)
    ### END SOLUTION


# %% tags=["check"]
with check("Q6 equalized step sizes", hint="Start from one plain gradient-descent step on the loss "
           "above; the only change is that each coordinate gets its own step size."):
    scale = torch.cat([torch.ones(5, dtype=torch.float64), torch.full((3,), 0.1, dtype=torch.float64)])
    Z = torch.randn(30, 8, generator=g, dtype=torch.float64)
    y = torch.randn(30, generator=g, dtype=torch.float64)
    theta = torch.randn(8, generator=g, dtype=torch.float64)
    # in whitened coordinates u = s ⊙ θ (features z = x / s) it is plain gradient descent
    u = scale * theta
    plain = u - 0.1 * Z.T @ (Z @ u - y) / 30
    assert torch.allclose(scale * equalized_step(theta, Z * scale, y, scale, 0.1), plain, atol=1e-12)

# %% [markdown] tags=["solution-only"]
# With $x = s \odot z$, the step $\theta \leftarrow \theta - \eta D X^\top(X\theta - y)/n$,
# $D = \mathrm{diag}(1/s^2)$, is plain gradient descent on $u = s \odot \theta$ with the unit-scale
# features $z$: every feature is learned on the same time scale, and the bump between the two descents
# disappears. `dd.epochwise_curve(equalize=True)` does this for the lecture's two groups.
