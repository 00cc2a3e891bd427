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
# # 01 · Hyperparameters vs metaparameters — exercises
# Six questions on lecture 01: two implementations (the log evidence and one step of MacKay's
# re-estimation), two classifications with their reasons, and two counts of what a black-box
# search costs. All use the lecture's data: ten noisy samples of $\sin 2\pi x$ (seed 0).

# %%
import math

import torch

import mlcourse
from mlcourse import hyperparams as hp
from mlcourse.grading import FormError, check, one_of

device = mlcourse.setup()

x, t = hp.sine_data(n=10, noise=0.3, seed=0)
Phi3, Phi9 = hp.polynomial_design(x, 3), hp.polynomial_design(x, 9)

# %% [markdown]
# ### Q1 · The log evidence
# Implement PRML eq. 3.86 for the model $p(\mathbf w\mid\alpha) = \mathcal N(0, \alpha^{-1}I)$,
# $p(\mathbf t\mid\mathbf w, \beta) = \mathcal N(\Phi\mathbf w, \beta^{-1}I)$, for a design matrix with
# $D$ columns (a polynomial of degree $M$ has $D = M + 1$; PRML writes $M$ for $D$):
# $$\ln p(\mathbf t\mid\alpha,\beta) = \tfrac{D}{2}\ln\alpha + \tfrac N2 \ln\beta - E(\mathbf m_N)
# - \tfrac12 \ln|A| - \tfrac N2 \ln 2\pi,$$
# with $A = \alpha I + \beta\Phi^\top\Phi$, $\mathbf m_N = \beta A^{-1}\Phi^\top\mathbf t$ and
# $E(\mathbf m_N) = \tfrac\beta2\lVert\mathbf t-\Phi\mathbf m_N\rVert^2 + \tfrac\alpha2 \mathbf m_N^\top\mathbf m_N$.
# `Phi` is a float64 tensor of shape `[N, D]`, `t` of shape `[N]`; return a Python `float`.
# Write it yourself with `torch`: the check compares against `hp.log_evidence`, so calling it teaches nothing.

# %%
def log_evidence(Phi: torch.Tensor, t: torch.Tensor, alpha: float, beta: float) -> float:
    ### BEGIN SOLUTION
    N, D = Phi.shape
    A = alpha * torch.eye(D, dtype=Phi.dtype) + beta * Phi.T @ Phi
    m_N = beta * torch.linalg.solve(A, Phi.T @ t)
    E = beta / 2 * torch.sum((t - Phi @ m_N) ** 2) + alpha / 2 * (m_N @ m_N)
    return float(D / 2 * math.log(alpha) + N / 2 * math.log(beta) - E
                 - torch.logdet(A) / 2 - N / 2 * math.log(2 * math.pi))
    ### END SOLUTION


# %% tags=["check"]
with check("Q1 log evidence", hint="Five terms. Count the weights from the shape of Phi, and check which "
           "precision multiplies which term; the result must be a plain Python float."):
    for P in (Phi3, Phi9):
        value = log_evidence(P, t, 5e-3, 11.1)
        assert isinstance(value, float) and abs(value - hp.log_evidence(P, t, 5e-3, 11.1)) < 1e-8
    assert abs(log_evidence(Phi3, t, 2.0, 0.5) - hp.log_evidence(Phi3, t, 2.0, 0.5)) < 1e-8
    ### BEGIN HIDDEN CHECKS
    Phi0 = hp.polynomial_design(x, 0)
    assert abs(log_evidence(Phi0, t, 1.0, 2.0) - hp.log_evidence(Phi0, t, 1.0, 2.0)) < 1e-8
    ### END HIDDEN CHECKS

# %% [markdown]
# ### Q2 · One step of MacKay's re-estimation
# Write `reestimate_step(Phi, t, alpha, beta)` returning `(alpha_new, beta_new, gamma)` as floats
# (PRML 3.91, 3.92, 3.95):
# $$\gamma = \sum_i \frac{\lambda_i}{\alpha+\lambda_i},\qquad
# \alpha_{\text{new}} = \frac{\gamma}{\mathbf m_N^\top\mathbf m_N},\qquad
# \frac{1}{\beta_{\text{new}}} = \frac{\lVert\mathbf t - \Phi\mathbf m_N\rVert^2}{N-\gamma},$$
# where $\lambda_i$ are the eigenvalues of $\beta\Phi^\top\Phi$ and $\mathbf m_N$ the posterior
# mean at the *current* $(\alpha, \beta)$. The check iterates your step to its fixed point.

