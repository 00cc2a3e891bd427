"""Double descent: test risk that rises at the interpolation threshold and falls again beyond it.

Three cheap settings, each with a curve to measure and, where one exists, a curve from theory:

* **sample-wise** — min-norm least squares with isotropic Gaussian inputs ``x ~ N(0, I_d)`` and
  ``y = xᵀβ + σε``. With ``n`` samples and ``d`` parameters the expected excess risk
  ``E‖β̂ − β‖²`` has a closed form that is infinite at ``n = d`` (Belkin, Hsu & Xu 2019, exact at
  finite n; Hastie et al. 2019, asymptotics and ridge). Ridge with the optimal penalty
  ``λ* = dσ²/‖β‖²`` removes the peak (Nakkiran et al. 2021).
* **model-wise** — regression on ``p`` random ReLU features of ``n`` points: the min-norm fit's test
  error peaks at ``p = n`` (Belkin et al. 2019, "Reconciling modern machine learning practice and
  the bias-variance trade-off", with Fourier features; Mei & Montanari 2019 for ReLU features);
  a small ridge removes the peak.
* **model-wise with a fixed task** — the weak-features model of Belkin, Hsu & Xu (2019): the data
  have D features and a fixed β ∈ R^D; the learner uses only the first p of them. As p grows the
  task stays the same (only the model changes), and the expected risk has a closed form.
* **memorization** — a small ReLU network fits training labels that are partly or entirely random
  (Zhang et al. 2017): it reaches 100 % training accuracy either way, and its test accuracy falls
  to chance with the fraction of random labels.
* **epoch-wise** — full-batch gradient descent on a linear model whose features come in two groups
  of very different scales (Heckel & Yilmaz 2021, "Early stopping in deep networks: double descent
  and how to eliminate it"): the fast group learns, then overfits, then the slow group learns.

Penalties are unnormalized: ridge minimizes ``‖y − Xβ‖² + λ‖β‖²``; dropout on the features is
its expected objective in closed form (:func:`dropout_least_squares`). Random numbers are drawn on the
CPU from a seeded generator and moved to ``device``, so every device sees the same data. Work is
in float64 (float32 on Apple's mps, which has no float64).
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import torch

from mlcourse import runtime
from mlcourse.inputs import checked, count, each, fraction, nonnegative, positive, probability, size, tensor

Progress = bool | Callable[..., Iterable]


# --------------------------------------------------------------------------- helpers


def _positive_int(name: str, value: int) -> int:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {value!r}")
    return int(value)


def _nonnegative(name: str, value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _dtype(device: torch.device) -> torch.dtype:
    return torch.float32 if device.type == "mps" else torch.float64


def _randn(generator: torch.Generator, *shape: int) -> torch.Tensor:
    """Standard normal draws on the CPU in float64 (the same numbers on every device)."""
    return torch.randn(*shape, generator=generator, dtype=torch.float64)


def _unit_vectors(generator: torch.Generator, count: int, dim: int) -> torch.Tensor:
    """``count`` directions drawn uniformly on the unit sphere of R^dim, shape (count, dim, 1)."""
    v = _randn(generator, count, dim, 1)
    return v / v.norm(dim=1, keepdim=True)


# --------------------------------------------------------------------------- estimators


@checked(ridge=nonnegative, shapes=dict(X="... n d", y="... n k"))
def least_squares(X: torch.Tensor, y: torch.Tensor, ridge: float = 0.0) -> torch.Tensor:
    """Ridge estimate ``β̂ = argmin ‖y − Xβ‖² + λ‖β‖²``; for ``ridge = 0`` the min-norm solution
    ``β̂ = X⁺y`` (the limit λ → 0⁺, what gradient descent from zero converges to).

    ``X`` has shape (..., n, d) and ``y`` (..., n, k); leading dimensions are a batch. For λ > 0 the
    smaller of the two equivalent systems is solved: ``(XᵀX + λI)β = Xᵀy`` (d × d) when n ≥ d,
    else ``β = Xᵀ(XXᵀ + λI)⁻¹y`` (n × n).
    """
    if X.dim() < 2 or y.dim() != X.dim() or y.shape[-2] != X.shape[-2]:
        raise ValueError(f"expected X of shape (..., n, d) and y of shape (..., n, k), "
                         f"got {tuple(X.shape)} and {tuple(y.shape)}")
    ridge = _nonnegative("ridge", ridge)
    n, d = X.shape[-2:]
    if ridge == 0.0:
        if X.device.type == "cpu":  # SVD-based LAPACK gelsd: ~2x faster than pinv. Not the default
            # gelsy: on rank-deficient X it returned other, run-to-run different, solutions
            return torch.linalg.lstsq(X, y, driver="gelsd").solution
        return torch.linalg.pinv(X) @ y
    if n >= d:
        eye = torch.eye(d, dtype=X.dtype, device=X.device)
        return torch.linalg.solve(X.mT @ X + ridge * eye, X.mT @ y)
    eye = torch.eye(n, dtype=X.dtype, device=X.device)
    return X.mT @ torch.linalg.solve(X @ X.mT + ridge * eye, y)


@checked(rate=fraction, shapes=dict(X="... n d", y="... n k"))
def dropout_least_squares(X: torch.Tensor, y: torch.Tensor, rate: float) -> torch.Tensor:
    """The minimizer of the *expected* squared loss when every feature is dropped independently with
    probability ``rate`` and the survivors are scaled by 1/(1 − rate) (inverted dropout):

        E_M ‖y − (X ⊙ M/q) a‖² = ‖y − Xa‖² + ((1 − q)/q) Σⱼ ‖X_j‖² a_j²,   q = 1 − rate,

    a ridge penalty whose strength for feature j grows with that feature's energy ‖X_j‖² (Wager,
    Wang & Liang 2013, "Dropout training as adaptive regularization"). ``rate = 0`` is min-norm
    least squares. Shapes as :func:`least_squares`.
    """
    if not 0 <= rate < 1:
        raise ValueError(f"the dropout rate must be in [0, 1), got {rate!r}")
    if rate == 0:
        return least_squares(X, y)
    q = 1 - rate
    gram = X.mT @ X
    penalty = (1 - q) / q * torch.diagonal(gram, dim1=-2, dim2=-1)
    return torch.linalg.solve(gram + torch.diag_embed(penalty), X.mT @ y)


# --------------------------------------------------------------------------- sample-wise: linear model


@checked(n=size, d=size, sigma=nonnegative, beta_norm=nonnegative)
def minnorm_risk_theory(n: int, d: int, sigma: float, beta_norm: float = 1.0) -> float:
    """Expected excess risk ``E‖β̂ − β‖²`` of min-norm least squares, x ~ N(0, I_d), noise σ:

        ‖β‖²(1 − n/d) + σ² n / (d − n − 1)    for n ≤ d − 2  (bias of the unseen directions + variance)
        σ² d / (n − d − 1)                     for n ≥ d + 2  (variance only: β̂ is unbiased)

    and ``inf`` in between, where the inverse Wishart moment of the variance diverges (Belkin, Hsu &
    Xu 2019, "Two models of double descent for weak features"; Hastie et al. 2019). Without noise
    (σ = 0) only the bias ``‖β‖² max(0, 1 − n/d)`` is left: no peak at all.
    """
    n, d = _positive_int("n", n), _positive_int("d", d)
    sigma, beta_norm = _nonnegative("sigma", sigma), _nonnegative("beta_norm", beta_norm)
    bias = beta_norm**2 * max(0.0, 1 - n / d)
    if sigma == 0:
        return bias
    if n <= d - 2:
        return bias + sigma**2 * n / (d - n - 1)
    if n >= d + 2:
        return sigma**2 * d / (n - d - 1)
    return math.inf


@checked(n=size, d=size, trials=size)
def smallest_singular_value(n: int, d: int, *, trials: int = 5, seed: int = 0) -> float:
    """Median over ``trials`` of the smallest nonzero-rank singular value of an n × d standard normal
    matrix: ≈ |√d − √n| for large n and d (the edge of the Marchenko–Pastur law), so ≈ 0 at n = d.
    The min-norm fit divides the noise by these values — why its variance explodes at n = d."""
    n, d, trials = _positive_int("n", n), _positive_int("d", d), _positive_int("trials", trials)
    g = torch.Generator().manual_seed(seed)
    return float(torch.linalg.svdvals(_randn(g, trials, n, d))[:, -1].median())


@checked(d=size, sigma=nonnegative, beta_norm=nonnegative)
def optimal_ridge(d: int, sigma: float, beta_norm: float = 1.0) -> float:
    """The penalty ``λ* = dσ²/‖β‖²`` that minimizes the expected risk for every n (Nakkiran et al.
    2021, "Optimal regularization can mitigate double descent"): the posterior mean under the prior
    β ~ N(0, ‖β‖²/d · I). With it the risk falls monotonically in n."""
    d = _positive_int("d", d)
    sigma, beta_norm = _nonnegative("sigma", sigma), _nonnegative("beta_norm", beta_norm)
    if beta_norm == 0:
        raise ValueError("beta_norm must be > 0 for the optimal ridge (λ* = dσ²/‖β‖²)")
    return d * sigma**2 / beta_norm**2


@checked(n=size, d=size, sigma=nonnegative, ridge=nonnegative, beta_norm=nonnegative)
def ridge_risk_theory(n: int, d: int, sigma: float, ridge: float, beta_norm: float = 1.0) -> float:
    """Asymptotic excess risk of ridge (d, n → ∞, γ = d/n fixed), isotropic Gaussian inputs:

        R = ‖β‖² λₙ² m′(−λₙ) + σ² γ (m(−λₙ) − λₙ m′(−λₙ)),    λₙ = λ / n,

    with ``m`` the Stieltjes transform of the Marchenko–Pastur law of ratio γ, the root of
    ``γzm² + (z − 1 + γ)m + 1 = 0`` (Dobriban & Wager 2018; Hastie et al. 2019). In terms of
    ``u = γλₙm`` and ``s = √((1 − γ + λₙ)² + 4γλₙ)`` both terms are free of cancellation:
    ``λₙ²m′ = u(u + λₙ)/(γs)`` and ``m − λₙm′ = (1 − u/γ)/s``. At λ = 0 this is the asymptotic
    ridgeless risk (infinite at γ = 1); :func:`minnorm_risk_theory` is the exact finite-n one.
    """
    n, d = _positive_int("n", n), _positive_int("d", d)
    sigma, beta_norm = _nonnegative("sigma", sigma), _nonnegative("beta_norm", beta_norm)
    gamma, lam = d / n, _nonnegative("ridge", ridge) / n
    a = 1 - gamma + lam
    s = math.sqrt(a * a + 4 * gamma * lam)
    if s == 0:
        return math.inf  # λ = 0 exactly at the threshold d = n
    u = 2 * gamma * lam / (a + s) if a > 0 else (s - a) / 2  # the stable branch of each sign
    return (beta_norm**2 * u * (u + lam) / gamma + sigma**2 * (gamma - u)) / s


@checked(n=size, d=size, sigma=nonnegative, ridge=nonnegative, trials=size, beta_norm=nonnegative)
def linear_risk(n: int, d: int, sigma: float, *, ridge: float = 0.0, trials: int = 20, seed: int = 0,
                beta_norm: float = 1.0, device: str | torch.device | None = None) -> tuple[float, float]:
    """Monte-Carlo excess risk ``‖β̂ − β‖²`` (= E_x[(xᵀβ̂ − xᵀβ)²] for x ~ N(0, I_d)) of the min-norm
    (ridge = 0) or ridge estimator, over ``trials`` independent draws of β (uniform direction,
    norm ``beta_norm``), X (n × d) and the noise. Returns (mean, median) over the trials."""
    n, d, trials = _positive_int("n", n), _positive_int("d", d), _positive_int("trials", trials)
    sigma, ridge = _nonnegative("sigma", sigma), _nonnegative("ridge", ridge)
    beta_norm = _nonnegative("beta_norm", beta_norm)
    dev = runtime.get_device(device)
    g = torch.Generator().manual_seed(seed)
    beta = beta_norm * _unit_vectors(g, trials, d)
    X = _randn(g, trials, n, d)
    y = X @ beta + sigma * _randn(g, trials, n, 1)
    X, y, beta = (t.to(dev, _dtype(dev)) for t in (X, y, beta))
    risk = ((least_squares(X, y, ridge) - beta) ** 2).sum(dim=(1, 2)).double().cpu()
    return risk.mean().item(), risk.median().item()


# --------------------------------------------------------------------------- model-wise: random features


@checked(W=tensor(2))
def random_relu_features(X: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """``φ(x) = max(0, Wᵀx)``: one ReLU feature per column of W (shape (input_dim, p))."""
    if X.shape[-1] != W.shape[0]:
        raise ValueError(f"X has {X.shape[-1]} input dims but W expects {W.shape[0]} "
                         f"(X: (..., input_dim), W: (input_dim, p))")
    return torch.relu(X @ W)


@checked(p_values=each(size), n_train=size, input_dim=size, noise=nonnegative, ridge=nonnegative,
         n_test=size, draws=size, dropout=fraction)
def random_features_curve(p_values: Sequence[int], *, n_train: int = 100, input_dim: int = 10,
                          noise: float = 0.1, ridge: float = 0.0, dropout: float = 0.0, n_test: int = 2000,
                          draws: int = 10,
                          seed: int = 0, device: str | torch.device | None = None,
                          progress: Progress = False) -> torch.Tensor:
    """Median (over ``draws``) test MSE of least squares on p random ReLU features, for each p.

    Setting (Belkin et al. 2019 with ReLU instead of Fourier features, as in Mei & Montanari 2019):
    inputs ``x ~ N(0, I/input_dim)`` (so ‖x‖ ≈ 1), a teacher direction ``w`` uniform on the unit sphere,
    targets ``tanh(2wᵀx) + noise·ε`` for training, noise-free for the ``n_test`` test points;
    features ``relu(Wᵀx)`` with ``W_ij ~ N(0, 1)``; coefficients from :func:`least_squares`. Each
    draw resamples the teacher, the data and W; p only changes how many columns of W are used.
    ``dropout`` > 0 fits the coefficients with :func:`dropout_least_squares` instead (not together
    with ``ridge``).
    """
    ps = [_positive_int("p", p) for p in p_values]
    if not ps:
        raise ValueError("p_values is empty: give at least one number of features")
    n, k = _positive_int("n_train", n_train), _positive_int("input_dim", input_dim)
    n_test, draws = _positive_int("n_test", n_test), _positive_int("draws", draws)
    noise, ridge = _nonnegative("noise", noise), _nonnegative("ridge", ridge)
    if dropout and ridge:
        raise ValueError("choose ridge or dropout, not both")
    dev = runtime.get_device(device)
    dtype = _dtype(dev)
    draw_seeds = torch.randint(2**62, (draws,), generator=torch.Generator().manual_seed(seed))
    mse = torch.empty(draws, len(ps), dtype=torch.float64)
    for r in runtime.track(range(draws), progress, desc="draws"):
        g = torch.Generator().manual_seed(int(draw_seeds[r]))  # draw r never depends on p_values
        w = _unit_vectors(g, 1, k)[0]
        X, X_test = _randn(g, n, k) / math.sqrt(k), _randn(g, n_test, k) / math.sqrt(k)
        y = torch.tanh(2 * X @ w) + noise * _randn(g, n, 1)
        y_test = torch.tanh(2 * X_test @ w)
        W = torch.stack([_randn(g, k) for _ in range(max(ps))], dim=1)  # feature by feature, so the
        # first p columns do not depend on max(p_values)
        X, X_test, y, y_test, W = (t.to(dev, dtype) for t in (X, X_test, y, y_test, W))
        for j, p in enumerate(ps):
            features = random_relu_features(X, W[:, :p])
            a = dropout_least_squares(features, y, dropout) if dropout else least_squares(features, y, ridge)
            residual = random_relu_features(X_test, W[:, :p]) @ a - y_test
            mse[r, j] = (residual**2).mean().item()
    return mse.median(dim=0).values


# --------------------------------------------------------------------------- model-wise with a fixed task: weak features


@checked(total=size, decay=nonnegative)
def weak_features_beta(total: int, decay: float = 0.5) -> torch.Tensor:
    """The fixed coefficients of the weak-features task: β_j ∝ j^(−decay), j = 1 … total, ‖β‖ = 1 —
    the first features carry the most signal (decay 0: every feature carries the same). Shape (total,)."""
    total = _positive_int("total", total)
    beta = torch.arange(1, total + 1, dtype=torch.float64) ** (-_nonnegative("decay", decay))
    return beta / beta.norm()


@checked(n=size, p=size, sigma=nonnegative, shapes=dict(beta="P"))
def weak_features_theory(n: int, p: int, beta: torch.Tensor, sigma: float) -> float:
    """Expected excess risk E[(xᵀβ̂ − xᵀβ)²] of min-norm least squares that uses only the first p of
    the D = len(β) features, x ~ N(0, I_D), y = xᵀβ + σε (Belkin, Hsu & Xu 2019, Theorem 1, minus
    the noise σ²). With S = ‖β_{1..p}‖² (the signal the model can see) and U = ‖β_{p+1..D}‖² (the
    signal it cannot, which acts as extra noise):

        (U + σ²)(1 + p/(n − p − 1)) − σ²                     for p ≤ n − 2,
        S(1 − n/p) + (U + σ²)(1 + n/(p − n − 1)) − σ²         for p ≥ n + 2,

    and ``inf`` in between. At p = D this is :func:`minnorm_risk_theory`.
    """
    n, p = _positive_int("n", n), _positive_int("p", p)
    if p > len(beta):
        raise ValueError(f"the model cannot use more features (p = {p}) than the task has ({len(beta)})")
    sigma = _nonnegative("sigma", sigma)
    seen, unseen = float((beta[:p] ** 2).sum()), float((beta[p:] ** 2).sum())
    if p <= n - 2:
        return (unseen + sigma**2) * (1 + p / (n - p - 1)) - sigma**2
    if p >= n + 2:
        return seen * (1 - n / p) + (unseen + sigma**2) * (1 + n / (p - n - 1)) - sigma**2
    return math.inf


@checked(n=size, p_values=each(size), sigma=nonnegative, ridge=nonnegative, trials=size, shapes=dict(beta="P"))
def weak_features_curve(n: int, p_values: Sequence[int], beta: torch.Tensor, sigma: float, *,
                        ridge: float = 0.0, trials: int = 20, seed: int = 0,
                        device: str | torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Monte-Carlo excess risk ‖β̂_{1..p} − β_{1..p}‖² + ‖β_{p+1..D}‖² of least squares (min-norm, or
    ridge) on the first p features, for every p of ``p_values``. One task for all p: each trial draws
    X (n × D) and the noise once and every p uses the first p columns of the same X. Returns (mean,
    median) over the trials, each of shape (len(p_values),)."""
    ps = [_positive_int("p", p) for p in p_values]
    n, trials = _positive_int("n", n), _positive_int("trials", trials)
    sigma, ridge = _nonnegative("sigma", sigma), _nonnegative("ridge", ridge)
    if not ps or max(ps) > len(beta):
        raise ValueError(f"p_values must be non-empty and at most D = {len(beta)}, got {p_values!r}")
    dev = runtime.get_device(device)
    g = torch.Generator().manual_seed(seed)
    b = beta.to(torch.float64).reshape(1, -1, 1)
    X = _randn(g, trials, n, len(beta))
    y = X @ b + sigma * _randn(g, trials, n, 1)
    X, y, b = (t.to(dev, _dtype(dev)) for t in (X, y, b))
    risk = torch.empty(trials, len(ps), dtype=torch.float64)
    for j, p in enumerate(ps):
        est = least_squares(X[..., :p], y, ridge)
        risk[:, j] = (((est - b[:, :p]) ** 2).sum(dim=(1, 2)) + (b[:, p:] ** 2).sum()).double().cpu()
    return risk.mean(0), risk.median(0).values


