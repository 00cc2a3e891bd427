"""Evidence estimation during gradient descent: early stopping read as variational inference.

Maclaurin, Duvenaud & Adams (2016), "Early stopping as nonparametric variational inference".
Start gradient descent from random points ``w₀ ~ q⁰`` and let every point take the same steps
``w ← w − η ∇L(w)``, with ``L(w) = −log p(w, D)`` the negative log joint. The cloud of points is a
distribution ``q_t`` that the optimizer pushes forward. A bijective step changes its entropy by the
log-Jacobian of the step (change of variables)::

    S(q_{t+1}) = S(q_t) + E_{q_t} log|det(I − η H(w))|,          H = ∇²L

so the evidence lower bound (ELBO) of ``q_t`` can be tracked along the run::

    log p(D) ≥ E_{q_t}[log p(w_t, D)] + S(q⁰) + Σ_{b<t} E log|det(I − η H(w_b))|.

Notation: ``lr`` = η (the seed slides call it β), ``H`` the Hessian of ``L``, ``λ`` its eigenvalues,
``r`` a random probe vector, ``runs`` the number of parallel starting points (the seed's r).

The per-step term, three ways (each is a function below):

- exact: ``Σᵢ log|1 − ηλᵢ|`` (needs all eigenvalues);
- the series ``log(1 − x) = −x − x²/2 − x³/3 − …`` gives ``−η tr H − η²/2 tr H² − …``; cut after
  two terms it is an *upper* bound per eigenvalue for ``0 ≤ ηλ < 1`` (every dropped term is
  negative) and a lower one for ``ηλ < 0``. Doubling the quadratic term gives the *lower bound*
  ``−η tr H − η² tr H²``, valid per eigenvalue while ``ηλ ≤ BOUND_LIMIT ≈ 0.684`` (the authors'
  code uses this bound);
- a Hutchinson estimate of the bound from one Hessian-vector product per probe ``r``:
  ``−η rᵀHr − η² |Hr|²`` (the authors write it as ``rᵀ(−2r + 3Jr − J²r)`` with ``J = I − ηH``,
  the same number).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from mlcourse.hyperparams import log_evidence, polynomial_design, posterior, predictive
from mlcourse.runtime import track
from mlcourse.inputs import checked, count, each, nonnegative, of_type, one_of, positive, size

BOUND_LIMIT = 0.6838026237520207
"""Largest ηλ for which ``−ηλ − (ηλ)² ≤ log(1 − ηλ)``: the root of ``log x = (x−1) − (x−1)²``
below 1 is x ≈ 0.31620, i.e. ηλ ≈ 0.68380."""

Array = np.ndarray | Tensor


# ---------------------------------------------------------------- one step, from the Hessian

def _eigenvalues(H: Array, lr: float) -> np.ndarray:
    """Eigenvalues of a symmetric Hessian (float64), after checking H and the step size."""
    H = np.asarray(H.detach().cpu() if isinstance(H, Tensor) else H, dtype=np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be a square matrix (d, d), got shape {H.shape}")
    if not np.all(np.isfinite(H)):
        raise ValueError("H has NaN or infinite entries")
    if not np.allclose(H, H.T, rtol=1e-8, atol=1e-10 * max(1.0, np.abs(H).max())):
        raise ValueError("H must be symmetric (a Hessian)")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr}")
    lam = np.linalg.eigvalsh(H)
    if lr * lam.max() >= 1:
        raise ValueError(f"lr·λ_max = {lr * lam.max():.4g} ≥ 1: the step w ↦ w − lr·∇L is not a "
                         "bijection there, so the entropy change is undefined; lower lr")
    return lam


@checked(lr=positive, shapes=dict(H="d d"))
def logdet_step_exact(H: Array, lr: float) -> float:
    """log|det(I − lr·H)|: the exact entropy change of one gradient step with Hessian H."""
    lam = _eigenvalues(H, lr)
    return float(np.sum(np.log(np.abs(1.0 - lr * lam))))


@checked(lr=positive, shapes=dict(H="d d"))
def logdet_step_bound(H: Array, lr: float) -> float:
    """−lr·tr H − lr²·tr(H²): the second-order lower bound on log|det(I − lr·H)|.

    Per eigenvalue, ``log(1 − x) ≥ −x − x²`` for ``x ≤ BOUND_LIMIT``; above it the value is no
    longer a lower bound and a RuntimeWarning says so.
    """
    lam = _eigenvalues(H, lr)
    if lr * lam.max() > BOUND_LIMIT:
        warnings.warn(f"lr·λ_max = {lr * lam.max():.4g} > {BOUND_LIMIT:.3f}: the second-order "
                      "value is no longer a lower bound on log|det(I − lr·H)|", RuntimeWarning,
                      stacklevel=2)
    return float(-lr * lam.sum() - lr**2 * np.sum(lam**2))


# ---------------------------------------------------------------- one step, from H·v only

@checked(lr=positive, same_shape=("r", "Hr"), shapes=dict(r="... P", Hr="... P"))
def probe_bound(r: Tensor, Hr: Tensor, lr: float) -> Tensor:
    """One probe's unbiased estimate of the bound: −lr·rᵀHr − lr²·|Hr|² (last axis is the
    parameter axis). Unbiased because E[r rᵀ] = I, so E[rᵀAr] = tr A."""
    return -lr * (r * Hr).sum(-1) - lr**2 * (Hr * Hr).sum(-1)


def _probes(shape: tuple[int, ...], kind: str, generator: torch.Generator | None,
            device: torch.device, dtype: torch.dtype) -> Tensor:
    """Random vectors with E[r rᵀ] = I: Rademacher (±1, lower variance) or standard normal."""
    if kind == "rademacher":
        signs = torch.randint(0, 2, shape, generator=generator, device=device)
        return (2 * signs - 1).to(dtype)
    if kind == "gaussian":
        return torch.randn(shape, generator=generator, device=device, dtype=dtype)
    raise ValueError(f"probe must be 'rademacher' or 'gaussian', got {kind!r}")


def _apply(hvp: Callable[[Tensor], Tensor], v: Tensor) -> tuple[Tensor, Tensor]:
    """(v, hvp(v)); a float32 v that a float64 ``hvp`` refuses (its H @ v) is retried in float64."""
    try:
        return v, hvp(v)
    except RuntimeError as exc:
        if v.dtype == torch.float64 or "dtype" not in str(exc):
            raise
        v = v.double()
        return v, hvp(v)


@checked(dim=size, lr=positive, n_probes=size, probe=one_of("rademacher", "gaussian"))
def logdet_step_estimate(hvp: Callable[[Tensor], Tensor], dim: int, lr: float, *,
                         n_probes: int = 1, generator: torch.Generator | None = None,
                         probe: str = "rademacher", dtype: torch.dtype | None = None) -> Tensor:
    """Hutchinson estimates of −lr·tr H − lr²·tr H², one per probe (shape ``[n_probes]``).

    ``hvp(v)`` returns ``H @ v`` for a vector ``v`` of shape ``[dim]``: H itself is never formed.
    Average the values for the estimate; their standard deviation / √n_probes is its standard
    error. Probes live on the generator's device, in ``dtype`` (default: torch's default dtype).
    """
    if not (isinstance(dim, int) and dim >= 1):
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    if not (isinstance(n_probes, int) and n_probes >= 1):
        raise ValueError(f"n_probes must be a positive integer, got {n_probes!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr}")
    device = generator.device if generator is not None else torch.device("cpu")
    R = _probes((n_probes, dim), probe, generator, device, dtype or torch.get_default_dtype())
    values = []
    for r in R:
        r, Hr = _apply(hvp, r)
        if Hr.shape != r.shape:
            raise ValueError(f"hvp(v) must return shape {tuple(r.shape)}, got {tuple(Hr.shape)}")
        values.append(probe_bound(r, Hr, lr))
    return torch.stack(values)


@checked(dim=size, iters=size)
def top_eigenvalue(hvp: Callable[[Tensor], Tensor], dim: int, *, iters: int = 100,
                   generator: torch.Generator | None = None,
                   dtype: torch.dtype | None = None) -> float:
    """λ of largest magnitude of H by power iteration on ``hvp``: check ``lr·λ_max`` with it."""
    device = generator.device if generator is not None else torch.device("cpu")
    v = torch.randn(dim, generator=generator, device=device, dtype=dtype or torch.get_default_dtype())
    lam = 0.0
    for _ in range(iters):
        v = v / v.norm()
        v, Hv = _apply(hvp, v)
        lam = float(v.to(Hv.dtype) @ Hv)
        v = Hv
    return lam


# ---------------------------------------------------------------- the simplest exact case: a quadratic

@checked
def entropy_change_per_eigenvalue(lr_lambda: Array) -> np.ndarray:
    """``log|1 − ηλ|`` for each product ``ηλ``: how much one GD step on a quadratic changes the
    entropy along an eigenvector of curvature λ. Negative (the cloud contracts) exactly when
    ``0 < ηλ < 2``; zero at ``ηλ ∈ {0, 2}``; ``−∞`` at ``ηλ = 1`` (the step lands every point on the
    minimum: not a bijection)."""
    x = np.asarray(lr_lambda, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.log(np.abs(1.0 - x))


@checked(lr=positive, steps=count, n=size, init_std=nonnegative, shapes=dict(H="d d"))
def quadratic_gd_cloud(H: Array, lr: float, steps: int, *, n: int = 1000, init_std: float = 1.0,
                       minimum: Array | None = None, seed: int = 0) -> Tensor:
    """Gradient descent on ``L(w) = ½ (w − w*)ᵀH(w − w*)`` from ``n`` starting points
    ``w₀ ~ N(0, init_std² I)``: every point takes the same steps ``w ← w − ηH(w − w*)``
    (``w*`` = ``minimum``, default 0). Returns the cloud at every step, ``[steps + 1, n, d]``
    (float64). Its distribution q_t is Gaussian with covariance ``init_std² J^{2t}`` (J = I − ηH
    symmetric), so ``S(q_t) = S(q⁰) + t log|det J|`` exactly."""
    H = torch.as_tensor(np.asarray(H, dtype=np.float64))
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be a square matrix (d, d), got shape {tuple(H.shape)}")
    if not (isinstance(steps, int) and steps >= 0 and isinstance(n, int) and n >= 2):
        raise ValueError(f"need steps >= 0 and n >= 2 integers, got steps={steps!r}, n={n!r}")
    if not (math.isfinite(lr) and lr > 0 and init_std > 0):
        raise ValueError(f"lr and init_std must be positive, got lr={lr}, init_std={init_std}")
    w_star = torch.zeros(H.shape[0], dtype=torch.float64) if minimum is None else \
        torch.as_tensor(np.asarray(minimum, dtype=np.float64))
    if w_star.shape != (H.shape[0],):
        raise ValueError(f"minimum must have {H.shape[0]} entries, got shape {tuple(w_star.shape)}")
    gen = torch.Generator().manual_seed(seed)
    W = init_std * torch.randn(n, H.shape[0], generator=gen, dtype=torch.float64)
    J = torch.eye(H.shape[0], dtype=torch.float64) - lr * H
    cloud = [W]
    for _ in range(steps):
        cloud.append(w_star + (cloud[-1] - w_star) @ J.T)
    return torch.stack(cloud)


@checked(shapes=dict(points="n d"))
def sample_entropy_gaussian(points: Tensor) -> float:
    """Entropy ½ log det(2πe Σ̂) of the Gaussian with the sample covariance Σ̂ of ``points`` [n, d]:
    what a cloud's entropy is when the cloud is Gaussian (as for GD on a quadratic)."""
    points = torch.as_tensor(points, dtype=torch.float64)
    cov = torch.atleast_2d(torch.cov(points.T))
    sign, logdet = torch.linalg.slogdet(2 * math.pi * math.e * cov)
    return float(0.5 * logdet) if sign > 0 else -math.inf


