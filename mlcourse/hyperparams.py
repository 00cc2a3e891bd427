"""Hyperparameters chosen by the evidence: Bayesian polynomial regression (Bishop, PRML §3.3–3.5).

The model of the lecture. Inputs x, targets t, a polynomial of degree M with basis functions
φ(x) = (x⁰, …, x^M) collected in the design matrix Φ ∈ ℝ^{N×D}, D = M + 1 columns (PRML's chapter-3
formulas write M for this number of basis functions; here M is always the degree), and

    prior       p(w | α)    = N(w | 0, α⁻¹ I)             α: precision of the prior — a hyperparameter
    likelihood  p(t | w, β) = N(t | Φ w, β⁻¹ I)           β: precision of the noise
    evidence    p(t | α, β) = N(t | 0, β⁻¹ I + α⁻¹ Φ Φᵀ)  (w integrated out)

Type-II maximum likelihood picks (α, β) — and the degree M, a structural hyperparameter — by
maximizing the evidence. MacKay's fixed point (PRML 3.91–3.95) does it without a search; the black-box
alternative (grid or random search over ln α) is here too, to count evaluations. Gradient descent on
the same posterior (:func:`gd_weights`) shows what a metaparameter is: its learning rate and number of
steps move the weights it returns, never the evidence.

Everything is float64 torch; functions accept numpy arrays or tensors and keep the device of their
input (``device=`` where data is created).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch.func import vmap
from mlcourse.inputs import checked, count, each, nonnegative, number_or_each, positive, size, tensor

Array = np.ndarray | torch.Tensor
DTYPE = torch.float64


# ---------------------------------------------------------------- data and basis


@checked(n=size, noise=nonnegative)
def sine_data(n: int = 10, noise: float = 0.3, seed: int = 0,
              device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """PRML's running example: x = linspace(0, 1, n), t = sin 2πx + ε, ε ~ N(0, noise²).

    The noise comes from ``numpy.random.default_rng(seed)`` so that every machine draws the same t.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    x = np.linspace(0.0, 1.0, n)
    t = np.sin(2 * np.pi * x) + np.random.default_rng(seed).normal(0.0, noise, n)
    return (torch.as_tensor(x, dtype=DTYPE, device=device),
            torch.as_tensor(t, dtype=DTYPE, device=device))


def _vector(v: Array, name: str) -> torch.Tensor:
    v = torch.as_tensor(v, dtype=DTYPE)
    if v.ndim != 1:
        raise ValueError(f"{name} must be a vector of shape [N], got shape {list(v.shape)}")
    return v


@checked(shapes=dict(x="N"))
def polynomial_design(x: Array, degree: int) -> torch.Tensor:
    """Design matrix Φ of shape [N, degree + 1]: Φ[n, j] = x_n^j, columns x⁰ … x^degree."""
    if degree < 0:
        raise ValueError(f"degree must be >= 0, got {degree}")
    x = _vector(x, "x")
    return x[:, None] ** torch.arange(degree + 1, dtype=DTYPE, device=x.device)


