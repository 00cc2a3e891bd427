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

# %%
def adam_step(w, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    ### BEGIN SOLUTION
    b1, b2 = betas
    t = state.get("t", 0) + 1
    m = b1 * state.get("m", torch.zeros_like(w)) + (1 - b1) * grad
    v = b2 * state.get("v", torch.zeros_like(w)) + (1 - b2) * grad**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return w - lr * m_hat / (v_hat.sqrt() + eps), {"t": t, "m": m, "v": v}
    ### END SOLUTION


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
    ### BEGIN HIDDEN CHECKS
    assert adam_gap(0.2, (0.0, 0.99), 1e-3, seed=2) < 1e-10
    ### END HIDDEN CHECKS

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

# %%
### BEGIN SOLUTION
answer_q2 = "b"
### END SOLUTION

# %% tags=["check"]
with check("Q2 AdamW vs L2", hint="Follow the term λw through one step of each algorithm: where does "
           "the division by the second-moment estimate apply?", recorded=True):
    one_of(answer_q2, "abcd")
    ### BEGIN HIDDEN CHECKS
    assert answer_q2.strip().lower() == "b"
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# Under (1) the gradient $g + \lambda w$ goes through Adam's normalization, so the decay becomes
# $\eta\lambda w / (\sqrt{\hat v} + \epsilon)$. AdamW applies $w \leftarrow w(1 - \eta\lambda)$ outside it
# (Loshchilov & Hutter 2019). For SGD, L2 and decay coincide. The lecture shows it numerically.

# %% [markdown]
# ### Q3 · Hutchinson's estimator
# Write `hutchinson(matvec, n, samples, generator)`: estimate the diagonal of a symmetric $n \times n$
# matrix $A$ that you can only multiply with (`matvec(v)` returns $Av$ for a vector $v$), by averaging
# $v \odot Av$ over `samples` Rademacher vectors $v$ drawn with `generator`. Return a float64 tensor of
# shape `(n,)`. (Do not recover $A$ column by column: the check looks at single samples too.)

# %%
def hutchinson(matvec, n, samples, generator):
    ### BEGIN SOLUTION
    total = torch.zeros(n, dtype=F64)
    for _ in range(samples):
        v = torch.randint(0, 2, (n,), generator=generator).to(F64) * 2 - 1
        total += v * matvec(v)
    return total / samples
    ### END SOLUTION


# %% tags=["check"]
with check("Q3 Hutchinson", hint="Entries of v are +1 or −1 with equal probability; one sample is "
           "v * matvec(v), and the estimate is their mean."):
    A = torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=F64)
    one = hutchinson(lambda v: A @ v, 2, 1, torch.Generator().manual_seed(3))
    assert one.shape == (2,)
    assert any(torch.allclose(one, torch.tensor(c, dtype=F64)) for c in [(3.0, 3.0), (-1.0, -1.0)])
    many = hutchinson(lambda v: A @ v, 2, 20000, torch.Generator().manual_seed(4))
    assert torch.allclose(many, torch.diagonal(A), atol=0.05)
    ### BEGIN HIDDEN CHECKS
    D = torch.diag(torch.tensor([2.0, -3.0, 0.5, 7.0], dtype=F64))
    assert torch.allclose(hutchinson(lambda v: D @ v, 4, 1, torch.Generator().manual_seed(5)), torch.diagonal(D))
    M = torch.randn(5, 5, generator=g, dtype=F64)
    M = M + M.T
    ref = op.hutchinson_diag(lambda v: M @ v, 5, 20000, generator=torch.Generator().manual_seed(6))
    assert torch.allclose(hutchinson(lambda v: M @ v, 5, 20000, torch.Generator().manual_seed(7)), ref, atol=0.1)
    ### END HIDDEN CHECKS

# %% [markdown]
# ### Q4 · Hyperband's brackets
# Write `bracket_sizes(R, eta)`: for Hyperband with maximum resource $R$ and factor $\eta$ (Li et al.
# 2018, Algorithm 1 — the formula is in the lecture), return one list per bracket $s = s_{\max}, \dots, 0$
# holding the number of configurations $n_i$ in each round. Careful with $\lfloor\log_\eta R\rfloor$ in
# floating point: `math.log(243, 3)` is 4.999….

