"""Hyperparameter search: grid, random, Bayesian optimization with a Gaussian process, Hyperband.

Every method minimizes a black-box ``f`` over a box ``bounds = [(lo, hi), …]`` and returns the points
it evaluated and their values in the order of evaluation, so "best after n evaluations" is a running
minimum (:func:`best_so_far`).

- Grid and random search: Bergstra & Bengio (2012), "Random Search for Hyper-Parameter Optimization":
  with the same budget, random points try more distinct values of each coordinate than a grid does,
  which matters when only a few coordinates matter.
- Bayesian optimization: Snoek, Larochelle & Adams (2012); Jones, Schonlau & Welch (1998) for
  expected improvement. Surrogate: an exact GP (:class:`GP`) with a Matérn-5/2 ARD kernel whose
  hyperparameters (two length scales, signal and noise variance) are fitted by maximizing the log
  marginal likelihood (Rasmussen & Williams 2006, eq. 5.8) after every new observation. Acquisitions
  for minimization: EI, PI and the lower confidence bound (UCB on −f), maximized over random candidates
  plus Gaussian moves around the best observations.
- Everything here runs in float64 on the CPU: the searches handle tens of points, and the expensive
  part — each evaluation of ``f`` — may use any device it likes.
- Hyperband: Li et al. (2018), Alg. 1 — successive halving (Jamieson & Talwalkar 2016) run for every
  trade-off between many cheap and few expensive configurations.
- CMA-ES: Hansen & Ostermeier (2001), the (μ/μ_W, λ) version with rank-one and rank-μ updates and
  cumulative step-size adaptation, parameters as in Hansen's tutorial ("The CMA Evolution Strategy:
  A Tutorial", arXiv:1604.00772) but with positive recombination weights only (no active CMA).
- Optuna (Akiba et al. 2019) behind the same interface (:func:`optuna_minimize`): its TPE sampler
  (Bergstra et al. 2011) and its GP sampler. :func:`compare` runs several methods over many seeds;
  :func:`cached_comparison` keeps such a run in ``data/`` (it takes about a minute).
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch import Tensor
from mlcourse.inputs import (checked, count, each, integer, need, nonnegative, number, one_of, pairs_of,
                             positive, real, size, tensor)

from mlcourse import runtime

Bounds = Sequence[tuple[float, float]]
Objective = Callable[[Tensor], Tensor]  # one point (d,) → a scalar, to be minimized


def _bounds(bounds: Bounds) -> Tensor:
    b = torch.as_tensor(bounds, dtype=torch.float64)
    if b.dim() != 2 or b.shape[1] != 2 or not bool((b[:, 1] > b[:, 0]).all()):
        raise ValueError(f"bounds must be [(lo, hi), …] with hi > lo, got {bounds!r}")
    return b


def _evaluate(f: Objective, X: Tensor) -> Tensor:
    return torch.stack([torch.as_tensor(f(x), dtype=torch.float64).reshape(()) for x in X])


def _scale(U: Tensor, b: Tensor) -> Tensor:
    """Unit cube → box."""
    return b[:, 0] + U * (b[:, 1] - b[:, 0])


@checked
def best_so_far(y: Tensor) -> Tensor:
    """Running minimum: entry n − 1 is the best value after n evaluations."""
    return torch.cummin(y, 0).values


# --- grid and random search ------------------------------------------------------------------------

@checked(bounds=pairs_of(real), per_dim=size)
def grid_search(f: Objective, bounds: Bounds, per_dim: int) -> tuple[Tensor, Tensor]:
    """Evaluate f on the full grid of ``per_dim`` evenly spaced values per coordinate (ends included)."""
    b = _bounds(bounds)
    if per_dim < 2:
        raise ValueError(f"a grid needs at least 2 values per coordinate, got {per_dim}")
    axes = [torch.linspace(float(lo), float(hi), per_dim, dtype=torch.float64) for lo, hi in b]
    X = torch.cartesian_prod(*axes).reshape(-1, len(b))
    return X, _evaluate(f, X)


@checked(bounds=pairs_of(real), n=size)
def random_search(f: Objective, bounds: Bounds, n: int, *, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Evaluate f at ``n`` points drawn uniformly from the box."""
    b = _bounds(bounds)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    X = _scale(torch.rand(n, len(b), generator=torch.Generator().manual_seed(seed),
                          dtype=torch.float64), b)
    return X, _evaluate(f, X)