# ---------------------------------------------------------------- the exact linear-Gaussian case

def _linear_gaussian_moments(Phi: Array, t: Array, alpha: float, beta: float, lr: float, steps: int,
                             device: torch.device | str | None = None):
    """Mean weights [steps+1, D] and eigenbasis variances [steps+1, D] of q_k for GD from the prior,
    with H's eigen-decomposition (λ, Q) and the data as float64 tensors."""
    Phi = torch.as_tensor(Phi, dtype=torch.float64, device=device)
    t = torch.as_tensor(t, dtype=torch.float64, device=Phi.device)
    if Phi.ndim != 2 or t.ndim != 1 or Phi.shape[0] != t.shape[0]:
        raise ValueError(f"Phi must be (N, D) and t (N,), got {tuple(Phi.shape)} and {tuple(t.shape)}")
    if not (alpha > 0 and beta > 0):
        raise ValueError(f"alpha and beta must be positive, got alpha={alpha}, beta={beta}")
    if not (isinstance(steps, int) and steps >= 0):
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    D = Phi.shape[1]
    H = alpha * torch.eye(D, dtype=torch.float64, device=Phi.device) + beta * Phi.T @ Phi
    lam, Q = torch.linalg.eigh(H)
    _eigenvalues(H, lr)  # the same checks (lr > 0, lr·λ_max < 1) as the one-step functions
    contraction = 1.0 - lr * lam                                           # [D], eigenvalues of J
    k = torch.arange(steps + 1, dtype=torch.float64, device=Phi.device)[:, None]
    m_N = Q.T @ torch.linalg.solve(H, beta * Phi.T @ t)                     # eigenbasis
    mean = (1.0 - contraction**k) * m_N @ Q.T                              # [steps+1, D], weights
    var = contraction ** (2 * k) / alpha                                   # [steps+1, D], eigenbasis
    return Phi, t, lam, Q, mean, var