# --------------------------------------------------------------------------- memorization: random labels


@checked(corruption=probability, n_train=size, n_test=size, input_dim=size, classes=size, width=size,
          lr=positive, momentum=fraction, max_steps=count)
def memorization_run(corruption: float, *, n_train: int = 500, n_test: int = 2000, input_dim: int = 20,
                     classes: int = 10, width: int = 256, lr: float = 0.05, momentum: float = 0.9,
                     max_steps: int = 2000, seed: int = 0) -> dict:
    """Train a one-hidden-layer ReLU network on labels of which a fraction ``corruption`` was replaced
    by uniformly random classes (Zhang et al. 2017, Sect. 2: partially corrupted labels).

    Data: x ~ N(0, I), true class = argmax of a fixed random linear map of x (``classes`` classes);
    training labels corrupted, test labels clean. Full-batch gradient descent with heavy-ball
    momentum on the cross-entropy, until every training label is fitted or ``max_steps``. float32, one
    seed for everything. Returns ``train_acc`` (per step, a tensor), ``steps_to_fit`` (None if not
    fitted), ``test_acc`` (on the clean test labels, at the end), ``parameters``.
    """
    if not 0 <= corruption <= 1:
        raise ValueError(f"corruption must be in [0, 1], got {corruption!r}")
    n, n_test = _positive_int("n_train", n_train), _positive_int("n_test", n_test)
    d, k, h = _positive_int("input_dim", input_dim), _positive_int("classes", classes), _positive_int("width", width)
    g = torch.Generator().manual_seed(seed)
    teacher = torch.randn(d, k, generator=g)
    X = torch.randn(n + n_test, d, generator=g)
    labels = (X @ teacher).argmax(1)
    X_train, y_train, X_test, y_test = X[:n], labels[:n].clone(), X[n:], labels[n:]
    replace = torch.rand(n, generator=g) < corruption
    y_train[replace] = torch.randint(k, (int(replace.sum()),), generator=g)
    W1 = (torch.randn(d, h, generator=g) / math.sqrt(d)).requires_grad_()
    b1 = torch.zeros(h, requires_grad=True)
    W2 = (torch.randn(h, k, generator=g) / math.sqrt(h)).requires_grad_()
    params = [W1, b1, W2]
    velocity = [torch.zeros_like(t) for t in params]  # heavy ball as torch.optim.SGD: v ← μv + g, θ ← θ − ηv
    history, fitted = [], None
    for step in range(max_steps + 1):
        logits = torch.relu(X_train @ W1 + b1) @ W2
        history.append(float((logits.argmax(1) == y_train).float().mean()))
        if history[-1] == 1.0:
            fitted = step
            break
        if step < max_steps:
            grads = torch.autograd.grad(torch.nn.functional.cross_entropy(logits, y_train), params)
            with torch.no_grad():
                for t, v, g_t in zip(params, velocity, grads):
                    v.mul_(momentum).add_(g_t)
                    t.sub_(lr * v)
    with torch.no_grad():
        test_acc = float(((torch.relu(X_test @ W1 + b1) @ W2).argmax(1) == y_test).float().mean())
    return {"train_acc": torch.tensor(history), "steps_to_fit": fitted, "test_acc": test_acc,
            "parameters": d * h + h + h * k}


