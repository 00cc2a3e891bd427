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
    ### BEGIN SOLUTION
    return float(-lr * torch.trace(H) - lr**2 * torch.trace(H @ H))
    ### END SOLUTION


# %% tags=["check"]
with check("Q1 the bound from H", hint="Two traces: of H and of H times itself; mind the power of lr."):
    assert abs(entropy_bound(H, 0.5 / lam_max) - ev.logdet_step_bound(H, 0.5 / lam_max)) < 1e-9
    ### BEGIN HIDDEN CHECKS
    for seed in range(3):
        Hs = random_hessian(seed)
        assert abs(entropy_bound(Hs, 0.1) - ev.logdet_step_bound(Hs, 0.1)) < 1e-9
    ### END HIDDEN CHECKS

# %% [markdown]
# ### Q2 · One probe, one Hessian-vector product
# Write `one_probe(hvp, r, lr)`: the unbiased single-probe estimate of that bound, given a function
# `hvp(v)` returning $Hv$ and a probe vector `r` with $\mathbb E[rr^\top] = I$. Call `hvp` **once**. Return a
# 0-dimensional tensor.

# %%
def one_probe(hvp, r: torch.Tensor, lr: float) -> torch.Tensor:
    ### BEGIN SOLUTION
    Hr = hvp(r)
    return -lr * (r @ Hr) - lr**2 * (Hr @ Hr)
    ### END SOLUTION


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
### BEGIN SOLUTION
def gap(c: float) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return ev.logdet_step_bound(H, c / lam_max) - ev.logdet_step_exact(H, c / lam_max)


lo, hi = 0.5, 0.99  # gap(lo) < 0 < gap(hi)
while hi - lo > 1e-6:
    mid = (lo + hi) / 2
    lo, hi = (mid, hi) if gap(mid) <= 0 else (lo, mid)
c_star = lo
### END SOLUTION

# %% tags=["check"]
with check("Q3 the validity limit for this H", hint="Bisect on the sign of bound − exact between c = 0.5 "
           "(a bound) and c = 0.99 (not one)."):
    with warnings.catch_warnings(record=True):  # recorded, so not printed
        below, above = (c_star - 1e-3) / lam_max, (c_star + 1e-3) / lam_max
        assert ev.logdet_step_bound(H, below) <= ev.logdet_step_exact(H, below)
        assert ev.logdet_step_bound(H, above) > ev.logdet_step_exact(H, above)
    ### BEGIN HIDDEN CHECKS
    assert c_star > ev.BOUND_LIMIT
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# `c_star ≈ 0.697`, a little above the per-eigenvalue limit 0.684: the nine smaller eigenvalues each
# contribute a positive slack $\log(1-x) - (-x - x^2)$ that pays for the top one's violation for a while.
# In a network you cannot count on that slack, so `gd_evidence` watches $\eta\lambda_{\max}$ instead.

# %% [markdown]
# ### Q4 · The early-stopping step from a trajectory
# `gd_evidence` returns each run's evidence estimate as a `[steps + 1, runs]` tensor. Write
# `early_stopping_step(evidence_runs)` returning `(step, se)`: the step where the **mean over runs**
# is largest, and the standard error of that mean at that step (sample standard deviation over runs
# divided by $\sqrt{r}$). Return a Python `int` and `float`.

# %%
def early_stopping_step(evidence_runs: torch.Tensor) -> tuple[int, float]:
    ### BEGIN SOLUTION
    mean = evidence_runs.mean(1)
    step = int(mean.argmax())
    return step, float(evidence_runs[step].std() / evidence_runs.shape[1] ** 0.5)
    ### END SOLUTION


# %% tags=["check"]
linear = torch.nn.Linear(10, 1, bias=False).double()
trace = ev.gd_evidence(linear, Phi, t_data, lr=0.5 / lam_max, steps=200, runs=16,
                       noise_std=11.1**-0.5, prior_std=5e-3**-0.5, seed=0)

with check("Q4 the early-stopping step", hint="Average over the runs axis first, then take the argmax; "
           "the standard error uses that step's row only."):
    step, se = early_stopping_step(trace.evidence_runs)
    assert isinstance(step, int) and step == trace.evidence_peak
    assert abs(se - trace.evidence_se[step].item()) < 1e-9
    ### BEGIN HIDDEN CHECKS
    exact = ev.linear_gaussian_elbo(Phi, t_data, 5e-3, 11.1, 0.5 / lam_max, 300)[:, None]
    assert early_stopping_step(torch.cat([exact, exact], 1))[0] == int(exact.argmax())
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# On this 16-run linear example the estimate peaks at step 97 with a standard error of about 22 nats.
# The curve it estimates (the exact ELBO with each step's log-det replaced by the bound) peaks at
# step 114, and is within 5 nats of its top over dozens of steps: with few runs the stopping *step* is
# only loosely determined. More runs, or averaging the estimate over a window of steps, tighten it.

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
### BEGIN SOLUTION
answer = "c"
### END SOLUTION

# %% tags=["check"]
with check("Q5 the slides' formula", hint="Compare the quadratic term with the series of log(1 - x), "
           "and look at the lecture's plot of the three curves.", recorded=True):
    one_of(answer, "abcd")
    ### BEGIN HIDDEN CHECKS
    assert answer.strip().lower() == "c"
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# (c). The series has $-\beta^2\operatorname{tr}H^2/2$; doubling that term turns the truncation into a lower
# bound ($\log(1-x) \ge -x - x^2$ for $x \le 0.684$), which keeps the ELBO a lower bound.