def _check(Phi: Array, t: Array, alpha: float, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    Phi, t = torch.as_tensor(Phi, dtype=DTYPE), torch.as_tensor(t, dtype=DTYPE)
    if Phi.ndim != 2:
        raise ValueError(f"Phi must be a matrix of shape [N, D], got shape {list(Phi.shape)}")
    t = _vector(t, "t").to(Phi.device)
    if t.shape[0] != Phi.shape[0]:
        raise ValueError(f"shapes do not match: Phi has {Phi.shape[0]} rows but t has {t.shape[0]} entries")
    if not alpha > 0:
        raise ValueError(f"alpha (prior precision) must be > 0, got {alpha}")
    if not beta > 0:
        raise ValueError(f"beta (noise precision) must be > 0, got {beta}")
    return Phi, t


# ---------------------------------------------------------------- posterior and evidence


def _posterior(Phi: torch.Tensor, t: torch.Tensor, alpha: torch.Tensor, beta: torch.Tensor):
    """A = αI + βΦᵀΦ (PRML 3.81), its Cholesky factor L, and m_N = β A⁻¹ Φᵀ t (3.84)."""
    A = alpha * torch.eye(Phi.shape[1], dtype=DTYPE, device=Phi.device) + beta * Phi.T @ Phi
    L = torch.linalg.cholesky(A)
    m = beta * torch.cholesky_solve((Phi.T @ t)[:, None], L)[:, 0]
    return m, L


@checked(alpha=positive, beta=positive)
def posterior(Phi: Array, t: Array, alpha: float, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior p(w | t) = N(w | m_N, S_N): S_N⁻¹ = αI + βΦᵀΦ, m_N = β S_N Φᵀ t (PRML 3.53–3.54)."""
    Phi, t = _check(Phi, t, alpha, beta)
    m, L = _posterior(Phi, t, torch.as_tensor(alpha, dtype=DTYPE), torch.as_tensor(beta, dtype=DTYPE))
    return m, torch.cholesky_inverse(L)


def _log_evidence(Phi: torch.Tensor, t: torch.Tensor, alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """ln p(t | α, β) = D/2 ln α + N/2 ln β − E(m_N) − ½ ln|A| − N/2 ln 2π   (PRML 3.86),

    with E(m_N) = β/2 ‖t − Φ m_N‖² + α/2 m_Nᵀ m_N (3.82) and D the number of basis functions
    (columns of Φ; PRML writes M). Pure tensor function: ``vmap`` maps it over a batch of α or β.
    """
    N, D = Phi.shape
    m, L = _posterior(Phi, t, alpha, beta)
    E = beta / 2 * ((t - Phi @ m) ** 2).sum() + alpha / 2 * (m @ m)
    log_det_A = 2 * torch.log(torch.diagonal(L)).sum()
    return (D / 2 * torch.log(alpha) + N / 2 * torch.log(beta) - E - log_det_A / 2
            - N / 2 * math.log(2 * math.pi))


@checked(alpha=positive, beta=positive)
def log_evidence(Phi: Array, t: Array, alpha: float, beta: float) -> float:
    """Log marginal likelihood ln p(t | α, β) of the Bayesian linear model (PRML 3.86)."""
    Phi, t = _check(Phi, t, alpha, beta)
    return float(_log_evidence(Phi, t, torch.as_tensor(alpha, dtype=DTYPE, device=Phi.device),
                               torch.as_tensor(beta, dtype=DTYPE, device=Phi.device)))


@checked(alpha=positive, beta=positive)
def marginal_log_density(Phi: Array, t: Array, alpha: float, beta: float) -> float:
    """The same evidence computed the direct way: the density of t under the Gaussian marginal
    N(t | 0, β⁻¹I + α⁻¹ΦΦᵀ) (PRML 3.85 before the completing of the square), an N×N computation."""
    Phi, t = _check(Phi, t, alpha, beta)
    C = torch.eye(len(t), dtype=DTYPE, device=Phi.device) / beta + Phi @ Phi.T / alpha
    return float(torch.distributions.MultivariateNormal(torch.zeros_like(t), C).log_prob(t))


@checked(beta=positive)
def predictive(Phi_star: Array, mean: Array, cov: Array, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior predictive at new inputs: mean Φ* m_N, std √(1/β + φᵀ S_N φ) (PRML 3.58–3.59)."""
    Phi_star, mean, cov = (torch.as_tensor(a, dtype=DTYPE) for a in (Phi_star, mean, cov))
    if Phi_star.ndim != 2 or mean.shape != (Phi_star.shape[1],) or cov.shape != (len(mean), len(mean)):
        raise ValueError(f"shapes do not match: Phi_star {list(Phi_star.shape)}, mean {list(mean.shape)}, "
                         f"cov {list(cov.shape)} (expected [K, D], [D], [D, D])")
    if not beta > 0:
        raise ValueError(f"beta (noise precision) must be > 0, got {beta}")
    var = 1 / beta + ((Phi_star @ cov) * Phi_star).sum(1)
    return Phi_star @ mean, var.sqrt()


@checked(degrees=each(count), alpha=positive, beta=positive, shapes=dict(x="N", t="N"))
def evidence_by_degree(x: Array, t: Array, degrees: range | list[int], alpha: float, beta: float) -> torch.Tensor:
    """ln p(t | α, β, M) for each polynomial degree M — PRML Fig. 3.14's curve."""
    return torch.tensor([log_evidence(polynomial_design(x, M), t, alpha, beta) for M in degrees], dtype=DTYPE)


def _eigen_means(Phi: torch.Tensor, t: torch.Tensor, ln_alphas: torch.Tensor, beta: float):
    """m_N for a batch of α at once. In the eigenbasis ΦᵀΦ uᵢ = sᵢ uᵢ (PRML 3.87) the posterior
    decouples: with cᵢ = uᵢᵀΦᵀt, m_N has coordinates β cᵢ / (α + β sᵢ). One O(D³) eigendecomposition
    serves every α. Returns s [D], c [D], U [D, D] and the coordinates [K, D]."""
    s, U = torch.linalg.eigh(Phi.T @ Phi)
    s = s.clamp(min=0)
    c = U.T @ (Phi.T @ t)
    return s, c, U, beta * c / (ln_alphas.exp()[:, None] + beta * s)


@checked(beta=positive, shapes=dict(ln_alphas="A"))
def evidence_over_alpha(Phi: Array, t: Array, ln_alphas: Array, beta: float) -> torch.Tensor:
    """ln p(t | α, β) (PRML 3.86) at every α = exp(ln_alphas), β fixed, in O(D) per α once the
    eigenbasis is known: ln|A| = Σᵢ ln(α + β sᵢ). What a 1-D search over ln α needs."""
    Phi, t = _check(Phi, t, 1.0, beta)
    ln_alphas = _vector(ln_alphas, "ln_alphas").to(Phi.device)
    N, D = Phi.shape
    s, c, _, m = _eigen_means(Phi, t, ln_alphas, beta)
    alpha = ln_alphas.exp()
    sq_residual = t @ t - 2 * (m * c).sum(1) + (s * m**2).sum(1)  # ‖t − Φ m_N‖²
    E = beta / 2 * sq_residual + alpha / 2 * (m**2).sum(1)
    log_det_A = torch.log(alpha[:, None] + beta * s).sum(1)
    return (D / 2 * ln_alphas + N / 2 * math.log(beta) - E - log_det_A / 2
            - N / 2 * math.log(2 * math.pi))


@checked(n_draws=size, degrees=each(count), alpha=positive, beta=positive, n=size, noise=nonnegative)
def best_degree_counts(n_draws: int, degrees: range = range(10), alpha: float = 5e-3, beta: float = 11.1,
                       n: int = 10, noise: float = 0.3) -> torch.Tensor:
    """How often each degree maximizes the evidence over noise draws with seeds 0 … n_draws − 1.

    Returns counts[k] = number of draws whose evidence argmax is ``degrees[k]``.
    """
    if n_draws < 1:
        raise ValueError(f"n_draws must be >= 1, got {n_draws}")
    x, _ = sine_data(n, noise)
    T = torch.stack([sine_data(n, noise, seed)[1] for seed in range(n_draws)])  # [draws, N]
    a, b = torch.as_tensor(alpha, dtype=DTYPE), torch.as_tensor(beta, dtype=DTYPE)
    ev = torch.stack([vmap(lambda t, P=polynomial_design(x, M): _log_evidence(P, t, a, b))(T)
                      for M in degrees], dim=1)  # [draws, degrees]
    return torch.bincount(ev.argmax(1), minlength=len(degrees))


# ---------------------------------------------------------------- MacKay's fixed point


@checked(alpha=positive, beta=positive, shapes=dict(Phi="N M"))
def effective_parameters(Phi: Array, alpha: float, beta: float) -> float:
    """γ = Σᵢ λᵢ / (α + λᵢ), λᵢ the eigenvalues of βΦᵀΦ: how many w are pinned by data (PRML 3.91)."""
    Phi = torch.as_tensor(Phi, dtype=DTYPE)
    lam = beta * torch.linalg.eigvalsh(Phi.T @ Phi).clamp(min=0)
    return float((lam / (alpha + lam)).sum())


@checked(alpha=positive, beta=positive, tol=positive, max_iter=size)
def reestimate(Phi: Array, t: Array, alpha: float = 1.0, beta: float = 1.0, *, fit_beta: bool = True,
               tol: float = 1e-10, max_iter: int = 10_000) -> tuple[float, float, float]:
    """Type-II ML by MacKay's fixed-point iterations (PRML 3.91–3.95; MacKay 1992):

        γ = Σᵢ λᵢ / (α + λᵢ),   α ← γ / m_Nᵀ m_N,   1/β ← ‖t − Φ m_N‖² / (N − γ).

    Iterates from (alpha, beta) until both move by less than ``tol`` (relative); with
    ``fit_beta=False`` only α moves. Returns (α, β, γ) at the fixed point, a stationary point of
    the evidence. Raises RuntimeError if ``max_iter`` iterations do not converge.
    """
    Phi, t = _check(Phi, t, alpha, beta)
    N = Phi.shape[0]
    eig = torch.linalg.eigvalsh(Phi.T @ Phi).clamp(min=0)  # λᵢ / β: computed once
    alpha_, beta_ = torch.as_tensor(alpha, dtype=DTYPE), torch.as_tensor(beta, dtype=DTYPE)
    for _ in range(max_iter):
        m, _L = _posterior(Phi, t, alpha_, beta_)
        lam = beta_ * eig
        gamma = (lam / (alpha_ + lam)).sum()
        new_alpha = gamma / (m @ m)
        new_beta = (N - gamma) / ((t - Phi @ m) ** 2).sum() if fit_beta else beta_
        if not (gamma > 1e-9 and torch.isfinite(new_alpha) and torch.isfinite(new_beta)):
            raise RuntimeError(_runaway(float(new_alpha), float(new_beta), float(gamma), N))
        done = abs(new_alpha / alpha_ - 1) < tol and abs(new_beta / beta_ - 1) < tol
        alpha_, beta_ = new_alpha, new_beta
        if done:
            lam = beta_ * eig
            return float(alpha_), float(beta_), float((lam / (alpha_ + lam)).sum())
    raise RuntimeError(f"re-estimation did not converge in {max_iter} iterations "
                       f"(alpha={float(alpha_):.4g}, beta={float(beta_):.4g})")


# ---------------------------------------------------------------- a metaparameter: gradient descent


@checked(alpha=positive, beta=positive, lr=positive, steps=number_or_each(count))
def gd_weights(Phi: Array, t: Array, alpha: float, beta: float, lr: float, steps: int | list[int] | range,
               w0: Array | None = None) -> torch.Tensor:
    """Gradient descent on the penalized error E(w) = β/2 ‖t − Φw‖² + α/2 ‖w‖² (PRML 3.79), whose
    minimizer is the posterior mean m_N: the weights after each number of steps in ``steps``.

    w ← w − lr ∇E(w) is an affine map with fixed point m_N, so w_T = m_N + (I − lr A)ᵀ (w₀ − m_N),
    A = αI + βΦᵀΦ; computed in A's eigenbasis, one power per eigenvalue, for any T at the same cost
    (w₀ = 0 by default). The learning rate and T are metaparameters: they move w_T, while the evidence
    ln p(t | α, β) — a function of the prior and the likelihood only — is untouched.

    Returns [len(steps), D] (a single int gives [1, D]). Raises FloatingPointError when
    lr·λ_max(A) > 2, where the iteration diverges.
    """
    Phi, t = _check(Phi, t, alpha, beta)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"the learning rate must be a positive number, got {lr}")
    steps = [steps] if isinstance(steps, int) else list(steps)
    if not steps or any(not isinstance(k, int) or k < 0 for k in steps):
        raise ValueError(f"steps must be non-negative integers, got {steps}")
    m, L = _posterior(Phi, t, torch.as_tensor(alpha, dtype=DTYPE), torch.as_tensor(beta, dtype=DTYPE))
    lam, U = torch.linalg.eigh(alpha * torch.eye(Phi.shape[1], dtype=DTYPE, device=Phi.device) + beta * Phi.T @ Phi)
    if lr * float(lam.max()) > 2:
        raise FloatingPointError(f"learning rate × largest curvature = {lr * float(lam.max()):.3g} > 2: "
                                 "gradient descent diverges")
    start = torch.zeros_like(m) if w0 is None else _vector(w0, "w0").to(m.device)
    if start.shape != m.shape:
        raise ValueError(f"w0 must have {m.shape[0]} entries (one per basis function), got {start.shape[0]}")
    k = torch.tensor(steps, dtype=DTYPE, device=m.device)[:, None]
    return m + ((1 - lr * lam) ** k * (U.T @ (start - m))) @ U.T


def _runaway(alpha: float, beta: float, gamma: float, N: int) -> str:
    """Why MacKay's iterations have no finite fixed point to reach, in words."""
    if not gamma > 1e-9:
        return (f"alpha runs off to infinity (alpha = {alpha:.3g}, γ = {gamma:.2g} well-determined "
                f"parameters): the evidence of these data keeps growing as the prior pins w to 0, so "
                f"no finite alpha maximizes it; use fewer basis functions, or other data")
    return (f"beta runs off to infinity (beta = {beta:.3g}, γ = {gamma:.3g} of N = {N}): the fit "
            f"interpolates the targets, so no finite noise precision maximizes the evidence; use "
            f"fewer basis functions, or fit_beta=False")


# ---------------------------------------------------------------- validation and black-box search


@checked(alpha=positive, beta=positive, shapes=dict(Phi_train="N _", t_train="N", Phi_val="K _", t_val="K"))
def validation_error(Phi_train: Array, t_train: Array, Phi_val: Array, t_val: Array,
                     alpha: float, beta: float) -> float:
    """The bilevel problem's outer loss: inner w*(α) = m_N minimizes the penalized training error
    β/2‖t − Φw‖² + α/2‖w‖²; outer L_val = mean squared error of w* on held-out data."""
    Phi_train, t_train = _check(Phi_train, t_train, alpha, beta)
    Phi_val, t_val = _check(Phi_val, t_val, alpha, beta)
    if Phi_val.shape[1] != Phi_train.shape[1]:
        raise ValueError(f"Phi_val has {Phi_val.shape[1]} columns but Phi_train has {Phi_train.shape[1]}")
    m, _ = _posterior(Phi_train, t_train, torch.as_tensor(alpha, dtype=DTYPE), torch.as_tensor(beta, dtype=DTYPE))
    return float(((t_val - Phi_val @ m) ** 2).mean())


@checked(beta=positive, shapes=dict(Phi_train="N _", t_train="N", Phi_val="K _", t_val="K", ln_alphas="A"))
def validation_over_alpha(Phi_train: Array, t_train: Array, Phi_val: Array, t_val: Array,
                          ln_alphas: Array, beta: float) -> torch.Tensor:
    """:func:`validation_error` at every α = exp(ln_alphas), batched through the eigenbasis."""
    Phi_train, t_train = _check(Phi_train, t_train, 1.0, beta)
    Phi_val, t_val = _check(Phi_val, t_val, 1.0, beta)
    if Phi_val.shape[1] != Phi_train.shape[1]:
        raise ValueError(f"Phi_val has {Phi_val.shape[1]} columns but Phi_train has {Phi_train.shape[1]}")
    ln_alphas = _vector(ln_alphas, "ln_alphas").to(Phi_train.device)
    _, _, U, m = _eigen_means(Phi_train, t_train, ln_alphas, beta)
    return ((t_val - m @ U.T @ Phi_val.T) ** 2).mean(1)


@checked(k=size)
def grid_points(lo: float, hi: float, k: int) -> torch.Tensor:
    """A grid search's k candidates: evenly spaced from lo to hi (both included; k = 1 → midpoint)."""
    if not hi > lo or k < 1:
        raise ValueError(f"need lo < hi and k >= 1, got lo={lo}, hi={hi}, k={k}")
    return torch.linspace(lo, hi, k, dtype=DTYPE) if k > 1 else torch.tensor([(lo + hi) / 2], dtype=DTYPE)


@checked(k=size)
def random_points(lo: float, hi: float, k: int, seed: int = 0) -> torch.Tensor:
    """A random search's k candidates: uniform on [lo, hi] (Bergstra & Bengio, JMLR 2012)."""
    if not hi > lo or k < 1:
        raise ValueError(f"need lo < hi and k >= 1, got lo={lo}, hi={hi}, k={k}")
    g = torch.Generator().manual_seed(seed)
    return lo + (hi - lo) * torch.rand(k, dtype=DTYPE, generator=g)


@checked(shapes=dict(candidates="k"))
def search(objective: Callable[[torch.Tensor], torch.Tensor], candidates: torch.Tensor) -> tuple[float, float]:
    """Black-box maximization: evaluate ``objective`` (batched) at every candidate, return the best
    (candidate, value). It costs len(candidates) evaluations whatever the candidates are."""
    values = objective(candidates)
    best = int(values.argmax())
    return float(candidates[best]), float(values[best])


@checked(shapes=dict(candidates="k"))
def running_best(objective: Callable[[torch.Tensor], torch.Tensor], candidates: torch.Tensor) -> torch.Tensor:
    """The candidate a search would report after 1, 2, …, k evaluations, taken in the given order."""
    return candidates[torch.cummax(objective(candidates), dim=0).indices]


@checked(path=tensor(1), tol=nonnegative)
def evaluations_needed(path: Array, target: float, tol: float) -> int | None:
    """How many evaluations a search needs before its running best (:func:`running_best`) is within
    ``tol`` of ``target`` for the first time; None if it never gets there."""
    hit = (torch.as_tensor(path, dtype=DTYPE) - target).abs() <= tol
    return int(hit.nonzero()[0, 0]) + 1 if bool(hit.any()) else None
