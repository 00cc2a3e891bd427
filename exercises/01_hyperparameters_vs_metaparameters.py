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
# > Work in your own copy (`mlcourse start 01` makes one in `work/` and opens it), and grade the
# > whole notebook from a terminal with `mlcourse grade work/01_hyperparameters_vs_metaparameters.ipynb`.

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

# %% mlcourse={"answer": "log_evidence"}
def log_evidence(Phi: torch.Tensor, t: torch.Tensor, alpha: float, beta: float) -> float:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q1 log evidence", hint="Five terms. Count the weights from the shape of Phi, and check which "
           "precision multiplies which term; the result must be a plain Python float."):
    for P in (Phi3, Phi9):
        value = log_evidence(P, t, 5e-3, 11.1)
        assert isinstance(value, float) and abs(value - hp.log_evidence(P, t, 5e-3, 11.1)) < 1e-8
    assert abs(log_evidence(Phi3, t, 2.0, 0.5) - hp.log_evidence(Phi3, t, 2.0, 0.5)) < 1e-8


# %% [markdown]
# ### Q2 · One step of MacKay's re-estimation
# Write `reestimate_step(Phi, t, alpha, beta)` returning `(alpha_new, beta_new, gamma)` as floats
# (PRML 3.91, 3.92, 3.95):
# $$\gamma = \sum_i \frac{\lambda_i}{\alpha+\lambda_i},\qquad
# \alpha_{\text{new}} = \frac{\gamma}{\mathbf m_N^\top\mathbf m_N},\qquad
# \frac{1}{\beta_{\text{new}}} = \frac{\lVert\mathbf t - \Phi\mathbf m_N\rVert^2}{N-\gamma},$$
# where $\lambda_i$ are the eigenvalues of $\beta\Phi^\top\Phi$ and $\mathbf m_N$ the posterior
# mean at the *current* $(\alpha, \beta)$. The check iterates your step to its fixed point.

# %% mlcourse={"answer": "reestimate_step"}
def reestimate_step(Phi: torch.Tensor, t: torch.Tensor, alpha: float, beta: float) -> tuple[float, float, float]:
    # YOUR CODE HERE
    raise NotImplementedError()



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

# %% mlcourse={"answer": "answer"}
# YOUR CODE HERE: replace each ... with your answer
answer = ...


# %% tags=["check"]
with check("Q3 classify", hint="Write the evidence as an integral and ask of each quantity whether it "
                               "appears inside it.", recorded=True):
    if not (isinstance(answer, str) and len(answer.strip()) == 4 and set(answer.strip().lower()) <= set("hm")):
        raise FormError(f"the answer is four letters, each h or m (as a string), got {answer!r}")


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

# %% mlcourse={"answer": "answer_tau"}
# YOUR CODE HERE: replace each ... with your answer
answer_tau = ...


# %% tags=["check"]
with check("Q4 temperature", hint="Apply the lecture's one criterion to tau: which quantity does "
                                  "changing it change?", recorded=True):
    one_of(answer_tau, "abcd")


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

# %% mlcourse={"answer": "k_grid,n_random_90"}
LO, HI, TOL = -12.0, 4.0, 0.05
# YOUR CODE HERE: replace each ... with your answer
k_grid = ...
n_random_90 = ...


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

# %% [markdown]
# ### Q6 · Where random search wins
# Now search two metaparameters, $(\ln\alpha, u)$, with 400 evaluations, where the objective
# happens not to depend on $u$ at all. How many *distinct* values of $\ln\alpha$ does a
# $20\times 20$ grid evaluate, and how many do 400 uniform random points evaluate (with probability
# one)? Set `distinct_grid` and `distinct_random` to integers.

# %% mlcourse={"answer": "distinct_grid,distinct_random"}
# YOUR CODE HERE: replace each ... with your answer
distinct_grid = ...
distinct_random = ...


# %% tags=["check"]
with check("Q6 distinct values", hint="Project the 400 points onto the ln alpha axis and count how many "
                                      "different positions you see."):
    grid_u = {float(a) for a in hp.grid_points(-12.0, 4.0, 20) for _ in range(20)}
    random_u = {float(a) for a in hp.random_points(-12.0, 4.0, 400, seed=0)}
    assert int(distinct_grid) == len(grid_u) and int(distinct_random) == len(random_u)