# --------------------------------------------------------------------------- epoch-wise: two time scales


@checked(n_train=size, d_fast=size, d_slow=size, slow_scale=positive, noise=nonnegative, draws=size)
def two_scale_problem(n_train: int, d_fast: int, d_slow: int, slow_scale: float, noise: float,
                      generator: torch.Generator, draws: int = 1) -> tuple[torch.Tensor, ...]:
    """Data for epoch-wise double descent (the linear model of Heckel & Yilmaz 2021): features
    ``x = (z_fast, slow_scale · z_slow)`` with z ~ N(0, I), teacher β whose fast and slow parts each
    carry unit signal variance (‖β_fast‖ = 1, slow_scale·‖β_slow‖ = 1), ``y = xᵀβ + noise·ε``.
    Returns (X, y, β, scale): shapes (draws, n, d), (draws, n, 1), (draws, d, 1) and (d, 1), scale
    being the per-feature standard deviation."""
    scale = torch.cat([torch.ones(d_fast, dtype=torch.float64),
                       torch.full((d_slow,), float(slow_scale), dtype=torch.float64)]).unsqueeze(1)
    beta = torch.cat([_unit_vectors(generator, draws, d_fast),
                      _unit_vectors(generator, draws, d_slow) / slow_scale], dim=1)
    X = _randn(generator, draws, n_train, d_fast + d_slow) * scale.T
    y = X @ beta + noise * _randn(generator, draws, n_train, 1)
    return X, y, beta, scale