@checked(alpha=positive, beta=positive, lr=positive)
def linear_gaussian_elbo(Phi: Array, t: Array, alpha: float, beta: float, lr: float, steps: int,
                         *, device: torch.device | str | None = None) -> Tensor:
    """Exact ELBO of gradient descent on Bayesian linear regression, at steps 0…steps.

    Model (PRML §3.3): ``p(w) = N(0, α⁻¹I)``, ``p(t | w) = N(Φw, β⁻¹I)``, D = Φ's number of columns;
    GD on ``L(w) = β/2 |t − Φw|² + α/2 |w|²`` started from the prior. Every step is the same affine
    map ``w ↦ Jw + lr·βΦᵀt`` with ``J = I − lr·H``, ``H = αI + βΦᵀΦ = Q diag(λ) Qᵀ``, so ``q_k``
    stays Gaussian: in H's eigenbasis its mean is ``(1 − (1 − lr·λ)ᵏ) ⊙ m_N`` (m_N the posterior
    mean) and its variances are ``(1 − lr·λ)²ᵏ / α``. Then, in closed form,

        ELBO_k = N/2 log(β/2π) + D/2 log(α/2π) − L(m_k) − ½ tr(H S_k) + S(q_k),
        S(q_k) = D/2 log(2πe/α) + k Σᵢ log|1 − lr·λᵢ|.

    Computed in the eigenbasis: propagating S_k = J S Jᵀ directly (:func:`moment_propagation_elbo`)
    loses the stiffest variance to rounding once ``(1 − lr·λ_max)^{2k}`` drops below float64's
    precision: on lecture 01's data at lr = 0.5/λ_max that factor is 4⁻ᵏ, which reaches 2⁻⁵² at
    k = 26, and the direct route is off by 0.01 nats from about step 26 and by more than a nat from
    about step 28 (measured in tests/test_evidence.py). Returns float64, [steps + 1].
    """
    Phi, t, lam, Q, mean, var = _linear_gaussian_moments(Phi, t, alpha, beta, lr, steps, device)
    N, D = Phi.shape
    k = torch.arange(steps + 1, dtype=torch.float64, device=Phi.device)
    loss = beta / 2 * ((t - mean @ Phi.T) ** 2).sum(-1) + alpha / 2 * (mean**2).sum(-1)
    entropy = D / 2 * math.log(2 * math.pi * math.e / alpha) + k * torch.log((1.0 - lr * lam).abs()).sum()
    const = N / 2 * math.log(beta / (2 * math.pi)) + D / 2 * math.log(alpha / (2 * math.pi))
    return const - loss - 0.5 * (var * lam).sum(-1) + entropy


