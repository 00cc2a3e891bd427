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
# > Work in your own copy (`mlcourse start 07` makes one in `work/` and opens it), and grade the
# > whole notebook from a terminal with `mlcourse grade work/07_optimizer_zoo.ipynb`.

# %% [markdown]
# # 07 · The optimizer zoo and hyperparameter search — exercises
# Seven questions: write Adam's update, tell decoupled weight decay from L2, estimate a Hessian
# diagonal with Hutchinson's trick, compute Hyperband's brackets, write expected improvement and
# CMA-ES's recombination weights, and predict how fast heavy-ball momentum makes each eigen-mode
# of a quadratic converge.

# %%
import math

import torch

import mlcourse
from mlcourse import optimizers as op
from mlcourse import search as hs
from mlcourse.grading import check, one_of

device = mlcourse.setup()
F64 = torch.float64
g = torch.Generator().manual_seed(0)

# %% [markdown]
# ### Q1 · Adam's step
# Write `adam_step(w, grad, state, lr, betas, eps)` for one tensor of weights: return the new weights
# and the new state (a dict you design; `state` is `{}` on the first call). Follow Kingma & Ba (2015)
# with bias correction, and put $\epsilon$ where `torch.optim.Adam` puts it: the check runs your rule
# beside `torch.optim.Adam` for 30 steps in float64 and asks for agreement to $10^{-10}$.

# %% mlcourse={"answer": "adam_step"}
def adam_step(w, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
def adam_gap(lr, betas, eps, steps=30, seed=0):
    """Largest difference between adam_step and torch.optim.Adam along one run on a wavy loss."""
    w0 = torch.randn(7, generator=torch.Generator().manual_seed(seed), dtype=F64)
    loss = lambda w: 0.5 * (w**2).sum() + torch.sin(3 * w).sum()  # noqa: E731
    ours = op.run(adam_step, loss, w0, steps, lr=lr, betas=betas, eps=eps)
    theirs = op.torch_optim_path(torch.optim.Adam, loss, w0, steps, lr=lr, betas=betas, eps=eps)
    return (ours - theirs).abs().max().item()


with check("Q1 Adam's step", hint="Two moving averages, both bias-corrected with the step count t "
           "starting at 1; ε is added after the square root."):
    assert adam_gap(0.05, (0.9, 0.999), 1e-8) < 1e-10
    assert adam_gap(0.01, (0.5, 0.9), 0.1, seed=1) < 1e-10  # a large ε: where it goes matters


# %% [markdown]
# ### Q2 · L2 regularization under Adam
# You train with Adam and either (1) add $\frac{\lambda}{2}\lVert w \rVert^2$ to the loss, or (2) use AdamW with
# decay $\lambda$. Which statement is true? Set `answer_q2` to one letter.
#
# - a) They are the same algorithm; only the scale of $\lambda$ differs.
# - b) With (1) the decay of each weight is divided by $\sqrt{\hat v}$, so weights with a large gradient
#   history are decayed less; (2) shrinks every weight by the same factor $1 - \eta\lambda$ per step.
# - c) With (2) the decay is divided by $\sqrt{\hat v}$, with (1) it is not.
# - d) The two differ for Adam, and they differ in the same way for plain SGD.

# %% mlcourse={"answer": "answer_q2"}
# YOUR CODE HERE: replace each ... with your answer
answer_q2 = ...


# %% tags=["check"]
with check("Q2 AdamW vs L2", hint="Follow the term λw through one step of each algorithm: where does "
           "the division by the second-moment estimate apply?", recorded=True):
    one_of(answer_q2, "abcd")


# %% [markdown]
# ### Q3 · Hutchinson's estimator
# Write `hutchinson(matvec, n, samples, generator)`: estimate the diagonal of a symmetric $n \times n$
# matrix $A$ that you can only multiply with (`matvec(v)` returns $Av$ for a vector $v$), by averaging
# $v \odot Av$ over `samples` Rademacher vectors $v$ drawn with `generator`. Return a float64 tensor of
# shape `(n,)`. (Do not recover $A$ column by column: the check looks at single samples too.)

# %% mlcourse={"answer": "hutchinson"}
def hutchinson(matvec, n, samples, generator):
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q3 Hutchinson", hint="Entries of v are +1 or −1 with equal probability; one sample is "
           "v * matvec(v), and the estimate is their mean."):
    A = torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=F64)
    one = hutchinson(lambda v: A @ v, 2, 1, torch.Generator().manual_seed(3))
    assert one.shape == (2,)
    assert any(torch.allclose(one, torch.tensor(c, dtype=F64)) for c in [(3.0, 3.0), (-1.0, -1.0)])
    many = hutchinson(lambda v: A @ v, 2, 20000, torch.Generator().manual_seed(4))
    assert torch.allclose(many, torch.diagonal(A), atol=0.05)


