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
# > Work in your own copy (`mlcourse start 09` makes one in `work/` and opens it), and grade the
# > whole notebook from a terminal with `mlcourse grade work/09_double_descent.ipynb`.

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

# %% mlcourse={"answer": "min_norm"}
def min_norm(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q1 min-norm least squares", hint="Among all minimizers of ‖y − Xβ‖², take the one with no "
           "component in the null space of X: the pseudo-inverse, or an SVD keeping the nonzero "
           "singular values."):
    for n, d in [(20, 50), (50, 20)]:
        X = torch.randn(n, d, generator=g, dtype=torch.float64)
        y = torch.randn(n, 1, generator=g, dtype=torch.float64)
        assert min_norm(X, y).shape == (d, 1)
        assert torch.allclose(min_norm(X, y), dd.least_squares(X, y), atol=1e-8)


# %% [markdown]
# ### Q2 · The theory curve
# Write `risk_theory(n, d, sigma, beta_norm)`: the expected excess risk of min-norm least squares
# with isotropic Gaussian inputs and noise $\sigma > 0$, as given in the lecture for
# $n \le d - 2$ and $n \ge d + 2$, and `math.inf` in between.

# %% mlcourse={"answer": "risk_theory"}
def risk_theory(n: int, d: int, sigma: float, beta_norm: float = 1.0) -> float:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q2 theory curve", hint="Below the threshold: the bias of the d − n unseen directions plus "
           "a variance term; above it: variance only. Mind the −1 in the denominators."):
    for n in (10, 100, 250, 498, 502, 600, 1000):
        assert math.isclose(risk_theory(n, 500, 0.5), dd.minnorm_risk_theory(n, 500, 0.5), rel_tol=1e-9)
    assert all(risk_theory(n, 500, 0.5) == math.inf for n in (499, 500, 501))


# %% [markdown]
# ### Q3 · The ridge that removes the peak
# Take $d = 300$, $\sigma = 0.8$ and $\|\beta\| = 2$. Find the ridge penalty $\lambda$ (unnormalized:
# $\|y - X\beta\|^2 + \lambda\|\beta\|^2$) that minimizes the risk *at the threshold* $n = d$.
# Search numerically with `dd.ridge_risk_theory(n, d, sigma, ridge, beta_norm)`, or derive it; store
# it in `lam_q3`. The check also verifies that your $\lambda$ makes the theory curve monotone in $n$.

# %% mlcourse={"answer": "lams,lam_q3"}
# YOUR CODE HERE: replace each ... with your answer
lam_q3 = ...


# %% tags=["check"]
with check("Q3 optimal ridge", hint="Evaluate the risk at n = d on a log-spaced grid of λ and take the "
           "minimizer; the lecture's formula for λ* tells you whether you are close."):
    assert abs(math.log(lam_q3 / dd.optimal_ridge(300, 0.8, 2.0))) < 0.02
    curve = [dd.ridge_risk_theory(n, 300, 0.8, lam_q3, 2.0) for n in range(10, 1001, 10)]
    assert all(b < a for a, b in zip(curve, curve[1:]))

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

# %% mlcourse={"answer": "answer_q4"}
# YOUR CODE HERE: replace each ... with your answer
answer_q4 = ...


# %% tags=["check"]
with check("Q4 the peak when the data double", hint="The peak sits where the model can first fit "
           "every training point exactly.", recorded=True):
    one_of(answer_q4, "abcd")


# %% [markdown]
# ### Q5 · A little more data
# Min-norm least squares, $d = 500$, $\sigma = 0.5$, and you have $n = 450$ samples. You can collect
# 50 more. What happens to the expected excess risk? Set `answer_q5` to one letter.
#
# - a) it falls: more data always helps least squares
# - b) it stays the same: the model is still over-parameterized
# - c) it rises sharply (to infinity in expectation): $n = 500$ is the interpolation threshold

# %% mlcourse={"answer": "answer_q5"}
# YOUR CODE HERE: replace each ... with your answer
answer_q5 = ...


# %% tags=["check"]
with check("Q5 more data near the threshold", hint="Compare n with d after the new samples arrive; "
           "what does the noise term of the theory do there?", recorded=True):
    one_of(answer_q5, "abc")


# %% [markdown]
# ### Q6 · One step size per feature
# Heckel & Yilmaz remove epoch-wise double descent by giving feature $j$ the step size
# $\eta_j = \eta / s_j^2$, where $s_j$ is its scale. Write `equalized_step(theta, X, y, scale, lr)`:
# one full-batch gradient-descent step on $\frac{1}{2n}\|X\theta - y\|^2$ with these step sizes.
# Shapes: `theta` [d], `X` [n, d], `y` [n], `scale` [d].

# %% mlcourse={"answer": "equalized_step"}
def equalized_step(theta, X, y, scale, lr):
    # YOUR CODE HERE
    raise NotImplementedError()



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