@checked(alpha=positive, beta=positive, lr=positive)
def linear_gaussian_heldout(Phi: Array, t: Array, Phi_val: Array, t_val: Array, alpha: float, beta: float,
                            lr: float, steps: int, *, device: torch.device | str | None = None) -> Tensor:
    """Held-out fit of the same GD distributions q_k: the expected log-likelihood per held-out point
    ``E_{q_k}[log N(t_val | Φ_val w, β⁻¹)] / N_val`` at steps 0…steps, in closed form
    (``−β/2 (|t_val − Φ_val m_k|² + tr(Φ_val S_k Φ_valᵀ)) / N_val + ½ log(β/2π)``). Float64, [steps + 1]."""
    Phi, t, lam, Q, mean, var = _linear_gaussian_moments(Phi, t, alpha, beta, lr, steps, device)
    Phi_val = torch.as_tensor(Phi_val, dtype=torch.float64, device=Phi.device)
    t_val = torch.as_tensor(t_val, dtype=torch.float64, device=Phi.device)
    if Phi_val.ndim != 2 or Phi_val.shape[1] != Phi.shape[1] or t_val.shape != (Phi_val.shape[0],):
        raise ValueError(f"Phi_val must be (N_val, {Phi.shape[1]}) and t_val (N_val,), got "
                         f"{tuple(Phi_val.shape)} and {tuple(t_val.shape)}")
    spread = (var * ((Phi_val @ Q) ** 2).sum(0)).sum(-1)                    # tr(Φ_val S_k Φ_valᵀ)
    sq = ((t_val - mean @ Phi_val.T) ** 2).sum(-1)
    return -beta / 2 * (sq + spread) / len(t_val) + 0.5 * math.log(beta / (2 * math.pi))


