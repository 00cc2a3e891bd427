"""Tests for mlcourse.hyperparams: closed forms, library twins (numpy, sklearn), syllabus § 01 numbers."""

import math

import numpy as np
import pytest
import torch
from sklearn.linear_model import BayesianRidge, Ridge
from torch.func import grad

from mlcourse import hyperparams as hp

ALPHA, BETA = 5e-3, 11.1  # PRML §3.5's setting, syllabus § 01
SEED0_CURVE = [-25.616, -16.417, -18.310, -12.981, -13.109, -13.833, -14.416, -14.883, -15.306, -15.705]


@pytest.fixture(scope="module")
def data():
    return hp.sine_data()


# ---------------------------------------------------------------- data, basis, posterior


def test_sine_data_follows_the_contract():
    x, t = hp.sine_data(n=7, noise=0.2, seed=3)
    xs = np.linspace(0, 1, 7)
    assert x.dtype == t.dtype == torch.float64
    np.testing.assert_array_equal(x.numpy(), xs)
    np.testing.assert_array_equal(t.numpy(), np.sin(2 * np.pi * xs) + np.random.default_rng(3).normal(0, 0.2, 7))


@pytest.mark.parametrize("degree", [0, 1, 4, 9])
def test_polynomial_design_is_a_vandermonde_matrix(degree):
    x = np.linspace(-1, 2, 6)
    Phi = hp.polynomial_design(x, degree)
    assert Phi.shape == (6, degree + 1) and Phi.dtype == torch.float64
    np.testing.assert_allclose(Phi.numpy(), np.vander(x, degree + 1, increasing=True), rtol=1e-14)


def test_posterior_matches_the_normal_equations_and_ridge(data):
    x, t = data
    Phi = hp.polynomial_design(x, 5).numpy()
    mean, cov = hp.posterior(Phi, t.numpy(), ALPHA, BETA)
    S = np.linalg.inv(ALPHA * np.eye(6) + BETA * Phi.T @ Phi)
    np.testing.assert_allclose(cov.numpy(), S, rtol=1e-8)
    np.testing.assert_allclose(mean.numpy(), BETA * S @ Phi.T @ t.numpy(), rtol=1e-8)
    ridge = Ridge(alpha=ALPHA / BETA, fit_intercept=False, solver="cholesky").fit(Phi, t.numpy())
    np.testing.assert_allclose(mean.numpy(), ridge.coef_, rtol=1e-6)


