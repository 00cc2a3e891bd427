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
# > Work in your own copy (`mlcourse start 02` makes one in `work/` and opens it), and grade the
# > whole notebook from a terminal with `mlcourse grade work/02_evidence_estimation.ipynb`.

# %% [markdown]
# # 02 · Evidence estimation during gradient descent — exercises
# Five questions on the entropy term of the GD evidence bound: compute it from a Hessian, estimate it
# from Hessian-vector products, find where it stops being a bound, and read the stopping step off a
# trajectory. Reference implementations live in `mlcourse.evidence`; the checks compare against them.

# %%
import warnings

import numpy as np
import torch

import mlcourse
from mlcourse import evidence as ev
from mlcourse import hyperparams as hp
from mlcourse.grading import check, one_of

device = mlcourse.setup()

# Lecture 01's regression: degree-9 polynomial, alpha = 5e-3, beta = 11.1; H is the loss Hessian.
x_data, t_data = hp.sine_data()
Phi = hp.polynomial_design(x_data, 9)
H = 5e-3 * torch.eye(10, dtype=torch.float64) + 11.1 * Phi.T @ Phi
lam_max = torch.linalg.eigvalsh(H).max().item()


def random_hessian(seed: int, d: int = 6) -> torch.Tensor:
    """A random symmetric matrix with eigenvalues in [-1, 3] (a non-convex Hessian)."""
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    return (Q * (4 * torch.rand(d, generator=g, dtype=torch.float64) - 1)) @ Q.T


# %% [markdown]
# ### Q1 · The bound from the Hessian
# Write `entropy_bound(H, lr)`: the second-order lower bound $-\eta\operatorname{tr}H - \eta^2\operatorname{tr}(H^2)$ on
# $\log|\det(I - \eta H)|$, as a Python float, for a symmetric torch matrix `H`. No eigenvalues needed.

# %%
def entropy_bound(H: torch.Tensor, lr: float) -> float:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q1 the bound from H", hint="Two traces: of H and of H times itself; mind the power of lr."):
    assert abs(entropy_bound(H, 0.5 / lam_max) - ev.logdet_step_bound(H, 0.5 / lam_max)) < 1e-9


# %% [markdown]
# ### Q2 · One probe, one Hessian-vector product
# Write `one_probe(hvp, r, lr)`: the unbiased single-probe estimate of that bound, given a function
# `hvp(v)` returning $Hv$ and a probe vector `r` with $\mathbb E[rr^\top] = I$. Call `hvp` **once**. Return a
# 0-dimensional tensor.

# %%
def one_probe(hvp, r: torch.Tensor, lr: float) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
calls = []


def counting_hvp(v: torch.Tensor) -> torch.Tensor:
    calls.append(1)
    return H @ v


with check("Q2 the single-probe estimator", hint="E[rᵀAr] = tr A for any matrix A. Write the bound as the "
           "trace of one matrix, then express rᵀ(that matrix)r with the single product Hr."):
    g = torch.Generator().manual_seed(0)
    lr = 0.5 / lam_max
    probes = 2 * torch.randint(0, 2, (2000, 10), generator=g).to(torch.float64) - 1
    values = torch.stack([one_probe(counting_hvp, r, lr) for r in probes])
    assert len(calls) == len(probes)
    assert torch.allclose(values, ev.probe_bound(probes, probes @ H, lr))
    assert abs(values.mean() - ev.logdet_step_bound(H, lr)) < 3 * values.std() / len(values) ** 0.5

# %% [markdown]
# ### Q3 · Where the bound stops being a bound
# Per eigenvalue, $-x - x^2 \le \log(1-x)$ holds for $x = \eta\lambda \le 0.684$. For a whole matrix that is
# sufficient, not necessary: small eigenvalues add slack. For lecture 01's `H`, with $\eta = c/\lambda_{\max}$,
# find numerically (e.g. bisection with `ev.logdet_step_bound` and `ev.logdet_step_exact`) the largest
# `c_star` for which the bound is still $\le$ the exact value, to within $10^{-3}$.
# (Above 0.684 `logdet_step_bound` warns; silence it with `warnings.catch_warnings()`.)

# %%
# YOUR CODE HERE: replace each ... with your answer
c_star = ...


# %% tags=["check"]
with check("Q3 the validity limit for this H", hint="Bisect on the sign of bound − exact between c = 0.5 "
           "(a bound) and c = 0.99 (not one)."):
    with warnings.catch_warnings(record=True):  # recorded, so not printed
        below, above = (c_star - 1e-3) / lam_max, (c_star + 1e-3) / lam_max
        assert ev.logdet_step_bound(H, below) <= ev.logdet_step_exact(H, below)
        assert ev.logdet_step_bound(H, above) > ev.logdet_step_exact(H, above)


# %% [markdown]
# ### Q4 · The early-stopping step from a trajectory
# `gd_evidence` returns each run's evidence estimate as a `[steps + 1, runs]` tensor. Write
# `early_stopping_step(evidence_runs)` returning `(step, se)`: the step where the **mean over runs**
# is largest, and the standard error of that mean at that step (sample standard deviation over runs
# divided by $\sqrt{r}$). Return a Python `int` and `float`.

# %%
def early_stopping_step(evidence_runs: torch.Tensor) -> tuple[int, float]:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
linear = torch.nn.Linear(10, 1, bias=False).double()
trace = ev.gd_evidence(linear, Phi, t_data, lr=0.5 / lam_max, steps=200, runs=16,
                       noise_std=11.1**-0.5, prior_std=5e-3**-0.5, seed=0)

with check("Q4 the early-stopping step", hint="Average over the runs axis first, then take the argmax; "
           "the standard error uses that step's row only."):
    step, se = early_stopping_step(trace.evidence_runs)
    assert isinstance(step, int) and step == trace.evidence_peak
    assert abs(se - trace.evidence_se[step].item()) < 1e-9


# %% [markdown]
# ### Q5 · What is the slides' formula?
# The lecture slides write the per-step entropy change as $-\beta\operatorname{Tr}H - \beta^2\operatorname{Tr}(HH)$ ($\beta$ = learning
# rate). Set `answer` to one letter:
#
# - a) the exact value of $\log|\det(I - \beta H)|$
# - b) its Taylor expansion to second order
# - c) a lower bound on it, valid while $\beta\lambda_{\max}$ stays below about 0.68
# - d) an upper bound on it, valid for every $\beta$

# %%
# YOUR CODE HERE: replace each ... with your answer
answer = ...


# %% tags=["check"]
with check("Q5 the slides' formula", hint="Compare the quadratic term with the series of log(1 - x), "
           "and look at the lecture's plot of the three curves.", recorded=True):
    one_of(answer, "abcd")