@checked(alpha=positive, beta=positive, lr=positive, steps=count, shapes=dict(Phi="N D", t="N"))
def moment_propagation_elbo(Phi: Array, t: Array, alpha: float, beta: float, lr: float, steps: int) -> Tensor:
    """The same ELBO as :func:`linear_gaussian_elbo`, by the direct route: push the mean and the full
    covariance through the GD map, ``m ← J m + lr·βΦᵀt``, ``S ← J S Jᵀ``, and take the Gaussian's
    entropy from ``slogdet(S)``. Exact in exact arithmetic; in float64 the stiffest variance,
    ``(1 − lr·λ_max)^{2k}/α``, falls below the rounding error of the others and the value goes
    wrong (NaN once the determinant is no longer positive). Kept to show why the eigenbasis is used."""
    Phi = torch.as_tensor(Phi, dtype=torch.float64)
    t = torch.as_tensor(t, dtype=torch.float64)
    N, D = Phi.shape
    H = alpha * torch.eye(D, dtype=torch.float64) + beta * Phi.T @ Phi
    _eigenvalues(H, lr)
    J, m, S = torch.eye(D, dtype=torch.float64) - lr * H, torch.zeros(D, dtype=torch.float64), \
        torch.eye(D, dtype=torch.float64) / alpha
    out = []
    for _ in range(steps + 1):
        r = t - Phi @ m
        loglik = N / 2 * math.log(beta / (2 * math.pi)) - beta / 2 * (r @ r + torch.trace(Phi @ S @ Phi.T))
        logprior = D / 2 * math.log(alpha / (2 * math.pi)) - alpha / 2 * (m @ m + torch.trace(S))
        sign, logdet = torch.linalg.slogdet(2 * math.pi * math.e * S)
        out.append(loglik + logprior + (0.5 * logdet if sign > 0 else torch.tensor(math.nan, dtype=torch.float64)))
        m, S = J @ m + lr * beta * Phi.T @ t, J @ S @ J.T
    return torch.stack(out)


@dataclass
class DegreeSelection:
    """:func:`select_degree_by_gd_bound`'s comparison, one entry per degree."""

    degrees: list[int]
    log_evidence: Tensor     # exact ln p(t | α, β, M)
    peak_elbo: Tensor        # the largest ELBO of GD's q_k over the run
    peak_step: Tensor        # the step where it is reached (int64)
    heldout: Tensor          # held-out log predictive density per point of the exact posterior

    def choice(self, field: str) -> int:
        """The degree each criterion picks: ``"log_evidence"``, ``"peak_elbo"`` or ``"heldout"``."""
        return self.degrees[int(getattr(self, field).argmax())]