# %%
def reestimate_step(Phi: torch.Tensor, t: torch.Tensor, alpha: float, beta: float) -> tuple[float, float, float]:
    ### BEGIN SOLUTION
    N, M = Phi.shape
    lam = beta * torch.linalg.eigvalsh(Phi.T @ Phi)
    gamma = float(torch.sum(lam / (alpha + lam)))
    m_N = hp.posterior(Phi, t, alpha, beta)[0]
    alpha_new = gamma / float(m_N @ m_N)
    beta_new = (N - gamma) / float(torch.sum((t - Phi @ m_N) ** 2))
    return alpha_new, beta_new, gamma
    ### END SOLUTION


# %% tags=["check"]
def _iterate(step, Phi, t, alpha=1.0, beta=1.0, n=3000):
    for _ in range(n):
        alpha, beta, _gamma = step(Phi, t, alpha, beta)
    return alpha, beta


with check("Q2 re-estimation step", hint="gamma counts well-determined directions from the data term of the "
                                         "curvature; every quantity is taken at the current alpha and beta."):
    a_star, b_star, g_star = hp.reestimate(Phi9, t)
    a1, b1, g1 = reestimate_step(Phi9, t, a_star, b_star)
    assert abs(a1 / a_star - 1) < 1e-6 and abs(b1 / b_star - 1) < 1e-6  # a fixed point stays put
    assert abs(g1 - hp.effective_parameters(Phi9, a_star, b_star)) < 1e-8
    a, b = _iterate(reestimate_step, Phi9, t)
    assert abs(a / a_star - 1) < 1e-5 and abs(b / b_star - 1) < 1e-5  # from (1, 1) it gets there
    ### BEGIN HIDDEN CHECKS
    a3, b3, _ = hp.reestimate(Phi3, t)
    a, b = _iterate(reestimate_step, Phi3, t, 0.1, 20.0)
    assert abs(a / a3 - 1) < 1e-5 and abs(b / b3 - 1) < 1e-5
    assert abs(reestimate_step(Phi3, t, 2.0, 5.0)[2] - hp.effective_parameters(Phi3, 2.0, 5.0)) < 1e-8
    ### END HIDDEN CHECKS

# %% [markdown]
# ### Q3 · Hyper or meta?
# Classify each quantity with the lecture's criterion: a hyperparameter (`h`) if the evidence
# $p(\mathcal D\mid\mathbf h)$ depends on it, a metaparameter (`m`) if it only changes what we compute
# from the model. Set `answer` to four letters in order, e.g. `"hhmm"`.
#
# 1. $\alpha$ in $p(\mathbf w\mid\alpha) = \mathcal N(\mathbf w \mid 0, \alpha^{-1} I)$.
# 2. The number of SGD steps after which training is stopped.
# 3. The momentum coefficient of the optimizer.
# 4. The keep-probability of a Bernoulli distribution over which units exist, when that
#    distribution is *declared as the prior* over structures $\Gamma$.

# %%
### BEGIN SOLUTION
answer = "hmmh"
### END SOLUTION

# %% tags=["check"]
with check("Q3 classify", hint="Write the evidence as an integral and ask of each quantity whether it "
                               "appears inside it.", recorded=True):
    if not (isinstance(answer, str) and len(answer.strip()) == 4 and set(answer.strip().lower()) <= set("hm")):
        raise FormError(f"the answer is four letters, each h or m (as a string), got {answer!r}")
    ### BEGIN HIDDEN CHECKS
    assert answer.strip().lower() == "hmmh"
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# **Why:** (1) and (4) parametrize the prior over weights and over structures, so the evidence
# $\int p(\mathcal D\mid\mathbf w,\Gamma)p(\mathbf w,\Gamma\mid\mathbf h)$ changes with them. (2) and (3)
# only change the path of the optimizer; the evidence, the loss and its minimizer do not depend on
# them (early stopping changes *where we stop*, not what we minimize).

# %% [markdown]
# ### Q4 · The Gumbel-softmax temperature
# A Gumbel-softmax distribution $q_\tau(\Gamma)$ over network structures is used as the
# *variational* distribution in variational inference. Which one-line justification of the
# temperature $\tau$'s status is right? Set `answer_tau` to one letter.
#
# - a) Hyperparameter: it is a parameter of a distribution over the structure $\Gamma$.
# - b) Neither: it is annealed towards zero during training, so its value does not matter.
# - c) Metaparameter: $q_\tau$ is the approximation being optimized, not the prior; $\tau$ changes
#   the ELBO and how we optimize (bias of the relaxation vs variance of its gradients), not the evidence.
# - d) Hyperparameter: it is chosen on validation data.

# %%
### BEGIN SOLUTION
answer_tau = "c"
### END SOLUTION