# --- the Gaussian-process surrogate ----------------------------------------------------------------

@checked(lengthscale=tensor(lo=0, lo_open=True), variance=tensor(lo=0), shapes=dict(A="n d", B="m d"))
def matern52(A: Tensor, B: Tensor, lengthscale: Tensor, variance: Tensor) -> Tensor:
    """Matérn-5/2 kernel σ² (1 + √5 r + 5r²/3) e^{−√5 r}, r = ‖(a − b)/ℓ‖ (one ℓ per input: ARD)."""
    need(lengthscale.numel() in (1, A.shape[1]), f"lengthscale must hold one number or one per input "
         f"dimension ({A.shape[1]}), got shape {list(lengthscale.shape)}")
    d = (A[:, None, :] - B[None, :, :]) / lengthscale
    r = torch.sqrt((d * d).sum(-1) + 1e-12)
    s5r = math.sqrt(5) * r
    return variance * (1 + s5r + s5r * s5r / 3) * torch.exp(-s5r)


@checked(scale=positive, shapes=dict(log_lengthscale="d", log_variance="", log_noise="", X="n d", y="n"))
@dataclass
class GP:
    """Exact GP regression on inputs in the unit cube with standardized targets.

    ``fit`` chooses log ℓ, log σ², log σ_n² by maximizing the log marginal likelihood
    log p(y|X) = −½ yᵀK⁻¹y − ½ log|K| − (n/2) log 2π,  K = k(X, X) + σ_n² I  (Adam from the current
    values, a fixed number of steps: deterministic; a weak Gaussian prior on log ℓ around log 0.3). ``predict`` returns the posterior mean and standard
    deviation of f in the original units.
    """

    log_lengthscale: Tensor
    log_variance: Tensor
    log_noise: Tensor
    X: Tensor | None = None
    y: Tensor | None = None
    mean: float = 0.0
    scale: float = 1.0

    @classmethod
    def new(cls, dim: int) -> "GP":
        return cls(torch.full((dim,), math.log(0.3), dtype=torch.float64),
                   torch.zeros((), dtype=torch.float64), torch.tensor(math.log(1e-4), dtype=torch.float64))

    def _K(self, X: Tensor, log_l: Tensor, log_v: Tensor, log_n: Tensor) -> Tensor:
        noise = torch.exp(log_n) + 1e-8
        return matern52(X, X, torch.exp(log_l), torch.exp(log_v)) + noise * torch.eye(len(X), dtype=X.dtype)

    def log_marginal_likelihood(self, X: Tensor, z: Tensor, log_l: Tensor, log_v: Tensor,
                                log_n: Tensor) -> Tensor:
        L = torch.linalg.cholesky(self._K(X, log_l, log_v, log_n))
        alpha = torch.cholesky_solve(z[:, None], L)[:, 0]
        return -0.5 * z @ alpha - torch.log(torch.diagonal(L)).sum() - len(z) / 2 * math.log(2 * math.pi)

    def fit(self, X: Tensor, y: Tensor, steps: int = 60, lr: float = 0.1) -> "GP":
        if X.dim() != 2 or y.shape != (len(X),):
            raise ValueError(f"need X of shape (n, d) and y of shape (n,), got {tuple(X.shape)}, "
                             f"{tuple(y.shape)}")
        self.mean, self.scale = float(y.mean()), float(y.std()) if len(y) > 1 else 1.0
        self.scale = self.scale if self.scale > 0 else 1.0
        z = (y - self.mean) / self.scale
        if self.log_lengthscale.shape != (X.shape[1],):
            raise ValueError(f"this GP has {len(self.log_lengthscale)} length scales, X has {X.shape[1]} columns")
        theta = [t.clone().requires_grad_(True) for t in self.params()]
        opt = torch.optim.Adam(theta, lr=lr)
        for _ in range(steps):
            opt.zero_grad()
            # a weak prior keeps ℓ inside the unit cube's scale and the noise small
            loss = -self.log_marginal_likelihood(X, z, *theta) + 0.5 * ((theta[0] - math.log(0.3)) ** 2).sum()
            loss.backward()
            opt.step()
            with torch.no_grad():
                theta[2].clamp_(math.log(1e-6), math.log(1e-1))
        self.log_lengthscale, self.log_variance, self.log_noise = (t.detach() for t in theta)
        self.X, self.y = X, z
        return self

    def params(self) -> tuple[Tensor, Tensor, Tensor]:
        return self.log_lengthscale, self.log_variance, self.log_noise

    def predict(self, Xs: Tensor) -> tuple[Tensor, Tensor]:
        if self.X is None:
            raise ValueError("fit the GP before predicting")
        L = torch.linalg.cholesky(self._K(self.X, *self.params()))
        Ks = matern52(Xs, self.X, torch.exp(self.log_lengthscale), torch.exp(self.log_variance))
        mu = Ks @ torch.cholesky_solve(self.y[:, None], L)[:, 0]
        V = torch.linalg.solve_triangular(L, Ks.T, upper=False)
        var = (torch.exp(self.log_variance) - (V * V).sum(0)).clamp_min(1e-12)
        return self.mean + self.scale * mu, self.scale * var.sqrt()