@checked(alpha=positive, beta=positive, lr_fraction=positive, steps=count, degrees=each(count),
          shapes=dict(x="N", t="N", x_val="K", t_val="K"))
def select_degree_by_gd_bound(x: Array, t: Array, x_val: Array, t_val: Array, degrees: range | list[int],
                              alpha: float, beta: float, *, lr_fraction: float = 0.5,
                              steps: int = 3000) -> DegreeSelection:
    """Model selection three ways for polynomial regression (lecture 01's model): the exact evidence,
    the peak of GD's exact ELBO (GD from the prior at lr = lr_fraction/λ_max, the paper's proposal:
    rank models by the bound instead of cross-validation), and held-out predictive density."""
    if not 0 < lr_fraction < 1:
        raise ValueError(f"lr_fraction must be in (0, 1) so that every step is a bijection, got {lr_fraction}")
    degrees = list(degrees)
    ev_, peak, where, held = [], [], [], []
    t_val = torch.as_tensor(t_val, dtype=torch.float64)
    for M in degrees:
        Phi, Phi_val = polynomial_design(x, M), polynomial_design(x_val, M)
        H = alpha * torch.eye(M + 1, dtype=torch.float64) + beta * Phi.T @ Phi
        elbo = linear_gaussian_elbo(Phi, t, alpha, beta, lr_fraction / float(torch.linalg.eigvalsh(H).max()), steps)
        mu, sd = predictive(Phi_val, *posterior(Phi, t, alpha, beta), beta)
        ev_.append(log_evidence(Phi, t, alpha, beta))
        peak.append(float(elbo.max()))
        where.append(int(elbo.argmax()))
        held.append(float(torch.distributions.Normal(mu, sd).log_prob(t_val).mean()))
    f64 = dict(dtype=torch.float64)
    return DegreeSelection(degrees, torch.tensor(ev_, **f64), torch.tensor(peak, **f64),
                           torch.tensor(where), torch.tensor(held, **f64))


# ---------------------------------------------------------------- data for the network experiment