# %% tags=["check"]
with check("Q4 temperature", hint="Apply the lecture's one criterion to tau: which quantity does "
                                  "changing it change?", recorded=True):
    one_of(answer_tau, "abcd")
    ### BEGIN HIDDEN CHECKS
    assert answer_tau.strip().lower() == "c"
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# **Why:** (a) confuses the variational distribution with the prior: the evidence does not contain
# $q$, the ELBO does; (b) annealing schedules are themselves metaparameters and do matter; (d) anything
# can be chosen on validation data — that says how a quantity is chosen, not what it is.

# %% [markdown]
# ### Q5 · Grid vs random search: evaluations to a tolerance
# A search over $\ln\alpha \in [-12, 4]$ must return a point within `TOL = 0.05` of the optimum,
# which may lie anywhere in the interval.
# - `k_grid`: the smallest number of evenly spaced grid points (both ends included, as
#   `hp.grid_points` makes them) that *guarantees* a grid point within `TOL` of any optimum.
# - `n_random_90`: the smallest number of uniform random evaluations that put at least one point
#   within `TOL` of an interior optimum with probability at least 0.9.
#
# Both are integers; use a formula, then confirm with `hp.grid_points`, `hp.random_points`.

# %%
LO, HI, TOL = -12.0, 4.0, 0.05
### BEGIN SOLUTION
k_grid = math.ceil((HI - LO) / (2 * TOL)) + 1
n_random_90 = math.ceil(math.log(0.1) / math.log(1 - 2 * TOL / (HI - LO)))
### END SOLUTION

# %% tags=["check"]
def _share_within(n, runs=400):
    """Share of random-search runs on the lecture's evidence curve that get within TOL in n evaluations."""
    alpha_fp = hp.reestimate(Phi9, t, 1.0, 11.1, fit_beta=False)[0]
    f = lambda ln_a: hp.evidence_over_alpha(Phi9, t, ln_a, 11.1)  # noqa: E731
    hits = [hp.evaluations_needed(hp.running_best(f, hp.random_points(LO, HI, n, seed=s)), math.log(alpha_fp), TOL)
            for s in range(runs)]
    return sum(h is not None for h in hits) / runs


with check("Q5 grid vs random", hint="A grid leaves gaps of one spacing: where can the worst optimum sit? "
                                     "A random point misses the window with a fixed probability each time, "
                                     "independently of the others."):
    assert isinstance(k_grid, int) and isinstance(n_random_90, int) and 1 < n_random_90 <= 5000
    spacing = float(hp.grid_points(LO, HI, k_grid)[1] - hp.grid_points(LO, HI, k_grid)[0])
    coarser = float(hp.grid_points(LO, HI, k_grid - 1)[1] - hp.grid_points(LO, HI, k_grid - 1)[0])
    assert spacing / 2 <= TOL + 1e-12 < coarser / 2
    # the definition of n_random_90, then a simulation on the lecture's evidence curve
    window = 2 * TOL / (HI - LO)  # chance that one uniform point lands within TOL of an interior optimum
    assert 1 - (1 - window) ** n_random_90 >= 0.9 > 1 - (1 - window) ** (n_random_90 - 1)
    assert _share_within(n_random_90) >= 0.85

# %% [markdown] tags=["solution-only"]
# **Why:** a grid of $k$ points has spacing $16/(k-1)$; the worst optimum is half a spacing away, so
# $k - 1 \ge 16/0.1$, $k = 161$. A random point lands in the $0.1$-wide window with probability
# $p = 1/160$; all $n$ miss with probability $(1-p)^n \le 0.1$ for $n \ge 368$. In one dimension the
# grid's guarantee is cheaper than random search's 90 % — the lecture's experiment agrees.

# %% [markdown]
# ### Q6 · Where random search wins
# Now search two metaparameters, $(\ln\alpha, u)$, with 400 evaluations, where the objective
# happens not to depend on $u$ at all. How many *distinct* values of $\ln\alpha$ does a
# $20\times 20$ grid evaluate, and how many do 400 uniform random points evaluate (with probability
# one)? Set `distinct_grid` and `distinct_random` to integers.

# %%
### BEGIN SOLUTION
distinct_grid, distinct_random = 20, 400
### END SOLUTION

# %% tags=["check"]
with check("Q6 distinct values", hint="Project the 400 points onto the ln alpha axis and count how many "
                                      "different positions you see."):
    grid_u = {float(a) for a in hp.grid_points(-12.0, 4.0, 20) for _ in range(20)}
    random_u = {float(a) for a in hp.random_points(-12.0, 4.0, 400, seed=0)}
    assert int(distinct_grid) == len(grid_u) and int(distinct_random) == len(random_u)

# %% [markdown] tags=["solution-only"]
# **Why:** a $20\times20$ grid repeats each of its 20 values of $\ln\alpha$ for 20 values of $u$ —
# 380 evaluations are wasted on a coordinate that does not matter. Random points almost surely have
# 400 different coordinates. This is Bergstra & Bengio's (2012) argument for random search.