@checked(epochs=size, n_train=size, d_fast=size, d_slow=size, slow_scale=positive, noise=nonnegative,
         lr=positive, draws=size, points=size)
def epochwise_curve(epochs: int = 10_000, *, n_train: int = 100, d_fast: int = 50, d_slow: int = 10,
                    slow_scale: float = 0.05, noise: float = 0.5, lr: float | None = None,
                    equalize: bool = False, draws: int = 10, points: int = 60, seed: int = 0,
                    device: str | torch.device | None = None,
                    progress: Progress = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Test risk ``E_x[(xᵀθ_t − xᵀβ)²] = Σ_j scale_j² (θ_t − β)_j²`` along full-batch gradient descent
    ``θ_{t+1} = θ_t − lr · Xᵀ(Xθ_t − y)/n`` from θ_0 = 0 on :func:`two_scale_problem`.

    One step sees every sample, so step = epoch. The fast features are fitted within a few epochs
    and then overfit the noise (plus the not-yet-learned slow signal, which acts as noise); the slow
    features are learned only after ~1/(lr·slow_scale²) epochs, which brings the second descent
    (Heckel & Yilmaz 2021; epoch-wise double descent as in Nakkiran et al. 2019). ``equalize`` is
    their fix: feature j gets the step size lr/scale_j², i.e. θ ← θ − lr·D(Hθ − b) with
    D = diag(1/scale²), so that both groups are learned on one time scale. ``lr`` defaults to
    1/λ_max of the (preconditioned) D^½ H D^½, H = XᵀX/n, of each draw. The ``draws`` independent
    problems run as one batch. Returns
    (epochs recorded, mean risk over the draws), recorded at about ``points`` log-spaced epochs
    including 0 and ``epochs``.
    """
    epochs, draws = _positive_int("epochs", epochs), _positive_int("draws", draws)
    n = _positive_int("n_train", n_train)
    d_fast, d_slow = _positive_int("d_fast", d_fast), _positive_int("d_slow", d_slow)
    points = _positive_int("points", points)
    noise = _nonnegative("noise", noise)
    if not 0 < slow_scale <= 1:
        raise ValueError(f"slow_scale must be in (0, 1], got {slow_scale!r}")
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0 (or None), got {lr!r}")
    dev = runtime.get_device(device)
    dtype = _dtype(dev)
    g = torch.Generator().manual_seed(seed)
    X, y, beta, scale = (t.to(dev, dtype) for t in two_scale_problem(n, d_fast, d_slow, slow_scale,
                                                                        noise, g, draws))
    H, b = X.mT @ X / n, X.mT @ y / n  # the gradient Xᵀ(Xθ − y)/n is Hθ − b
    D = 1 / scale**2 if equalize else torch.ones_like(scale)  # [d, 1]: per-feature step factors
    step = (torch.full((draws, 1, 1), lr, dtype=dtype, device=dev) if lr is not None
            else 1 / torch.linalg.eigvalsh(D.sqrt() * H * D.sqrt().T).amax(dim=-1).view(draws, 1, 1))
    A, c = torch.eye(H.shape[-1], dtype=dtype, device=dev) - step * D * H, step * D * b  # θ ← Aθ + c
    record = sorted({0, *torch.logspace(0, math.log10(epochs), points).round().long().tolist()})
    risk = []
    theta = torch.zeros_like(beta)
    for t in runtime.track(range(epochs + 1), progress, desc="epochs"):
        if t == record[len(risk)]:
            risk.append((((theta - beta) * scale) ** 2).sum(dim=(1, 2)).mean().item())
            if len(risk) == len(record):
                break
        theta = torch.baddbmm(c, A, theta)  # = θ − lr·(Hθ − b), one fused product per epoch
    return torch.tensor(record), torch.tensor(risk, dtype=torch.float64)
