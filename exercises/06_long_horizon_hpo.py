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
# > Work in your own copy (`mlcourse start 06` makes one in `work/` and opens it), and grade the
# > whole notebook from a terminal with `mlcourse grade work/06_long_horizon_hpo.ipynb`.

# %% [markdown]
# # 06 · Gradient-based HPO over long horizons — exercises
# Six questions: one step of forward-mode differentiation, the Neumann series for an inverse
# Hessian, the best sharing window, which method has constant memory, truncated vs persistent
# evolution strategies, and the exact integer arithmetic behind reversible learning. Everything runs
# on the problems of `mlcourse.hpo`.

# %%
import math

import numpy as np
import torch

import mlcourse
from mlcourse import hpo
from mlcourse.grading import check, one_of

device = mlcourse.setup()
problem = hpo.make_problem(device=device)  # 10-d least squares: train_grad, train_hvp, val_loss
dev = problem.theta0.device

# %% [markdown]
# ### Q1 · One step of forward mode
# The inner step is $v' = \mu v + \nabla\mathcal{L}_{train}(\theta)$, $\theta' = \theta - \alpha v'$ with
# $\alpha = e^{\lambda_w}$ for the window $w$ the step belongs to. Write `tangent_step`, which also carries
# the tangents $Z = d\theta/d\lambda$ and $U = dv/d\lambda$ (both of shape `[W, 10]`, one row per
# hyperparameter) through the step and returns `(theta', v', Z', U')`.
# Use `problem.train_grad(theta)` for the gradient and `problem.train_hvp(Z)` for $Z H$ (row-wise
# Hessian products). Remember that $\alpha$ itself depends on $\lambda_w$: $\partial\alpha/\partial\lambda_w = \alpha$.

# %% mlcourse={"answer": "tangent_step"}
def tangent_step(theta, v, Z, U, alpha, w, momentum=0.9):
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
def run_tangents(lam, T, momentum=0.9):
    """Iterate tangent_step over T steps and return Z_T ∇L_val(θ_T)."""
    theta, v = problem.theta0, torch.zeros_like(problem.theta0)
    Z = torch.zeros(len(lam), len(theta), dtype=theta.dtype, device=dev)
    U = torch.zeros_like(Z)
    for t in range(T):
        w = t * len(lam) // T
        theta, v, Z, U = tangent_step(theta, v, Z, U, lam[w].exp(), w, momentum)
    return Z @ torch.func.grad(problem.val_loss)(theta)


with check("Q1 forward-mode tangent step", hint="Differentiate both update lines with respect to λ; "
           "the learning rate depends on λ only through its own window's entry."):
    lam = torch.log(torch.tensor([0.04, 0.02], dtype=torch.float64, device=dev))
    assert torch.allclose(run_tangents(lam, 40), hpo.hypergradient_forward(problem, lam, 40), rtol=1e-9, atol=1e-12)


# %% [markdown]
# ### Q2 · A Neumann-series inverse-Hessian-vector product
# Write `neumann(H, v, alpha, K)` returning $\alpha\sum_{k=0}^{K}(I - \alpha H)^k v$ for a symmetric positive
# definite matrix `H`, using only matrix–vector products (no inverse, no solve).
# Then, for the ridge Hessian below, set `K_needed` to the **smallest** $K$ for which the guarantee
# $(1 - \alpha\lambda_{min})^{K+1} \le 10^{-8}$ holds, with $\alpha = 2/(\lambda_{min} + \lambda_{max})$.

# %%
ridge = hpo.make_ridge(device=device)
H = ridge.hessian(torch.tensor(0.0, dtype=torch.float64, device=dev))
v = torch.linspace(-1, 1, 50, dtype=torch.float64, device=dev)
eig = torch.linalg.eigvalsh(H)
alpha = 2 / float(eig[0] + eig[-1])


# %% mlcourse={"answer": "neumann,rho,K_needed"}
def neumann(H, v, alpha, K):
    # YOUR CODE HERE
    raise NotImplementedError()


# YOUR CODE HERE: replace each ... with your answer
K_needed = ...


# %% tags=["check"]
with check("Q2 Neumann series", hint="Keep the current power (I − αH)^k v as a running term; the sum "
           "starts with k = 0. For K, take logarithms of the bound."):
    assert torch.allclose(neumann(H, v, alpha, 7), hpo.neumann_ihvp(lambda z: H @ z, v, alpha, 7), atol=1e-12)
    r = 1 - alpha * float(eig[0])
    assert r ** (K_needed + 1) <= 1e-8 < r ** K_needed