# %% [markdown]
# ### Q4 · Hyperband's brackets
# Write `bracket_sizes(R, eta)`: for Hyperband with maximum resource $R$ and factor $\eta$ (Li et al.
# 2018, Algorithm 1 — the formula is in the lecture), return one list per bracket $s = s_{\max}, \dots, 0$
# holding the number of configurations $n_i$ in each round. Careful with $\lfloor\log_\eta R\rfloor$ in
# floating point: `math.log(243, 3)` is 4.999….

# %% mlcourse={"answer": "bracket_sizes"}
def bracket_sizes(R, eta):
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
def reference_sizes(R, eta):
    return [[n for n, _ in b] for b in hs.hyperband_brackets(R, eta)]


with check("Q4 Hyperband brackets", hint="Count brackets with integer powers of η rather than a "
           "logarithm; round up the first round of each bracket and down the later ones."):
    assert bracket_sizes(81, 3) == reference_sizes(81, 3)
    assert bracket_sizes(243, 3) == reference_sizes(243, 3)


# %% [markdown]
# ### Q5 · Expected improvement
# For minimization, with the GP's prediction $f(x) \sim \mathcal N(\mu, \sigma^2)$ and the best value
# so far $f^+$, write `ei(mu, sigma, best)` $= \mathbb E[\max(f^+ - f, 0)]$ in closed form, elementwise for
# tensors `mu`, `sigma > 0`. (`torch.distributions.Normal` or `torch.special.ndtr` may help.)

# %% mlcourse={"answer": "ei"}
def ei(mu, sigma, best):
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q5 expected improvement", hint="Integrate (f⁺ − f) against the normal density over the region "
           "f < f⁺, then substitute z = (f⁺ − μ)/σ."):
    mu = torch.tensor([0.0, 0.5, -0.5], dtype=F64)
    sigma = torch.tensor([1.0, 0.5, 2.0], dtype=F64)
    samples = mu + sigma * torch.randn(400_000, 3, generator=torch.Generator().manual_seed(8), dtype=F64)
    assert torch.allclose(ei(mu, sigma, 0.2), (0.2 - samples).clamp_min(0).mean(0), rtol=0.01)


# %% [markdown]
# ### Q6 · CMA-ES's recombination weights
# CMA-ES moves its mean to a weighted average of the best $\mu = \lfloor\lambda/2\rfloor$ of its
# $\lambda$ samples. Hansen's default weights are $w_i \propto \ln\frac{\lambda + 1}{2} - \ln i$ for
# $i = 1, \dots, \mu$ (the best sample first), normalised to sum to 1; the *variance-effective
# selection mass* is $\mu_\text{eff} = 1 / \sum_i w_i^2$. Write `recombination(lam)` returning the
# tensor of weights (float64) and $\mu_\text{eff}$ as a float.

# %% mlcourse={"answer": "recombination"}
def recombination(lam: int) -> tuple[torch.Tensor, float]:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q6 recombination weights", hint="The weights fall off with the logarithm of the rank, "
           "not linearly; μ_eff is computed from the weights after they are normalised."):
    for lam in (6, 9):  # λ = 6 is the 2-D default, 4 + ⌊3 ln 2⌋
        w, mu_eff = recombination(lam)
        es = hs.CMAES(torch.zeros(2, dtype=F64), 0.3, popsize=lam)
        assert w.shape == es.weights.shape and torch.allclose(w.to(F64), es.weights, atol=1e-12)
        assert abs(mu_eff - es.mu_eff) < 1e-10


# %% [markdown]
# ### Q7 · How fast each mode converges under momentum
# On a quadratic, heavy-ball momentum ($b \leftarrow \beta b + g$, $x \leftarrow x - \eta b$) acts on
# each eigen-mode $\lambda$ separately, through the $2 \times 2$ recurrence of the lecture. Write
# `mode_rate(lr, beta, lam)`: the factor $\rho$ by which that mode eventually shrinks per step (the
# largest absolute value among the recurrence's eigenvalues), for floats `lr > 0`, `0 <= beta < 1`,
# `lam > 0`. It must be right where the mode rings too, and above 1 where the run diverges.

# %% mlcourse={"answer": "mode_rate"}
def mode_rate(lr: float, beta: float, lam: float) -> float:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q7 the rate of one mode", hint="Write the step as a linear map of the pair (b, x) for a "
           "single mode; its eigenvalues may be complex."):
    cases = [(1.0, 0.0, 0.5), (3.3, 0.67, 0.01), (3.3, 0.67, 1.0), (1.0, 0.9, 1.0), (0.05, 0.3, 1.0),
             (4.5, 0.5, 1.0), (2.5, 0.0, 1.0)]  # β = 0, the optimum, ringing, real roots, divergence
    for lr, beta, lam in cases:
        assert abs(mode_rate(lr, beta, lam) - float(op.mode_rates(lam, lr, beta))) < 1e-9