def test_predictive_equals_gaussian_conditioning_of_the_marginal(data):
    """Weight-space answer (PRML 3.58–3.59) against the function-space one: condition the joint
    Gaussian of (t, t*) with covariance β⁻¹I + α⁻¹ΦΦᵀ on the observed t."""
    x, t = data
    alpha, beta, M = 0.3, 4.0, 4
    Phi, Phi_s = hp.polynomial_design(x, M), hp.polynomial_design(torch.linspace(-0.2, 1.2, 9), M)
    mu, sigma = hp.predictive(Phi_s, *hp.posterior(Phi, t, alpha, beta), beta)
    K = torch.eye(10, dtype=torch.float64) / beta + Phi @ Phi.T / alpha
    K_s = Phi @ Phi_s.T / alpha
    mu_gp = K_s.T @ torch.linalg.solve(K, t)
    var_gp = 1 / beta + (Phi_s * Phi_s).sum(1) / alpha - (K_s * torch.linalg.solve(K, K_s)).sum(0)
    torch.testing.assert_close(mu, mu_gp, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(sigma, var_gp.sqrt(), rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------- the evidence


@pytest.mark.parametrize("degree", [0, 3, 9])
def test_evidence_equals_the_gaussian_marginal(data, degree):
    """PRML 3.86 against ln N(t | 0, β⁻¹I + α⁻¹ΦΦᵀ), computed twice (torch and numpy by hand)."""
    x, t = data
    Phi = hp.polynomial_design(x, degree)
    ev = hp.log_evidence(Phi, t, ALPHA, BETA)
    assert abs(ev - hp.marginal_log_density(Phi, t, ALPHA, BETA)) <= 1e-8
    C = np.eye(10) / BETA + Phi.numpy() @ Phi.numpy().T / ALPHA
    by_hand = -0.5 * (np.linalg.slogdet(2 * np.pi * C)[1] + t.numpy() @ np.linalg.solve(C, t.numpy()))
    assert abs(ev - by_hand) <= 1e-8


def test_evidence_curve_of_seed_0_matches_the_syllabus(data):
    x, t = data
    curve = hp.evidence_by_degree(x, t, range(10), ALPHA, BETA)
    np.testing.assert_allclose(curve.numpy(), SEED0_CURVE, atol=1e-3)
    assert int(curve.argmax()) == 3  # like PRML Fig. 3.14


def test_evidence_argmax_over_noise_draws_is_3_4_or_5_and_mostly_4():
    counts = hp.best_degree_counts(1000)
    assert counts.sum() == 1000
    share = float(counts[3:6].sum()) / 1000
    assert abs(share - 0.95) < 0.02, share  # syllabus: ≈ 95 %
    assert int(counts.argmax()) == 4


def test_evidence_over_alpha_is_the_pointwise_evidence(data):
    x, t = data
    Phi = hp.polynomial_design(x, 9)
    ln_alphas = torch.linspace(-14, 6, 11, dtype=torch.float64)
    batched = hp.evidence_over_alpha(Phi, t, ln_alphas, BETA)
    one_by_one = [hp.log_evidence(Phi, t, math.exp(a), BETA) for a in ln_alphas.tolist()]
    np.testing.assert_allclose(batched.numpy(), one_by_one, rtol=0, atol=1e-8)


# ---------------------------------------------------------------- MacKay's fixed point


def test_fixed_point_in_alpha_matches_the_syllabus_and_the_grid(data):
    x, t = data
    Phi = hp.polynomial_design(x, 9)
    alpha, beta, gamma = hp.reestimate(Phi, t, 1.0, BETA, fit_beta=False)
    assert beta == BETA
    assert abs(math.log(alpha) - (-0.380)) < 1e-3 and abs(gamma - 3.28) < 1e-2
    assert abs(gamma - hp.effective_parameters(Phi, alpha, beta)) < 1e-9
    ln_alpha_grid, _ = hp.search(lambda la: hp.evidence_over_alpha(Phi, t, la, BETA), hp.grid_points(-3, 2, 201))
    assert abs(ln_alpha_grid - (-0.375)) < 1e-9  # the syllabus' grid value, step 0.025
    assert abs(ln_alpha_grid - math.log(alpha)) < 0.05


def test_fixed_point_is_a_stationary_point_of_the_evidence(data):
    """d ln p / d ln α = d ln p / d ln β = 0 at the joint fixed point (autograd through 3.86)."""
    x, t = data
    Phi = hp.polynomial_design(x, 9)
    alpha, beta, gamma = hp.reestimate(Phi, t)
    assert abs(alpha - 28.65) < 1e-2 and abs(beta - 2.768) < 1e-3  # syllabus, seed 0
    assert abs(gamma - hp.effective_parameters(Phi, alpha, beta)) < 1e-9
    def ev(ln_ab):
        return hp._log_evidence(Phi, t, ln_ab[0].exp(), ln_ab[1].exp())
    g = grad(ev)(torch.tensor([math.log(alpha), math.log(beta)], dtype=torch.float64))
    assert g.abs().max() < 1e-5
    g_off = grad(ev)(torch.tensor([math.log(alpha) + 0.5, math.log(beta)], dtype=torch.float64))
    assert g_off.abs().max() > 1e-2  # the check above is not vacuous


def test_reestimate_matches_sklearn_bayesian_ridge(data):
    """sklearn's BayesianRidge runs the same MacKay updates (its alpha_ is our β, lambda_ our α);
    with the Gamma hyperpriors switched off both must land on the same fixed point."""
    x, t = data
    Phi = hp.polynomial_design(x, 9).numpy()
    br = BayesianRidge(fit_intercept=False, alpha_1=0, alpha_2=0, lambda_1=0, lambda_2=0,
                       tol=1e-12, max_iter=100_000).fit(Phi, t.numpy())
    alpha, beta, _ = hp.reestimate(Phi, t.numpy(), 5e-3, 11.1)
    assert abs(alpha / br.lambda_ - 1) < 1e-6 and abs(beta / br.alpha_ - 1) < 1e-6


def test_reestimate_reports_non_convergence(data):
    x, t = data
    with pytest.raises(RuntimeError, match="did not converge"):
        hp.reestimate(hp.polynomial_design(x, 9), t, max_iter=3)


# ---------------------------------------------------------------- validation and search


def test_validation_error_is_the_ridge_fit_scored_on_held_out_data(data):
    x, t = data
    xv, tv = hp.sine_data(n=50, seed=1)
    P, Pv = hp.polynomial_design(x, 9).numpy(), hp.polynomial_design(xv, 9).numpy()
    ridge = Ridge(alpha=0.7 / BETA, fit_intercept=False, solver="cholesky").fit(P, t.numpy())
    expected = np.mean((tv.numpy() - Pv @ ridge.coef_) ** 2)
    assert abs(hp.validation_error(P, t, Pv, tv, 0.7, BETA) - expected) < 1e-8


def test_search_and_running_best():
    f = lambda z: -(z - 0.3) ** 2  # noqa: E731 — a toy objective with its maximum at 0.3
    grid = hp.grid_points(-1, 1, 21)
    assert grid[0] == -1 and grid[-1] == 1 and len(grid) == 21
    best, value = hp.search(f, grid)
    assert abs(best - 0.3) < 1e-12 and abs(value) < 1e-12
    rand = hp.random_points(-1, 1, 50, seed=4)
    assert torch.equal(rand, hp.random_points(-1, 1, 50, seed=4)) and rand.min() >= -1 and rand.max() <= 1
    path = hp.running_best(f, rand)
    assert torch.all(f(path)[1:] >= f(path)[:-1])  # never gets worse
    assert float(path[-1]) == hp.search(f, rand)[0] and float(path[0]) == float(rand[0])


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("call, match", [
    (lambda P, t: hp.log_evidence(P, t[:-1], 1.0, 1.0), "shapes do not match"),
    (lambda P, t: hp.log_evidence(P[0], t, 1.0, 1.0), "Phi must be a matrix"),
    (lambda P, t: hp.log_evidence(P, t[:, None], 1.0, 1.0), "t must be a vector"),
    (lambda P, t: hp.log_evidence(P, t, 0.0, 1.0), "alpha"),
    (lambda P, t: hp.posterior(P, t, -1.0, 1.0), "alpha"),
    (lambda P, t: hp.posterior(P, t, 1.0, 0.0), "beta"),
    (lambda P, t: hp.reestimate(P, t, 1.0, -2.0), "beta"),
    (lambda P, t: hp.polynomial_design(t, -1), "degree"),
    (lambda P, t: hp.predictive(P, torch.zeros(3), torch.eye(4), 1.0), "shapes do not match"),
    (lambda P, t: hp.validation_error(P, t, P[:, :2], t, 1.0, 1.0), "columns"),
    (lambda P, t: hp.grid_points(1.0, 0.0, 5), "lo < hi"),
])
def test_bad_input_raises_value_error(data, call, match):
    x, t = data
    with pytest.raises(ValueError, match=match):
        call(hp.polynomial_design(x, 3), t)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_cuda(data):
    x, t = hp.sine_data(device="cuda")
    Phi = hp.polynomial_design(x, 9)
    assert Phi.device.type == "cuda"
    assert abs(hp.log_evidence(Phi, t, ALPHA, BETA) - SEED0_CURVE[9]) < 1e-3
    assert abs(hp.reestimate(Phi, t)[0] - 28.65) < 1e-2


def test_batched_validation_error_is_the_pointwise_one(data):
    x, t = data
    xv, tv = hp.sine_data(n=30, seed=2)
    P, Pv = hp.polynomial_design(x, 9), hp.polynomial_design(xv, 9)
    ln_alphas = torch.linspace(-10, 4, 8, dtype=torch.float64)
    batched = hp.validation_over_alpha(P, t, Pv, tv, ln_alphas, BETA)
    one_by_one = [hp.validation_error(P, t, Pv, tv, math.exp(a), BETA) for a in ln_alphas.tolist()]
    np.testing.assert_allclose(batched.numpy(), one_by_one, rtol=1e-7)


def test_evaluations_needed_counts_to_the_first_hit():
    path = torch.tensor([3.0, 1.0, 1.0, 0.04, 0.01], dtype=torch.float64)
    assert hp.evaluations_needed(path, 0.0, 0.05) == 4
    assert hp.evaluations_needed(path, 0.0, 5.0) == 1
    assert hp.evaluations_needed(path, 10.0, 0.05) is None


def test_joint_fixed_point_is_the_maximum_of_a_2d_evidence_grid(data):
    x, t = data
    Phi = hp.polynomial_design(x, 9)
    alpha, beta, _ = hp.reestimate(Phi, t, 1e-3, 30.0)  # a different start lands on the same point
    assert abs(alpha - 28.65) < 1e-2 and abs(beta - 2.768) < 1e-3
    ln_alphas = hp.grid_points(-12, 6, 361)
    ln_betas = hp.grid_points(-2, 6, 161)
    grid = torch.stack([hp.evidence_over_alpha(Phi, t, ln_alphas, math.exp(b)) for b in ln_betas.tolist()])
    i, j = divmod(int(grid.argmax()), len(ln_alphas))
    assert abs(float(ln_alphas[j]) - math.log(alpha)) <= 0.1 and abs(float(ln_betas[i]) - math.log(beta)) <= 0.05  # ridge: α and β trade off
    assert hp.log_evidence(Phi, t, alpha, beta) >= float(grid.max())


# ---------------------------------------------------------------- a metaparameter: gradient descent


def _gd_loop(Phi, t, alpha, beta, lr, steps, w0):
    w = w0.clone()
    for _ in range(steps):
        w = w - lr * (beta * Phi.T @ (Phi @ w - t) + alpha * w)
    return w


def test_gd_weights_is_gradient_descent_step_by_step(data):
    x, t = data
    Phi = hp.polynomial_design(x, 9)
    lam_max = float(torch.linalg.eigvalsh(ALPHA * torch.eye(10, dtype=torch.float64) + BETA * Phi.T @ Phi).max())
    w0 = torch.linspace(-1, 1, 10, dtype=torch.float64)
    for c in (0.3, 1.0, 1.9):
        lr = c / lam_max
        path = hp.gd_weights(Phi, t, ALPHA, BETA, lr, [0, 1, 7, 60], w0=w0)
        for row, k in zip(path, (0, 1, 7, 60)):
            torch.testing.assert_close(row, _gd_loop(Phi, t, ALPHA, BETA, lr, k, w0), rtol=1e-9, atol=1e-9)
    assert hp.gd_weights(Phi, t, ALPHA, BETA, 1 / lam_max, 5).shape == (1, 10)


def test_gd_weights_end_at_the_posterior_mean_whatever_the_learning_rate(data):
    """At convergence the metaparameters no longer matter: every stable rate ends at m_N."""
    x, t = data
    Phi = hp.polynomial_design(x, 3)
    m_N = hp.posterior(Phi, t, ALPHA, BETA)[0]
    lam_max = float(torch.linalg.eigvalsh(ALPHA * torch.eye(4, dtype=torch.float64) + BETA * Phi.T @ Phi).max())
    for c in (0.2, 1.0, 1.9):
        torch.testing.assert_close(hp.gd_weights(Phi, t, ALPHA, BETA, c / lam_max, 10**7)[0], m_N,
                                   rtol=1e-8, atol=1e-8)
    with pytest.raises(FloatingPointError, match="diverges"):
        hp.gd_weights(Phi, t, ALPHA, BETA, 2.01 / lam_max, 10)
    with pytest.raises(ValueError, match="steps"):
        hp.gd_weights(Phi, t, ALPHA, BETA, 1 / lam_max, [-1])


def test_lecture_gd_table_validation_moves_evidence_does_not(data):
    """Lecture 01's table: GD at lr = c/λ_max for T steps on the M = 9 model. Validation error falls
    with T (values printed in the lecture) and approaches the posterior mean's, while the evidence is
    −15.705 for every (lr, T): it does not take them as arguments."""
    x, t = data
    xv, tv = hp.sine_data(n=100, noise=0.3, seed=1)
    P, Pv = hp.polynomial_design(x, 9), hp.polynomial_design(xv, 9)
    lam_max = float(torch.linalg.eigvalsh(ALPHA * torch.eye(10, dtype=torch.float64) + BETA * P.T @ P).max())
    steps = [10, 100, 1000, 10_000, 100_000]
    val = {c: ((tv - hp.gd_weights(P, t, ALPHA, BETA, c / lam_max, steps) @ Pv.T) ** 2).mean(1) for c in (0.5, 1.0, 1.9)}
    np.testing.assert_allclose(val[1.0].numpy(), [0.3578, 0.2001, 0.1692, 0.1172, 0.0986], atol=1e-4)
    for c, v in val.items():
        assert (np.diff(v.numpy()) < 0).all(), c  # more steps, lower validation error, at every rate
    assert (val[1.9][:4] < val[0.5][:4]).all()  # a larger rate gets further in the same number of steps
    at_m_N = hp.validation_error(P, t, Pv, tv, ALPHA, BETA)
    assert abs(at_m_N - 0.0987) < 1e-4 and abs(float(val[1.0][-1]) - at_m_N) < 1e-3


def test_the_m9_bump_is_an_edge_effect_of_the_range():
    """Over 1000 draws, ~4 % prefer a high degree; with degrees up to 9 they all land on 9, with
    degrees up to 15 they spread over 9…15 and M = 9 keeps only 7 (lecture 01's bar chart)."""
    up_to_9 = hp.best_degree_counts(1000, range(10))
    up_to_15 = hp.best_degree_counts(1000, range(16))
    assert int(up_to_9[9]) == 32 and int(up_to_15[9]) == 7
    assert int(up_to_15[9:].sum()) == 42 and int(up_to_15[10:].sum()) == 35  # the tail, spread out
    assert int(up_to_15[3:6].sum()) >= 940 and int(up_to_15.argmax()) == 4  # the main result stands