# --- acquisition functions (for minimization) -------------------------------------------------------

_normal = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64),
                                     torch.tensor(1.0, dtype=torch.float64))


def _cdf(z: Tensor) -> Tensor:
    """Φ(z) = ½ erfc(−z/√2): full relative precision far into the lower tail, where ½(1 + erf(z/√2))
    and torch's ndtr return 0 (z ≲ −6 and −10)."""
    return 0.5 * torch.special.erfc(-z / math.sqrt(2))


@checked(sigma=tensor(lo=0, lo_open=True), xi=nonnegative, same_shape=("mu", "sigma"))
def expected_improvement(mu: Tensor, sigma: Tensor, best: float, xi: float = 0.0) -> Tensor:
    """EI (Jones et al. 1998, eq. 15): E[max(best − f − ξ, 0)] for f ~ N(μ, σ²)
    = (best − μ − ξ) Φ(z) + σ φ(z) = σ (z Φ(z) + φ(z)),  z = (best − μ − ξ)/σ.

    Below z = 0 the two terms cancel (at z = −10 the naive sum is 100× too large); there
    z Φ(z) + φ(z) = e^{−z²/2} (z/2 · erfcx(−z/√2) + 1/√(2π)), accurate to ~z² ulp until it underflows."""
    z = (best - mu - xi) / sigma
    neg, pos = z.clamp(max=0), z.clamp(min=0)  # each branch evaluated where it is accurate and finite
    tail = torch.exp(-neg * neg / 2) * (neg / 2 * torch.special.erfcx(-neg / math.sqrt(2)) + 1 / math.sqrt(2 * math.pi))
    body = pos * _cdf(pos) + torch.exp(-pos * pos / 2) / math.sqrt(2 * math.pi)
    return sigma * torch.where(z < 0, tail, body)


@checked(sigma=tensor(lo=0, lo_open=True), xi=nonnegative, same_shape=("mu", "sigma"))
def probability_of_improvement(mu: Tensor, sigma: Tensor, best: float, xi: float = 0.01) -> Tensor:
    """PI (Kushner 1964): P(f < best − ξ) = Φ((best − μ − ξ)/σ), with Φ from erfc (accurate in the tail)."""
    return _cdf((best - mu - xi) / sigma)


@checked(sigma=tensor(lo=0), kappa=nonnegative, same_shape=("mu", "sigma"))
def lower_confidence_bound(mu: Tensor, sigma: Tensor, best: float, kappa: float = 2.0) -> Tensor:
    """UCB on −f (Srinivas et al. 2010): maximize −(μ − κσ); ``best`` is unused (same signature)."""
    return -(mu - kappa * sigma)


