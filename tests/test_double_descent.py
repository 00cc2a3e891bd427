"""Tests for mlcourse.double_descent: closed forms, library twins and the syllabus numbers (§ 09)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from mlcourse import double_descent as dd

D, SIGMA = 500, 0.5  # the syllabus setting for the linear model


# --------------------------------------------------------------------------- theory formulas


def test_minnorm_theory_closed_form_values():
    # below the threshold: bias ‖β‖²(1 − n/d) + variance σ² n/(d − n − 1)
    assert dd.minnorm_risk_theory(100, D, SIGMA) == pytest.approx(0.8 + 0.25 * 100 / 399, rel=1e-12)
    # above: σ² d/(n − d − 1), independent of ‖β‖
    assert dd.minnorm_risk_theory(1000, D, SIGMA) == pytest.approx(0.25 * 500 / 499, rel=1e-12)
    assert dd.minnorm_risk_theory(1000, D, SIGMA, beta_norm=3.0) == dd.minnorm_risk_theory(1000, D, SIGMA)
    # noise-free: only the bias of the d − n unseen directions, and no peak
    assert dd.minnorm_risk_theory(200, D, 0.0, beta_norm=2.0) == pytest.approx(4 * 0.6)
    assert dd.minnorm_risk_theory(D - 1, D, 0.0) == pytest.approx(1 / D)
    assert dd.minnorm_risk_theory(D, D, 0.0) == 0.0
    assert dd.linear_risk(250, D, 0.0, trials=3)[0] == pytest.approx(0.5, rel=0.05)
    assert dd.linear_risk(60, 50, 0.0, trials=3)[0] < 1e-20


def test_minnorm_theory_is_infinite_only_around_the_threshold():
    finite = [n for n in range(490, 511) if math.isfinite(dd.minnorm_risk_theory(n, D, SIGMA))]
    assert min(n for n in range(490, 511) if n not in finite) == D - 1
    assert max(n for n in range(490, 511) if n not in finite) == D + 1
    assert dd.minnorm_risk_theory(D - 2, D, SIGMA) > dd.minnorm_risk_theory(D - 10, D, SIGMA)


@pytest.mark.parametrize("n", [100, 250, 600, 1000])
def test_monte_carlo_matches_theory_within_10_percent(n):
    mean, median = dd.linear_risk(n, D, SIGMA, trials=20, seed=0)
    theory = dd.minnorm_risk_theory(n, D, SIGMA)
    assert abs(mean / theory - 1) < 0.10
    assert median > 0


def test_ridge_theory_limits_and_monte_carlo():
    # λ → 0: the asymptotic ridgeless risk σ²γ/(1 − γ) (γ = d/n < 1) resp. ‖β‖²(1 − 1/γ) + σ²/(γ − 1)
    for lam in (0.0, 1e-9):
        assert dd.ridge_risk_theory(1000, D, SIGMA, lam) == pytest.approx(0.25 * 0.5 / 0.5, rel=1e-9)
        assert dd.ridge_risk_theory(250, D, SIGMA, lam) == pytest.approx(0.5 + 0.25 / 1.0, rel=1e-9)
    assert dd.ridge_risk_theory(D, D, SIGMA, 0.0) == math.inf
    # and it is the large-d limit of the exact finite-n formula
    assert dd.ridge_risk_theory(200, D, SIGMA, 0.0) == pytest.approx(dd.minnorm_risk_theory(200, D, SIGMA),
                                                                     rel=0.01)
    # λ → ∞: β̂ → 0, the risk is ‖β‖²
    assert dd.ridge_risk_theory(300, D, SIGMA, 1e9, beta_norm=2.0) == pytest.approx(4.0, rel=1e-5)
    for n, ridge in [(250, 125.0), (500, 125.0), (1000, 10.0)]:
        mean, _ = dd.linear_risk(n, D, SIGMA, ridge=ridge, trials=10)
        assert abs(mean / dd.ridge_risk_theory(n, D, SIGMA, ridge) - 1) < 0.05


def test_optimal_ridge_is_125_and_minimizes_the_theory():
    lam = dd.optimal_ridge(D, SIGMA)
    assert lam == pytest.approx(125.0)
    grid = np.geomspace(1.0, 1e4, 201)
    for n in (100, 480, 500, 520, 900):
        risks = [dd.ridge_risk_theory(n, D, SIGMA, g) for g in grid]
        best = grid[int(np.argmin(risks))]
        assert abs(math.log(best / lam)) < 0.05


def test_optimal_ridge_makes_the_sample_wise_curve_monotone():
    ns = range(100, 1001, 100)
    theory = [dd.ridge_risk_theory(n, D, SIGMA, 125.0) for n in range(50, 1001, 5)]
    assert all(b < a for a, b in zip(theory, theory[1:]))
    measured = [dd.linear_risk(n, D, SIGMA, ridge=125.0, trials=10)[0] for n in ns]
    assert all(b < a for a, b in zip(measured, measured[1:]))
    # and at the threshold it beats both less and more regularization
    at_d = {lam: dd.linear_risk(D, D, SIGMA, ridge=lam, trials=10)[0] for lam in (0.0, 12.5, 125.0, 1250.0)}
    assert at_d[125.0] == min(at_d.values())


def test_sample_wise_peak_sits_at_n_equals_d():
    ns = list(range(445, 560, 10))  # 495 and 505 straddle d; d itself is not on the grid
    medians = [dd.linear_risk(n, D, SIGMA, trials=5)[1] for n in ns]
    peak = ns[int(np.argmax(medians))]
    assert abs(peak - D) <= 10
    assert max(medians) > 5 * max(medians[0], medians[-1])


# --------------------------------------------------------------------------- estimator twins


@pytest.mark.parametrize("n,d", [(30, 80), (80, 30)])
def test_min_norm_solution_matches_numpy_lstsq(n, d):
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((n, d)), rng.standard_normal((n, 2))
    ours = dd.least_squares(torch.from_numpy(X), torch.from_numpy(y)).numpy()
    ref = np.linalg.lstsq(X, y, rcond=None)[0]  # min-norm least squares
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("n,d", [(30, 80), (80, 30)])
def test_ridge_matches_sklearn_and_tends_to_min_norm(n, d):
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((n, d)), rng.standard_normal((n, 1))
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    ref = Ridge(alpha=3.0, fit_intercept=False, solver="cholesky").fit(X, y[:, 0]).coef_
    np.testing.assert_allclose(dd.least_squares(Xt, yt, 3.0)[:, 0].numpy(), ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dd.least_squares(Xt, yt, 1e-9).numpy(), dd.least_squares(Xt, yt).numpy(),
                               atol=1e-6)


def test_min_norm_solution_with_dependent_columns():
    # many least-squares solutions: the one without a null-space component (LAPACK gelsy, torch's
    # default CPU driver, returned a different one on about half of such draws)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        X = torch.randn(40, 10, generator=g, dtype=torch.float64)
        X = torch.cat([X, X[:, :3]], dim=1)
        y = torch.randn(40, 1, generator=g, dtype=torch.float64)
        torch.testing.assert_close(dd.least_squares(X, y), torch.linalg.pinv(X) @ y)
        torch.testing.assert_close(dd.least_squares(X.T, X.T @ y), torch.linalg.pinv(X.T) @ (X.T @ y))


def test_least_squares_batches_and_rejects_bad_shapes():
    X, y = torch.randn(4, 10, 6, dtype=torch.float64), torch.randn(4, 10, 1, dtype=torch.float64)
    batched = dd.least_squares(X, y, 0.5)
    single = torch.stack([dd.least_squares(X[i], y[i], 0.5) for i in range(4)])
    torch.testing.assert_close(batched, single)
    with pytest.raises(ValueError, match="shape"):
        dd.least_squares(X[0], y[0, :9])
    with pytest.raises(ValueError, match="shape"):
        dd.least_squares(X[0], y[0, :, 0])
    with pytest.raises(ValueError, match="ridge"):
        dd.least_squares(X, y, -1.0)


def test_linear_risk_is_reproducible_and_explicit_about_device():
    a = dd.linear_risk(50, 40, 0.3, trials=4, seed=3, device="cpu")
    assert a == pytest.approx(dd.linear_risk(50, 40, 0.3, trials=4, seed=3), rel=1e-12)
    assert a != pytest.approx(dd.linear_risk(50, 40, 0.3, trials=4, seed=4), rel=1e-3)


# --------------------------------------------------------------------------- random features


def test_random_features_peak_at_p_equals_n_and_ridge_removes_it():
    p = [90, 100, 110]
    ridgeless = dd.random_features_curve(p).tolist()
    assert ridgeless[1] > 5 * ridgeless[0] and ridgeless[1] > 5 * ridgeless[2]
    assert ridgeless[0] < 0.3 and ridgeless[2] < 0.3  # syllabus: ≈ 0.2 beside the peak
    ridged = dd.random_features_curve(p, ridge=0.1).tolist()
    assert ridged[1] < 1.2 * min(ridged[0], ridged[2])
    assert max(ridged) < min(ridgeless)


def test_random_features_peak_moves_with_the_training_set():
    ps = list(range(20, 121, 10))
    peak = ps[int(torch.argmax(dd.random_features_curve(ps, n_train=50, draws=5)))]
    assert peak == 50


def test_random_features_curve_does_not_depend_on_the_other_p():
    alone = dd.random_features_curve([40], draws=3, n_test=200)
    among = dd.random_features_curve([5, 40, 300], draws=3, n_test=200)
    torch.testing.assert_close(alone[0], among[1])


def test_random_relu_features_interpolate_beyond_the_threshold():
    X, W = torch.randn(20, 3, dtype=torch.float64), torch.randn(3, 50, dtype=torch.float64)
    F = dd.random_relu_features(X, W)
    assert F.shape == (20, 50) and bool((F >= 0).all())
    y = torch.randn(20, 1, dtype=torch.float64)
    torch.testing.assert_close(F @ dd.least_squares(F, y), y)
    with pytest.raises(ValueError, match="input dims"):
        dd.random_relu_features(X, W[:2])


# --------------------------------------------------------------------------- epoch-wise


def test_epochwise_curve_has_two_descents():
    epochs, risk = dd.epochwise_curve()
    assert epochs[0] == 0 and epochs[-1] == 10_000
    assert risk[0].item() == pytest.approx(2.0)  # θ_0 = 0: both groups' unit signal variance
    first_min = int(torch.argmin(risk[: len(risk) // 3]))
    peak = first_min + int(torch.argmax(risk[first_min:len(risk) * 2 // 3]))
    assert first_min > 0 and peak > first_min
    assert risk[first_min] < risk[0] and risk[peak] > 1.2 * risk[first_min]  # descent, then ascent
    assert risk[-1] < 0.5 * risk[first_min]  # the second descent goes lower than the first


def test_epochwise_gradient_descent_matches_closed_form():
    # GD on a quadratic from θ_0 = 0: θ_t = θ̂ − V (1 − lr Λ)^t Vᵀ θ̂, with H = VΛVᵀ (n > d)
    kw = dict(n_train=40, d_fast=10, d_slow=4, slow_scale=0.2, noise=0.3)
    epochs, risk = dd.epochwise_curve(300, lr=0.2, draws=1, points=12, seed=5, **kw)
    X, y, beta, scale = dd.two_scale_problem(generator=torch.Generator().manual_seed(5), **kw)
    X, y, beta = X[0], y[0], beta[0]
    H, b = X.T @ X / 40, X.T @ y / 40
    lam, V = torch.linalg.eigh(H)
    theta_hat = torch.linalg.solve(H, b)
    for t, r in zip(epochs.tolist(), risk.tolist()):
        theta = theta_hat - V @ ((1 - 0.2 * lam).unsqueeze(1) ** t * (V.T @ theta_hat))
        assert r == pytest.approx((((theta - beta) * scale) ** 2).sum().item(), rel=1e-9)


def test_equalized_step_sizes_are_gradient_descent_on_whitened_features():
    """Heckel & Yilmaz's fix, lr/scale_j² per feature, is plain GD on x/scale: the curve of the same
    draws with slow_scale = 1 (two_scale_problem draws the same z, unit β and noise for any scale)."""
    _, fixed = dd.epochwise_curve(500, seed=3, equalize=True, points=20)
    _, whitened = dd.epochwise_curve(500, seed=3, slow_scale=1.0, points=20)
    _, plain = dd.epochwise_curve(500, seed=3, points=20)
    assert torch.allclose(fixed, whitened, rtol=1e-12)
    assert not torch.allclose(fixed, plain, rtol=1e-3)


def test_equalized_step_sizes_leave_one_u():
    epochs, risk = dd.epochwise_curve(equalize=True)
    _, two_scales = dd.epochwise_curve()
    best = int(torch.argmin(risk))
    steps = torch.diff(risk)
    assert (steps[:best] < 0).all() and (steps[best:] > -1e-12).all()  # down, then never down again
    assert epochs[best] <= 100 and risk[best] < two_scales.min()  # early, and better (0.277 vs 0.334)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call", [
    lambda: dd.minnorm_risk_theory(0, 10, 0.5),
    lambda: dd.minnorm_risk_theory(10, 0, 0.5),
    lambda: dd.minnorm_risk_theory(10, 20, -0.1),
    lambda: dd.ridge_risk_theory(10, 20, 0.5, -1.0),
    lambda: dd.optimal_ridge(10, 0.5, beta_norm=0.0),
    lambda: dd.linear_risk(0, 10, 0.5),
    lambda: dd.linear_risk(10, 10, -0.5),
    lambda: dd.linear_risk(10, 10, 0.5, ridge=-1.0),
    lambda: dd.linear_risk(10, 10, 0.5, trials=0),
    lambda: dd.linear_risk(2.5, 10, 0.5),
    lambda: dd.random_features_curve([0, 10]),
    lambda: dd.random_features_curve([]),
    lambda: dd.random_features_curve([10], n_train=0),
    lambda: dd.random_features_curve([10], noise=-0.1),
    lambda: dd.random_features_curve([10], ridge=-0.1),
    lambda: dd.epochwise_curve(0),
    lambda: dd.epochwise_curve(10, noise=-1.0),
    lambda: dd.epochwise_curve(10, slow_scale=0.0),
    lambda: dd.epochwise_curve(10, lr=-0.1),
    lambda: dd.epochwise_curve(10, n_train=0),
    lambda: dd.random_features_curve([10], ridge=0.1, dropout=0.1),
    lambda: dd.dropout_least_squares(torch.ones(3, 2), torch.ones(3, 1), 1.0),
    lambda: dd.weak_features_theory(100, 301, dd.weak_features_beta(300), 0.5),
    lambda: dd.weak_features_curve(100, [], dd.weak_features_beta(300), 0.5),
    lambda: dd.memorization_run(1.5),
])
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()



# --------------------------------------------------------------------------- weak features: one task, p grows


@pytest.mark.parametrize("decay", [0.0, 0.5])
def test_weak_features_monte_carlo_matches_theory(decay):
    beta = dd.weak_features_beta(300, decay)
    assert float(beta.norm()) == pytest.approx(1.0)
    ps = [20, 60, 150, 300]
    mean, _ = dd.weak_features_curve(100, ps, beta, 0.5, trials=200, seed=1)
    theory = [dd.weak_features_theory(100, p, beta, 0.5) for p in ps]
    for m, t in zip(mean.tolist(), theory):
        assert m == pytest.approx(t, rel=0.10)


def test_weak_features_theory_limits():
    beta = dd.weak_features_beta(300, 0.5)
    # all features used: the isotropic min-norm formula of the sample-wise section (d = D)
    assert dd.weak_features_theory(100, 300, beta, 0.5) == pytest.approx(dd.minnorm_risk_theory(100, 300, 0.5))
    assert all(math.isinf(dd.weak_features_theory(100, p, beta, 0.5)) for p in (99, 100, 101))
    # with the signal in the first features, a few of them beat the largest model: a classical U
    curve = {p: dd.weak_features_theory(100, p, beta, 0.5) for p in range(1, 301) if abs(p - 100) > 1}
    assert min(curve[p] for p in range(1, 99)) < curve[300] < curve[1]
    # with every feature equally useful, the largest model is the best one
    flat = dd.weak_features_beta(300, 0.0)
    assert dd.weak_features_theory(100, 300, flat, 0.5) < min(dd.weak_features_theory(100, p, flat, 0.5)
                                                             for p in range(1, 99))


def test_weak_features_curve_uses_one_task_for_every_p():
    beta = dd.weak_features_beta(50, 0.5)
    full, _ = dd.weak_features_curve(20, [5, 30, 50], beta, 0.3, trials=3, seed=4)
    part, _ = dd.weak_features_curve(20, [30], beta, 0.3, trials=3, seed=4)
    assert float(part[0]) == pytest.approx(float(full[1]), rel=1e-12)  # same X, whatever else is swept


# --------------------------------------------------------------------------- dropout as adaptive ridge


def test_dropout_least_squares_minimizes_the_expected_dropout_loss():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(30, 8, generator=g, dtype=torch.float64) * torch.linspace(0.2, 3, 8, dtype=torch.float64)
    y = torch.randn(30, 1, generator=g, dtype=torch.float64)
    rate, q = 0.3, 0.7
    a = dd.dropout_least_squares(X, y, rate)

    def expected(a):
        return ((y - X @ a) ** 2).sum() + (1 - q) / q * ((X**2).sum(0) * a[:, 0] ** 2).sum()

    grad = torch.func.grad(expected)(a)
    assert float(grad.abs().max()) < 1e-9  # the closed form is the minimizer
    masks = (torch.rand(100_000, 1, 8, generator=g, dtype=torch.float64) < q).to(torch.float64) / q
    sampled = ((y - (X * masks) @ a) ** 2).sum(dim=(1, 2)).mean()
    assert float(sampled) == pytest.approx(float(expected(a)), rel=0.01)  # the penalty is the mask average
    assert torch.allclose(dd.dropout_least_squares(X, y, 0.0), dd.least_squares(X, y))


def test_dropout_removes_the_random_features_peak():
    ps = [90, 100, 110]
    plain = dd.random_features_curve(ps, seed=0)
    dropped = dd.random_features_curve(ps, dropout=0.1, seed=0)
    assert float(plain[1]) > 5 * float(max(plain[0], plain[2]))
    assert float(dropped[1]) < 1.5 * float(min(dropped[0], dropped[2])) and float(dropped[1]) < float(plain[1]) / 50


# --------------------------------------------------------------------------- memorization


def test_a_network_fits_random_labels_slower_and_learns_nothing_from_them():
    true, noise = dd.memorization_run(0.0), dd.memorization_run(1.0)
    assert true["parameters"] > 10 * 500  # far more parameters than training points
    assert true["steps_to_fit"] is not None and noise["steps_to_fit"] is not None  # both memorized
    assert noise["steps_to_fit"] > 2 * true["steps_to_fit"]  # random labels take a few times longer
    assert true["test_acc"] > 0.7 and abs(noise["test_acc"] - 0.1) < 0.03  # chance is 1/10
    half = dd.memorization_run(0.5)
    assert noise["test_acc"] < half["test_acc"] < true["test_acc"]
    assert torch.equal(half["train_acc"], dd.memorization_run(0.5)["train_acc"])  # seeded


def test_smallest_singular_value_follows_the_marchenko_pastur_edge():
    for n in (300, 450, 560, 700):
        assert dd.smallest_singular_value(n, 500) == pytest.approx(abs(math.sqrt(500) - math.sqrt(n)), rel=0.25)
    assert dd.smallest_singular_value(500, 500) < 0.1