# %% [markdown]
# ### Q3 · The best sharing window
# Per-step hypergradients have noise $\text{MSE}_1 = 0.04$ and drift by at most $\epsilon = 0.02$ per step.
# Using the bound $\text{MSE}_W \le \text{MSE}_1/W + \epsilon^2(W^2-1)/12$, set `w_star` to the real $W$ that
# minimises it (closed form), `w_best` to the best **integer** window, and `mse_best` to the bound at `w_best`.

# %% mlcourse={"answer": "mse1,eps,w_star,w_best,mse_best"}
# YOUR CODE HERE: replace each ... with your answer
w_star = ...
w_best = ...
mse_best = ...


# %% tags=["check"]
with check("Q3 optimal window", hint="Differentiate the bound with respect to W and set it to zero; "
           "then compare the two integers around the real optimum."):
    assert abs(w_star - hpo.optimal_window(0.04, 0.02)[0]) < 1e-9
    assert w_best == hpo.optimal_window(0.04, 0.02)[1]
    assert abs(mse_best - hpo.sharing_bound(0.04, 0.02, w_best)) < 1e-12

# %% [markdown]
# ### Q4 · Constant memory and the exact hypergradient
# Which method computes the **exact** hypergradient $d\mathcal{L}_{val}(\theta_T)/d\lambda$ of the full
# $T$-step objective with memory that does **not** grow with $T$? Set `answer` to one letter.
#
# - a) reverse mode (backpropagation through the whole unroll)
# - b) truncated backpropagation over the last $K = 10$ steps
# - c) forward-mode differentiation (carrying $d\theta_t/d\lambda$ along)
# - d) greedy hypergradients over a horizon $H = 1$

# %% mlcourse={"answer": "answer"}
# YOUR CODE HERE: replace each ... with your answer
answer = ...


# %% tags=["check"]
with check("Q4 constant memory, exact", hint="Two of the options change the objective; of the other "
           "two, which one stores the trajectory?", recorded=True):
    one_of(answer, "abcd")


# %% [markdown]
# ### Q5 · Truncated vs persistent ES on influence balancing
# Run `hpo.train_es` on `hpo.influence_balancing()` with unroll length $K = 1$ for 3000 outer steps,
# once **without** persistence (`n_particles=200`) and once **with** it (defaults otherwise, `seed=0`).
# Set `theta_es` and `theta_pes` to the final $\theta$ of each run and `closer` to the name of the run
# (`"es"` or `"pes"`) that ends closer to the problem's optimum `.optimum`.

# %%
ib = hpo.influence_balancing(device=device)

# %% mlcourse={"answer": "theta_es,theta_pes,closer"}
# YOUR CODE HERE: replace each ... with your answer
theta_es = ...
theta_pes = ...
closer = ...


# %% tags=["check"]
with check("Q5 truncated vs persistent ES", hint="train_es returns the whole trajectory of θ; "
           "the persistent flag switches between the two estimators."):
    assert abs(theta_pes - hpo.train_es(ib, persistent=True, K=1, steps=3000)[-1]) < 1e-9
    assert abs(theta_es - hpo.train_es(ib, persistent=False, K=1, steps=3000, n_particles=200)[-1]) < 1e-9
    assert closer == ("pes" if abs(theta_pes - ib.optimum) < abs(theta_es - ib.optimum) else "es")

# %% [markdown]
# ### Q6 · Multiply by μ without losing a bit
# Reversible learning multiplies the velocity by $\mu = n/d$ in exact integer arithmetic and keeps
# what the division throws away. Write `mul(x, buffer, n, d)` returning `(y, new_buffer)` with
# $y = \lfloor (x n + (\text{buffer} \bmod n)) / d \rfloor$: first move the lowest base-$n$ digit of
# the buffer into the room that $x n$ makes, then push the remainder of the division by $d$ onto the
# buffer (as its new lowest base-$d$ digit). Then write `unmul(y, buffer, n, d)`, which undoes `mul`.
# Python's integers never overflow.

# %% mlcourse={"answer": "mul,unmul"}
def mul(x: int, buffer: int, n: int, d: int) -> tuple[int, int]:
    # YOUR CODE HERE
    raise NotImplementedError()


def unmul(y: int, buffer: int, n: int, d: int) -> tuple[int, int]:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q6 reversible multiplication", hint="divmod gives quotient and remainder at once; "
           "undo the two steps in the opposite order."):
    for x, b, n, d in [(12345678901234567890, 987654321, 9, 10), (-7, 3, 1, 2), (2**70 + 1, 5**20, 3, 4)]:
        y, b2 = mul(x, b, n, d)
        assert y == (x * n + b % n) // d
        assert unmul(y, b2, n, d) == (x, b)