ACQUISITIONS = {"ei": expected_improvement, "pi": probability_of_improvement,
                "ucb": lower_confidence_bound}


def _candidates(U: Tensor, y: Tensor, n: int, gen: torch.Generator) -> Tensor:
    """Random points in the unit cube plus Gaussian moves (three scales) around the 5 best so far."""
    d = U.shape[1]
    top = U[torch.argsort(y)[:5]]
    local = [(top.repeat(n // 50, 1) + s * torch.randn(len(top) * (n // 50), d, generator=gen,
                                                          dtype=torch.float64)) for s in (0.1, 0.02, 0.004)]
    return torch.cat([torch.rand(n, d, generator=gen, dtype=torch.float64), *local]).clamp(0, 1)


@checked(bounds=pairs_of(real), n=size, init=size, acquisition=one_of(*ACQUISITIONS), candidates=size)
def bayes_opt(f: Objective, bounds: Bounds, n: int, *, init: int = 5, acquisition: str = "ei",
              seed: int = 0, candidates: int = 2000) -> tuple[Tensor, Tensor]:
    """Bayesian optimization: ``init`` uniform points, then n − init rounds of (fit the GP to all
    observations (warm-started), evaluate f where the acquisition is largest among the candidates)."""
    b = _bounds(bounds)
    if acquisition not in ACQUISITIONS:
        raise ValueError(f"unknown acquisition {acquisition!r}: choose from {', '.join(ACQUISITIONS)}")
    if not 1 <= init <= n:
        raise ValueError(f"need 1 <= init <= n, got init={init}, n={n}")
    gen = torch.Generator().manual_seed(seed)
    U = torch.rand(init, len(b), generator=gen, dtype=torch.float64)
    y = _evaluate(f, _scale(U, b))
    acq = ACQUISITIONS[acquisition]
    gp = GP.new(len(b))
    while len(y) < n:
        gp.fit(U, y, steps=60 if len(y) == init else 15)  # warm start after the first fit
        C = _candidates(U, y, candidates, gen)
        mu, sigma = gp.predict(C)
        u = C[torch.argmax(acq(mu, sigma, float(y.min())))]
        U = torch.cat([U, u[None]])
        y = torch.cat([y, _evaluate(f, _scale(u[None], b))])
    return _scale(U, b), y


# --- CMA-ES -----------------------------------------------------------------------------------------