@checked(n_train=size)
def diabetes_regression(n_train: int = 50, seed: int = 0, *, device: torch.device | str | None = None,
                        dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """scikit-learn's bundled diabetes data (442 × 10), split at random into ``n_train`` training
    points and the rest held out, standardized with the training statistics: ``(x, y, x_ho, y_ho)``."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    if not 1 <= n_train < len(X):
        raise ValueError(f"n_train must be in 1…{len(X) - 1}, got {n_train}")
    order = np.random.default_rng(seed).permutation(len(X))
    train, held = order[:n_train], order[n_train:]
    mu, sd, y_mu, y_sd = X[train].mean(0), X[train].std(0), y[train].mean(), y[train].std()
    def as_tensor(a: np.ndarray) -> Tensor:
        return torch.as_tensor(a, dtype=dtype, device=device)
    return (as_tensor((X[train] - mu) / sd), as_tensor((y[train] - y_mu) / y_sd),
            as_tensor((X[held] - mu) / sd), as_tensor((y[held] - y_mu) / y_sd))


# ---------------------------------------------------------------- the general estimator

@checked(shapes=dict(log_joint="S R", logdet="T R", train_loglik="S R", curvature="T R", heldout_loglik="S R"))
@dataclass
class EvidenceTrace:
    """Per-step record of :func:`gd_evidence` (rows: steps 0…T, columns: the parallel runs)."""

    log_joint: Tensor        # [T+1, runs]  log p(w_t, D) at each run's point
    logdet: Tensor           # [T, runs]    estimated log|det(I − lr·H)| of each step taken
    entropy0: float          # S(q⁰), the entropy of the initial distribution
    train_loglik: Tensor     # [T+1, runs]  mean log p(y_i | x_i, w_t) over the training points
    curvature: Tensor        # [T, runs]    running power-iteration estimate of λ_max(H(w_t))
    heldout_loglik: Tensor | None  # [T+1, runs]  the same on held-out points (None if none given)

    @property
    def evidence_runs(self) -> Tensor:
        """Each run's evidence-bound estimate log p(w_t, D) + S(q⁰) + Σ_{b<t} logdet_b."""
        zero = torch.zeros_like(self.logdet[:1])
        return self.log_joint + self.entropy0 + torch.cat([zero, self.logdet]).cumsum(0)

    @property
    def evidence(self) -> Tensor:
        """The estimate averaged over runs (the seed's 1/r Σ_g), shape [T+1]."""
        return self.evidence_runs.mean(1)

    @property
    def evidence_se(self) -> Tensor:
        """Standard error of :attr:`evidence` over the independent runs."""
        runs = self.log_joint.shape[1]
        return self.evidence_runs.std(1) / math.sqrt(runs) if runs > 1 else torch.full_like(self.evidence, math.nan)

    @property
    def evidence_peak(self) -> int:
        """Step where the evidence estimate is largest: the "overfitting start"."""
        return int(self.evidence.argmax())

    @property
    def heldout_peak(self) -> int:
        """Step where the mean held-out log-likelihood is largest."""
        if self.heldout_loglik is None:
            raise ValueError("no held-out data was given to gd_evidence")
        return int(self.heldout_loglik.mean(1).argmax())


def _gaussian_loglik(pred: Tensor, y: Tensor, noise_std: float) -> Tensor:
    """log N(y | pred, noise_std²) per point."""
    return -0.5 * ((y - pred) / noise_std) ** 2 - math.log(noise_std) - 0.5 * math.log(2 * math.pi)


@checked(model=of_type(nn.Module, what="a torch.nn.Module"), lr=positive, steps=size, runs=size,
         noise_std=positive, prior_std=positive, init_std=positive, n_probes=size,
         shapes=dict(x="_ d", x_heldout="H d", y_heldout="H"))
def gd_evidence(model: nn.Module, x: Tensor, y: Tensor, *, lr: float, steps: int, runs: int = 8,
                x_heldout: Tensor | None = None, y_heldout: Tensor | None = None,
                noise_std: float = 1.0, prior_std: float = 1.0, init_std: float | None = None,
                n_probes: int = 1,
                seed: int = 0, progress: bool | Callable = False) -> EvidenceTrace:
    """Run full-batch GD from ``runs`` prior samples and track the evidence bound (paper, eq. 3).

    ``model`` gives only the architecture (its current weights are ignored): a regression net
    ``f(x; w)`` with Gaussian likelihood ``y ~ N(f(x; w), noise_std²)`` and prior
    ``w ~ N(0, prior_std² I)``; the initial distribution is ``q⁰ = N(0, init_std² I)`` (default:
    the prior; a narrower q⁰ starts every run from a simple function). GD minimizes
    ``L(w) = −log p(w, D)``. At every step each run gets its gradient and ``H r`` for
    ``n_probes`` Rademacher probes, whose :func:`probe_bound` estimates the step's entropy
    change. All runs are vectorized with ``torch.func.vmap`` (one batched forward pass).
    Computation happens on ``x``'s device in the model's dtype.

    ``lr·λ_max(H)`` must stay below ``BOUND_LIMIT`` for the per-step values to be lower bounds:
    each run carries one power-iteration vector, updated with one more H·v per step, so
    ``trace.curvature`` follows λ_max along the run; a RuntimeWarning says when the limit was
    crossed. Raises FloatingPointError if the loss diverges.
    """
    if x.ndim != 2 or y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise ValueError(f"x must be (N, d) and y (N,), got {tuple(x.shape)} and {tuple(y.shape)}")
    if (x_heldout is None) != (y_heldout is None):
        raise ValueError("give both x_heldout and y_heldout, or neither")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr}")
    for name, value in (("steps", steps), ("runs", runs), ("n_probes", n_probes)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    init_std = prior_std if init_std is None else init_std
    if not (noise_std > 0 and prior_std > 0 and init_std > 0):
        raise ValueError("noise_std, prior_std and init_std must be positive, got "
                         f"{noise_std}, {prior_std}, {init_std}")

    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    sizes = [p.numel() for _, p in model.named_parameters()]
    dtype, device, P = next(model.parameters()).dtype, x.device, sum(sizes)
    x, y = x.to(dtype), y.to(dtype)
    if x_heldout is not None:
        x_heldout, y_heldout = x_heldout.to(dtype), y_heldout.to(dtype)

    def predict(w: Tensor, inputs: Tensor) -> Tensor:
        params = {n: c.view(s) for n, c, s in zip(names, w.split(sizes), shapes)}
        return functional_call(model, params, (inputs,)).reshape(-1)

    def log_prior(w: Tensor) -> Tensor:
        return _gaussian_loglik(w, torch.zeros_like(w), prior_std).sum()

    def log_lik(w: Tensor, inputs: Tensor, targets: Tensor) -> Tensor:
        return _gaussian_loglik(predict(w, inputs), targets, noise_std).sum()

    def loss_and_loglik(w: Tensor) -> tuple[Tensor, Tensor]:
        """L(w) = −log p(D | w) − log p(w), and log p(D | w) as a by-product."""
        ll = log_lik(w, x, y)
        return -ll - log_prior(w), ll.detach()

    def grad_and_hvps(W: Tensor, R: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """∇L and H·r for every run (rows of W) and probe vector (R: [k, runs, P]).

        The runs are independent, so the gradient of Σ_g L(w_g) with respect to row g is ∇L(w_g),
        and differentiating ⟨∇L, r⟩ once more gives H(w_g) r_g: reverse-over-reverse through a
        vmapped forward pass, about 3× faster on CPU here than torch.func's forward-over-reverse.
        """
        with torch.enable_grad():
            W = W.detach().requires_grad_(True)
            loss, ll = vmap(loss_and_loglik)(W)
            (g,) = torch.autograd.grad(loss.sum(), W, create_graph=True)
            Hr = torch.stack([torch.autograd.grad(g, W, r, retain_graph=True)[0] for r in R])
        return g.detach(), Hr, ll

    gen = torch.Generator(device=device).manual_seed(seed)
    W = init_std * torch.randn(runs, P, generator=gen, device=device, dtype=dtype)
    entropy0 = P / 2 * math.log(2 * math.pi * math.e * init_std**2)
    each = partial(vmap, in_dims=(0, None, None))  # over runs, sharing the data
    v = torch.randn(runs, P, generator=gen, device=device, dtype=dtype)  # power-iteration vectors
    loglik, prior, logdet, heldout, curvature = [], [], [], [], []

    def record(W: Tensor, ll: Tensor) -> None:
        if not torch.isfinite(ll).all():
            raise FloatingPointError(f"diverged after {len(loglik)} steps: lr = {lr:.3g} is too large")
        loglik.append(ll)
        prior.append(vmap(log_prior)(W))
        if x_heldout is not None:
            heldout.append(each(log_lik)(W, x_heldout, y_heldout) / len(y_heldout))

    with torch.no_grad():
        for _ in track(range(steps), progress, desc="GD"):
            R = _probes((n_probes, runs, P), "rademacher", gen, device, dtype)
            v = v / v.norm(dim=1, keepdim=True)
            g, HR, ll = grad_and_hvps(W, torch.cat([R, v[None]]))
            record(W, ll)
            logdet.append(probe_bound(R, HR[:-1], lr).mean(0))
            curvature.append((v * HR[-1]).sum(1))  # one power-iteration step per GD step
            v = HR[-1]
            W = W - lr * g
        record(W, each(log_lik)(W, x, y))
    worst = lr * float(torch.stack(curvature).max())
    if worst > BOUND_LIMIT:
        warnings.warn(f"lr·λ_max reached {worst:.3g} > {BOUND_LIMIT:.3f} during the run: the "
                      "per-step values are no longer lower bounds; lower lr", RuntimeWarning, stacklevel=2)

    def stack(rows: list[Tensor]) -> Tensor:
        return torch.stack(rows).detach().to("cpu", torch.float64)

    loglik_ = stack(loglik)
    return EvidenceTrace(log_joint=loglik_ + stack(prior), logdet=stack(logdet), entropy0=entropy0,
                         train_loglik=loglik_ / len(y), curvature=stack(curvature),
                         heldout_loglik=stack(heldout) if heldout else None)