# %%
def bracket_sizes(R, eta):
    ### BEGIN SOLUTION
    s_max = 0
    while eta ** (s_max + 1) <= R:
        s_max += 1
    sizes = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) * eta**s / (s + 1))
        sizes.append([n // eta**i for i in range(s + 1)])
    return sizes
    ### END SOLUTION


# %% tags=["check"]
def reference_sizes(R, eta):
    return [[n for n, _ in b] for b in hs.hyperband_brackets(R, eta)]


with check("Q4 Hyperband brackets", hint="Count brackets with integer powers of η rather than a "
           "logarithm; round up the first round of each bracket and down the later ones."):
    assert bracket_sizes(81, 3) == reference_sizes(81, 3)
    assert bracket_sizes(243, 3) == reference_sizes(243, 3)
    ### BEGIN HIDDEN CHECKS
    for R, eta in [(27, 3), (1000, 10), (64, 2), (100, 4)]:
        assert bracket_sizes(R, eta) == reference_sizes(R, eta)
    ### END HIDDEN CHECKS

# %% [markdown]
# ### Q5 · Expected improvement
# For minimization, with the GP's prediction $f(x) \sim \mathcal N(\mu, \sigma^2)$ and the best value
# so far $f^+$, write `ei(mu, sigma, best)` $= \mathbb E[\max(f^+ - f, 0)]$ in closed form, elementwise for
# tensors `mu`, `sigma > 0`. (`torch.distributions.Normal` or `torch.special.ndtr` may help.)

# %%
def ei(mu, sigma, best):
    ### BEGIN SOLUTION
    z = (best - mu) / sigma
    pdf = torch.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    return (best - mu) * torch.special.ndtr(z) + sigma * pdf
    ### END SOLUTION


# %% tags=["check"]
with check("Q5 expected improvement", hint="Integrate (f⁺ − f) against the normal density over the region "
           "f < f⁺, then substitute z = (f⁺ − μ)/σ."):
    mu = torch.tensor([0.0, 0.5, -0.5], dtype=F64)
    sigma = torch.tensor([1.0, 0.5, 2.0], dtype=F64)
    samples = mu + sigma * torch.randn(400_000, 3, generator=torch.Generator().manual_seed(8), dtype=F64)
    assert torch.allclose(ei(mu, sigma, 0.2), (0.2 - samples).clamp_min(0).mean(0), rtol=0.01)
    ### BEGIN HIDDEN CHECKS
    mu2, sigma2 = torch.randn(50, generator=g, dtype=F64), torch.rand(50, generator=g, dtype=F64) + 0.05
    assert torch.allclose(ei(mu2, sigma2, -0.3), hs.expected_improvement(mu2, sigma2, -0.3), atol=1e-10)
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# With $z = (f^+ - \mu)/\sigma$: $\mathbb E[\max(f^+ - f, 0)] = \int_{-\infty}^{z} \sigma (z - u)\varphi(u)\,du
# = (f^+ - \mu)\Phi(z) + \sigma\varphi(z)$ (Jones et al. 1998), using $\int_{-\infty}^{z} u\,\varphi(u)\,du = -\varphi(z)$.

# %% [markdown]
# ### Q6 · CMA-ES's recombination weights
# CMA-ES moves its mean to a weighted average of the best $\mu = \lfloor\lambda/2\rfloor$ of its
# $\lambda$ samples. Hansen's default weights are $w_i \propto \ln\frac{\lambda + 1}{2} - \ln i$ for
# $i = 1, \dots, \mu$ (the best sample first), normalised to sum to 1; the *variance-effective
# selection mass* is $\mu_\text{eff} = 1 / \sum_i w_i^2$. Write `recombination(lam)` returning the
# tensor of weights (float64) and $\mu_\text{eff}$ as a float.

# %%
def recombination(lam: int) -> tuple[torch.Tensor, float]:
    ### BEGIN SOLUTION
    mu = lam // 2
    w = math.log((lam + 1) / 2) - torch.log(torch.arange(1, mu + 1, dtype=F64))
    w = w / w.sum()
    return w, float(1 / (w**2).sum())
    ### END SOLUTION


# %% tags=["check"]
with check("Q6 recombination weights", hint="The weights fall off with the logarithm of the rank, "
           "not linearly; μ_eff is computed from the weights after they are normalised."):
    for lam in (6, 9):  # λ = 6 is the 2-D default, 4 + ⌊3 ln 2⌋
        w, mu_eff = recombination(lam)
        es = hs.CMAES(torch.zeros(2, dtype=F64), 0.3, popsize=lam)
        assert w.shape == es.weights.shape and torch.allclose(w.to(F64), es.weights, atol=1e-12)
        assert abs(mu_eff - es.mu_eff) < 1e-10
    ### BEGIN HIDDEN CHECKS
    for lam in (7, 10, 17):
        es = hs.CMAES(torch.zeros(2, dtype=F64), 0.3, popsize=lam)
        w, mu_eff = recombination(lam)
        assert torch.allclose(w, es.weights, atol=1e-12) and abs(mu_eff - es.mu_eff) < 1e-10
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# The weights fall off logarithmically with the rank, and $1 < \mu_\text{eff} < \mu$: with $\lambda = 6$,
# $w = (0.64, 0.28, 0.08)$ and $\mu_\text{eff} \approx 2.0$. $\mu_\text{eff}$ sets the learning rates of
# the covariance ($c_1, c_\mu$) and of the step size ($c_\sigma$).

# %% [markdown]
# ### Q7 · How fast each mode converges under momentum
# On a quadratic, heavy-ball momentum ($b \leftarrow \beta b + g$, $x \leftarrow x - \eta b$) acts on
# each eigen-mode $\lambda$ separately, through the $2 \times 2$ recurrence of the lecture. Write
# `mode_rate(lr, beta, lam)`: the factor $\rho$ by which that mode eventually shrinks per step (the
# largest absolute value among the recurrence's eigenvalues), for floats `lr > 0`, `0 <= beta < 1`,
# `lam > 0`. It must be right where the mode rings too, and above 1 where the run diverges.

# %%
def mode_rate(lr: float, beta: float, lam: float) -> float:
    ### BEGIN SOLUTION
    M = torch.tensor([[beta, lam], [-lr * beta, 1 - lr * lam]], dtype=F64)
    return float(torch.linalg.eigvals(M).abs().max())
    ### END SOLUTION


# %% tags=["check"]
with check("Q7 the rate of one mode", hint="Write the step as a linear map of the pair (b, x) for a "
           "single mode; its eigenvalues may be complex."):
    cases = [(1.0, 0.0, 0.5), (3.3, 0.67, 0.01), (3.3, 0.67, 1.0), (1.0, 0.9, 1.0), (0.05, 0.3, 1.0),
             (4.5, 0.5, 1.0), (2.5, 0.0, 1.0)]  # β = 0, the optimum, ringing, real roots, divergence
    for lr, beta, lam in cases:
        assert abs(mode_rate(lr, beta, lam) - float(op.mode_rates(lam, lr, beta))) < 1e-9
    ### BEGIN HIDDEN CHECKS
    for lr, beta, lam in [(2.0, 0.0, 1.5), (0.3, 0.99, 2.0), (6.0, 0.2, 1.0)]:
        assert abs(mode_rate(lr, beta, lam) - float(op.mode_rates(lam, lr, beta))) < 1e-9
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# The pair $(b, x)$ of one mode evolves as $M = \begin{pmatrix}\beta & \lambda \\ -\eta\beta & 1 - \eta\lambda\end{pmatrix}$,
# whose eigenvalues solve $t^2 - (1 + \beta - \eta\lambda)t + \beta = 0$. With complex roots both have
# $|t| = \sqrt\beta$: the mode rings at a rate set by $\beta$ alone. Check your intuition: at the
# lecture's optimum ($\eta \approx 3.31$, $\beta \approx 0.67$) both modes of the valley have rate $9/11$.