@checked(sigma=positive, popsize=count, shapes=dict(mean="N"))
@dataclass
class CMAES:
    """The covariance matrix adaptation evolution strategy, as ask/tell.

    Search distribution N(m, σ² C), C = B diag(D²) Bᵀ. Each generation: sample λ points, rank them by
    f, move m to the weighted mean of the best μ, update the evolution paths p_σ (conjugate: whitened
    by C^{-1/2}) and p_c, then C (rank-one from p_c plus rank-μ from the selected steps) and σ
    (cumulative step-size adaptation: grow σ when p_σ is longer than a random walk would be). Only
    the ranks of f enter, so any increasing transform of f gives the same run.
    """

    mean: Tensor
    sigma: float
    popsize: int = 0  # λ; 0: the default 4 + ⌊3 ln N⌋
    C: Tensor = field(init=False)
    p_sigma: Tensor = field(init=False)
    p_c: Tensor = field(init=False)
    generation: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        N = self.mean.numel()
        self.mean = self.mean.to(torch.float64).reshape(N)
        lam = self.popsize or 4 + int(3 * math.log(N))
        if lam < 2:
            raise ValueError(f"popsize must be >= 2, got {lam}")
        if not self.sigma > 0:
            raise ValueError(f"sigma must be > 0, got {self.sigma}")
        self.popsize, mu = lam, lam // 2
        w = math.log((lam + 1) / 2) - torch.log(torch.arange(1, mu + 1, dtype=torch.float64))
        self.weights = w / w.sum()  # w_1 ≥ … ≥ w_μ > 0, Σ w = 1
        self.mu_eff = float(1 / (self.weights**2).sum())
        me = self.mu_eff
        self.c_sigma = (me + 2) / (N + me + 5)
        self.d_sigma = 1 + 2 * max(0.0, math.sqrt((me - 1) / (N + 1)) - 1) + self.c_sigma
        self.c_c = (4 + me / N) / (N + 4 + 2 * me / N)
        self.c_1 = 2 / ((N + 1.3) ** 2 + me)
        self.c_mu = min(1 - self.c_1, 2 * (me - 2 + 1 / me) / ((N + 2) ** 2 + me))
        self.chi_N = math.sqrt(N) * (1 - 1 / (4 * N) + 1 / (21 * N**2))  # E‖N(0, I)‖
        self.C = torch.eye(N, dtype=torch.float64)
        self.p_sigma, self.p_c = torch.zeros(N, dtype=torch.float64), torch.zeros(N, dtype=torch.float64)

    def ask(self, generator: torch.Generator) -> Tensor:
        """λ candidates x_k = m + σ y_k, y_k ~ N(0, C): [λ, N]."""
        D2, B = torch.linalg.eigh(self.C)
        z = torch.randn(self.popsize, self.mean.numel(), generator=generator, dtype=torch.float64)
        return self.mean + self.sigma * (z * D2.clamp(min=0).sqrt()) @ B.T

    def tell(self, X: Tensor, y: Tensor) -> None:
        """Update m, p_σ, p_c, C and σ from the candidates ``X`` [λ, N] and their values ``y`` [λ]."""
        N, mu = self.mean.numel(), len(self.weights)
        if X.shape != (self.popsize, N) or y.shape != (self.popsize,):
            raise ValueError(f"expected X of shape {(self.popsize, N)} and y of shape {(self.popsize,)}, "
                             f"got {tuple(X.shape)} and {tuple(y.shape)}")
        steps = (X[torch.argsort(y)[:mu]] - self.mean) / self.sigma  # the selected y_{i:λ}
        y_w = self.weights @ steps
        self.mean = self.mean + self.sigma * y_w
        D2, B = torch.linalg.eigh(self.C)
        C_inv_sqrt = B @ torch.diag(D2.clamp(min=1e-300).rsqrt()) @ B.T
        cs, cc = self.c_sigma, self.c_c
        self.p_sigma = (1 - cs) * self.p_sigma + math.sqrt(cs * (2 - cs) * self.mu_eff) * C_inv_sqrt @ y_w
        self.generation += 1
        norm = float(self.p_sigma.norm())
        h_sigma = float(norm / math.sqrt(1 - (1 - cs) ** (2 * self.generation))
                        < (1.4 + 2 / (N + 1)) * self.chi_N)  # stall p_c while σ is growing fast
        self.p_c = (1 - cc) * self.p_c + h_sigma * math.sqrt(cc * (2 - cc) * self.mu_eff) * y_w
        rank_mu = (steps.T * self.weights) @ steps
        self.C = ((1 - self.c_1 - self.c_mu) * self.C
                  + self.c_1 * (torch.outer(self.p_c, self.p_c) + (1 - h_sigma) * cc * (2 - cc) * self.C)
                  + self.c_mu * rank_mu)
        self.C = (self.C + self.C.T) / 2
        self.sigma *= math.exp(cs / self.d_sigma * (norm / self.chi_N - 1))


@checked(bounds=pairs_of(real), n=size, sigma0=positive, popsize=count)
def cma_es(f: Objective, bounds: Bounds, n: int, *, seed: int = 0, sigma0: float = 0.3,
           popsize: int = 0) -> tuple[Tensor, Tensor]:
    """Minimize f with :class:`CMAES` for ``n`` evaluations (the last generation may be cut short).

    The search runs in the unit cube of ``bounds``: the mean starts uniformly at random and σ₀ is
    ``sigma0`` of each side. Candidates outside the box are redrawn (resampling, the simplest
    boundary handling that Hansen's tutorial lists, fine while the optimum is inside): the new mean, a
    weighted average of candidates, then stays in the box too.
    """
    b = _bounds(bounds)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    gen = torch.Generator().manual_seed(seed)
    es = CMAES(torch.rand(len(b), generator=gen, dtype=torch.float64), sigma0, popsize)
    X, y = [], []
    while sum(map(len, y)) < n:
        U = torch.empty(0, len(b), dtype=torch.float64)
        while len(U) < es.popsize:
            draw = es.ask(gen)
            U = torch.cat([U, draw[((draw >= 0) & (draw <= 1)).all(1)]])[:es.popsize]
        values = _evaluate(f, _scale(U, b))
        es.tell(U, values)
        X.append(_scale(U, b))
        y.append(values)
    return torch.cat(X)[:n], torch.cat(y)[:n]


# --- Hyperband ---------------------------------------------------------------------------------------

def _log_floor(R: float, eta: int) -> int:
    """⌊log_η R⌋ computed exactly (no float log: log(81)/log(3) is 4.000000000000001 or 3.9999…)."""
    s = 0
    while eta ** (s + 1) <= R * (1 + 1e-12):
        s += 1
    return s


@checked(R=number(1), eta=integer(2), convention=one_of("paper", "hpbandster"))
def hyperband_brackets(R: float, eta: int = 3, convention: str = "paper") -> list[list[tuple[int, float]]]:
    """The (n_i, r_i) rounds of every Hyperband bracket s = s_max … 0 (Li et al. 2018, Alg. 1):
    s_max = ⌊log_η R⌋, B = (s_max + 1)R, n = ⌈(B/R) ηˢ/(s + 1)⌉, r = R η⁻ˢ; round i keeps
    n_i = ⌊n η⁻ⁱ⌋ configurations and trains each with r_i = r ηⁱ resources.

    ``convention="hpbandster"`` reproduces HpBandSter's count n = ⌊(s_max + 1)/(s + 1)⌋ ηˢ (floor
    *before* multiplying), which starts smaller brackets: 27 instead of 34 for R = 81, η = 3, s = 3.
    """
    if eta < 2 or R < 1:
        raise ValueError(f"need eta >= 2 and R >= 1, got eta={eta}, R={R}")
    if convention not in ("paper", "hpbandster"):
        raise ValueError(f"convention must be 'paper' or 'hpbandster', got {convention!r}")
    s_max = _log_floor(R, eta)
    brackets = []
    for s in range(s_max, -1, -1):
        if convention == "paper":
            n = math.ceil((s_max + 1) * eta**s / (s + 1))
        else:
            n = ((s_max + 1) // (s + 1)) * eta**s
        r = R / eta**s
        brackets.append([(max(n // eta**i, 1) if convention == "hpbandster" else n // eta**i, r * eta**i)
                         for i in range(s + 1)])
    return brackets


@checked(R=number(1), eta=integer(2))
def hyperband(train: Callable[[Tensor, float], float], sample: Callable[[torch.Generator], Tensor],
              R: float, eta: int = 3, *, seed: int = 0) -> list[tuple[Tensor, float, float]]:
    """Run Hyperband (paper convention): ``sample(generator)`` draws one configuration,
    ``train(config, r)`` returns its validation loss after r units of resource. In every bracket,
    successive halving keeps the best ⌊n_i/η⌋ after each round. Returns every evaluation as
    (config, resource, loss) in order; the answer is the lowest loss at the largest resource."""
    gen = torch.Generator().manual_seed(seed)
    log = []
    for rounds in hyperband_brackets(R, eta):
        configs = [sample(gen) for _ in range(rounds[0][0])]
        for i, (n_i, r_i) in enumerate(rounds):
            losses = [float(train(c, r_i)) for c in configs]
            log += [(c, r_i, l) for c, l in zip(configs, losses)]
            if i + 1 < len(rounds):
                keep = sorted(range(len(configs)), key=lambda j: losses[j])[:rounds[i + 1][0]]
                configs = [configs[j] for j in keep]
    return log


# --- Optuna, and comparing methods over seeds --------------------------------------------------------

OPTUNA_SAMPLERS = ("tpe", "gp", "random")


@checked(n=size)
def optuna_minimize(f: Objective, bounds: Bounds, n: int, *, sampler: str = "tpe",
                    seed: int = 0) -> tuple[Tensor, Tensor]:
    """Minimize f with an Optuna study of ``n`` trials: ``sampler`` "tpe" (``TPESampler``: a density
    model of the good and the bad trials, Bergstra et al. 2011), "gp" (``GPSampler``: a GP surrogate
    with a log-EI acquisition) or "random"; Optuna's defaults otherwise (TPE and GP start with 10
    random trials). Each coordinate is a ``suggest_float`` over its interval. Returns the points and
    values in the order of evaluation, like every search here."""
    import optuna

    b = _bounds(bounds)
    if sampler not in OPTUNA_SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}: choose from {', '.join(OPTUNA_SAMPLERS)}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    make = {"tpe": optuna.samplers.TPESampler, "gp": optuna.samplers.GPSampler,
            "random": optuna.samplers.RandomSampler}[sampler]
    study = optuna.create_study(direction="minimize", sampler=make(seed=seed))
    names = [f"x{i}" for i in range(len(b))]

    def objective(trial) -> float:
        x = torch.tensor([trial.suggest_float(k, float(lo), float(hi)) for k, (lo, hi) in zip(names, b)],
                         dtype=torch.float64)
        return float(f(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental-feature notices: not the student's concern
        study.optimize(objective, n_trials=n)
    X = torch.tensor([[t.params[k] for k in names] for t in study.trials], dtype=torch.float64)
    return X, torch.tensor([t.value for t in study.trials], dtype=torch.float64)


METHODS: dict[str, Callable[..., tuple[Tensor, Tensor]]] = {
    "random search": lambda f, b, n, seed: random_search(f, b, n, seed=seed),
    "GP-BO + EI (ours)": lambda f, b, n, seed: bayes_opt(f, b, n, seed=seed),
    "Optuna TPE": lambda f, b, n, seed: optuna_minimize(f, b, n, sampler="tpe", seed=seed),
    "Optuna GP": lambda f, b, n, seed: optuna_minimize(f, b, n, sampler="gp", seed=seed),
}
"""The methods :func:`compare` knows, by the name a table shows."""


@checked(n=size, seeds=size, methods=each(one_of(*METHODS)))
def compare(f: Objective, bounds: Bounds, n: int, seeds: int, methods: Sequence[str] = tuple(METHODS),
            progress=False) -> dict[str, Tensor]:
    """Run every method of ``methods`` for ``n`` evaluations with seeds 0 … seeds − 1; returns, per
    method, the values in evaluation order [seeds, n] (use :func:`best_so_far` along dim 1)."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown or seeds < 1:
        raise ValueError(f"need seeds >= 1 and methods from {list(METHODS)}, got {seeds}, {unknown}")
    return {m: torch.stack([METHODS[m](f, bounds, n, s)[1] for s in runtime.track(range(seeds), progress, desc=m)])
            for m in methods}


DATA_DIR = Path(__file__).parent / "data"


@checked(n=size, seeds=size, methods=each(one_of(*METHODS)))
def cached_comparison(name: str, f: Objective, bounds: Bounds, n: int, seeds: int, *,
                      methods: Sequence[str] = tuple(METHODS), recompute: bool = False,
                      path: Path | str | None = None) -> dict[str, Tensor]:
    """:func:`compare`, kept as JSON in ``data/search_<name>.json`` (or ``path``) together with its
    setup. A stored run is used only if its setup (bounds, n, seeds, methods) is the one asked for;
    otherwise, or with ``recompute``, it is run again and stored."""
    path = Path(path) if path is not None else DATA_DIR / f"search_{name}.json"
    setup = {"bounds": [[float(lo), float(hi)] for lo, hi in _bounds(bounds).tolist()], "n": n,
             "seeds": seeds, "methods": list(methods)}
    if path.exists() and not recompute:
        stored = json.loads(path.read_text())
        if stored["setup"] == setup:
            return {m: torch.tensor(stored["values"][m], dtype=torch.float64) for m in methods}
    values = compare(f, bounds, n, seeds, methods)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"setup": setup, "values": {m: t.tolist() for m, t in values.items()}}))
    return values
