"""Tests for mlcourse.evidence: closed forms, library twins and the syllabus numbers of lecture 02."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from scipy.optimize import brentq
from scipy.stats import multivariate_normal

from mlcourse import evidence as ev

ALPHA, BETA = 5e-3, 11.1


@pytest.fixture(scope="module")
def sine():
    """Lecture 01's data: 10 points of sin 2πx with N(0, 0.3²) noise, degree-9 polynomial design."""
    x = np.linspace(0, 1, 10)
    t = np.sin(2 * np.pi * x) + np.random.default_rng(0).normal(0, 0.3, 10)
    Phi = np.vander(x, 10, increasing=True)
    H = ALPHA * np.eye(10) + BETA * Phi.T @ Phi
    return Phi, t, H, 0.5 / np.linalg.eigvalsh(H).max()


def random_symmetric(rng, d, low, high):
    """A symmetric matrix with eigenvalues uniform in [low, high]."""
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (Q * rng.uniform(low, high, d)) @ Q.T


# ------------------------------------------------------------------ one step from H

@pytest.mark.parametrize("seed", range(5))
def test_exact_matches_slogdet(seed):
    rng = np.random.default_rng(seed)
    H = random_symmetric(rng, 7, -3.0, 5.0)
    lr = 0.9 / 5.0
    _, logabsdet = np.linalg.slogdet(np.eye(7) - lr * H)
    assert ev.logdet_step_exact(H, lr) == pytest.approx(logabsdet, abs=1e-12)
    assert ev.logdet_step_exact(torch.tensor(H), lr) == pytest.approx(logabsdet, abs=1e-12)


def test_bound_is_the_trace_formula():
    H = random_symmetric(np.random.default_rng(1), 6, -1.0, 4.0)
    lr = 0.1
    assert ev.logdet_step_bound(H, lr) == pytest.approx(-lr * np.trace(H) - lr**2 * np.trace(H @ H), abs=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_bound_below_exact_while_lr_lambda_at_most_half(seed):
    rng = np.random.default_rng(seed)
    H = random_symmetric(rng, 8, -2.0, 3.0)
    lr = 0.5 / np.linalg.eigvalsh(H).max() * rng.uniform(0.05, 1.0)
    exact, bound = ev.logdet_step_exact(H, lr), ev.logdet_step_bound(H, lr)
    second_order = -lr * np.trace(H) - lr**2 / 2 * np.trace(H @ H)   # the Taylor series, 2 terms
    assert bound <= exact
    assert bound <= second_order  # the bound drops half of the quadratic term on purpose


def test_bound_limit_is_the_root_and_the_bound_fails_beyond_it():
    root = brentq(lambda x: np.log(x) - (x - 1) + (x - 1) ** 2, 0.1, 0.9, xtol=1e-15)
    assert ev.BOUND_LIMIT == pytest.approx(1 - root, abs=1e-12)
    for x in (0.5, 0.6, 0.68):   # H = diag(λ), lr·λ = x below the limit: a bound
        assert ev.logdet_step_bound(np.diag([x]), 1.0) <= ev.logdet_step_exact(np.diag([x]), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for x in (0.69, 0.8, 0.95):  # above it: the "bound" exceeds the exact value
            assert ev.logdet_step_bound(np.diag([x]), 1.0) > ev.logdet_step_exact(np.diag([x]), 1.0)


def test_syllabus_per_step_values(sine):
    _, _, H, lr = sine
    assert ev.logdet_step_exact(H, lr) == pytest.approx(-0.82632, abs=1e-5)
    assert ev.logdet_step_bound(H, lr) == pytest.approx(-0.88909, abs=1e-5)


# ------------------------------------------------------------------ one step from H·v

@pytest.mark.parametrize("probe", ["rademacher", "gaussian"])
def test_estimator_is_unbiased_for_the_bound(sine, probe):
    _, _, H, lr = sine
    Ht = torch.tensor(H)
    values = ev.logdet_step_estimate(lambda v: Ht @ v, 10, lr, n_probes=4000, probe=probe,
                                     generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert values.shape == (4000,)
    se = values.std().item() / math.sqrt(len(values))
    assert abs(values.mean().item() - ev.logdet_step_bound(H, lr)) < 3 * se
    # and it estimates the bound, not the exact value (they differ by many standard errors here)
    assert abs(values.mean().item() - ev.logdet_step_exact(H, lr)) > 3 * se


def test_probe_formula_matches_the_authors_form():
    rng = np.random.default_rng(3)
    H = random_symmetric(rng, 5, 0.0, 2.0)
    lr, r = 0.2, rng.normal(size=5)
    J = np.eye(5) - lr * H
    authors = r @ (-2 * r + 3 * J @ r - J @ J @ r)        # r·(−2r + 3Jr − J²r)
    ours = ev.probe_bound(torch.tensor(r), torch.tensor(H @ r), lr)
    assert ours.item() == pytest.approx(authors, abs=1e-12)


def test_top_eigenvalue_matches_eigvalsh():
    Q, _ = np.linalg.qr(np.random.default_rng(4).normal(size=(12, 12)))
    H = (Q * np.r_[np.linspace(0.1, 2.0, 11), 3.0]) @ Q.T     # a spectral gap: power iteration converges
    Ht = torch.tensor(H)
    lam = ev.top_eigenvalue(lambda v: Ht @ v, 12, iters=300, generator=torch.Generator().manual_seed(0),
                            dtype=torch.float64)
    assert lam == pytest.approx(np.linalg.eigvalsh(H).max(), rel=1e-6)


# ------------------------------------------------------------------ the linear-Gaussian ELBO

def test_linear_gaussian_elbo_syllabus_peak(sine):
    Phi, t, _, lr = sine
    elbo = ev.linear_gaussian_elbo(Phi, t, ALPHA, BETA, lr, 400)
    assert elbo.shape == (401,) and elbo.dtype == torch.float64
    assert int(elbo.argmax()) == 117
    assert elbo.max().item() == pytest.approx(-165.64, abs=0.01)
    log_evidence = multivariate_normal(np.zeros(10), np.eye(10) / BETA + Phi @ Phi.T / ALPHA).logpdf(t)
    assert log_evidence == pytest.approx(-15.705, abs=1e-3)
    assert (elbo < log_evidence).all()
    rises_then_falls = (np.diff(elbo[:118].numpy()) > 0).all() and (np.diff(elbo[118:].numpy()) < 0).all()
    assert rises_then_falls


def test_linear_gaussian_elbo_step_zero_is_the_prior_expected_loglik(sine):
    Phi, t, _, lr = sine
    N = len(t)
    expected = N / 2 * np.log(BETA / (2 * np.pi)) - BETA / 2 * (t @ t + np.trace(Phi @ Phi.T) / ALPHA)
    assert ev.linear_gaussian_elbo(Phi, t, ALPHA, BETA, lr, 0)[0].item() == pytest.approx(expected, rel=1e-12)


def test_linear_gaussian_elbo_matches_direct_moment_propagation(sine):
    """Push mean and covariance through the affine GD map step by step (numpy, by hand). Only for a
    few steps: the stiffest variance shrinks like (1 − lr·λ_max)^2k = 4^-k and is lost to rounding
    in S = J S Jᵀ from about step 26–28 (next test)."""
    Phi, t, H, lr = sine
    N, M = Phi.shape
    J, m, S = np.eye(M) - lr * H, np.zeros(M), np.eye(M) / ALPHA
    elbo = ev.linear_gaussian_elbo(Phi, t, ALPHA, BETA, lr, 12).numpy()
    for k in range(13):
        r = t - Phi @ m
        loglik = N / 2 * np.log(BETA / (2 * np.pi)) - BETA / 2 * (r @ r + np.trace(Phi @ S @ Phi.T))
        logprior = M / 2 * np.log(ALPHA / (2 * np.pi)) - ALPHA / 2 * (m @ m + np.trace(S))
        entropy = 0.5 * np.linalg.slogdet(2 * np.pi * np.e * S)[1]
        assert elbo[k] == pytest.approx(loglik + logprior + entropy, abs=1e-6 * max(1, abs(elbo[k])))
        m, S = J @ m + lr * BETA * Phi.T @ t, J @ S @ J.T
    torch.testing.assert_close(ev.moment_propagation_elbo(Phi, t, ALPHA, BETA, lr, 12),
                               torch.as_tensor(elbo), rtol=1e-9, atol=1e-6)


def test_direct_moment_propagation_breaks_near_step_28(sine):
    """The numbers the docstring and the lecture's notes quote: at lr = 0.5/λ_max the direct route
    agrees to 1e-6 nats for the first ~18 steps, is off by more than 0.01 nats from about step 26,
    and by more than a nat (or NaN: the determinant is no longer positive) from about step 28. The
    exact step moves by one with the last bits of the design matrix (numpy's vander vs torch's
    powers), so each is checked to ±2."""
    Phi, t, _, lr = sine
    err = (ev.moment_propagation_elbo(Phi, t, ALPHA, BETA, lr, 40)
           - ev.linear_gaussian_elbo(Phi, t, ALPHA, BETA, lr, 40)).abs().numpy()
    first_over = {thr: int(np.nonzero(~(err <= thr))[0][0]) for thr in (1e-6, 1e-2, 1.0)}
    assert abs(first_over[1e-6] - 18) <= 2 and abs(first_over[1e-2] - 26) <= 2, first_over
    assert abs(first_over[1.0] - 28) <= 2, first_over
    assert 0.25**26 == np.finfo(np.float64).eps  # 4^-k reaches float64's precision 2^-52 at k = 26


def test_linear_gaussian_heldout_matches_sampling_the_gd_cloud(sine):
    """E_q[log N(t_val | Φ_val w, 1/β)] per point against samples: 20,000 prior draws pushed through
    k GD steps (the cloud itself), at a few steps."""
    Phi, t, H, lr = sine
    xv = np.linspace(0.03, 0.97, 25)
    Pv, tv = np.vander(xv, 10, increasing=True), np.sin(2 * np.pi * xv)
    exact = ev.linear_gaussian_heldout(Phi, t, Pv, tv, ALPHA, BETA, lr, 60).numpy()
    rng = np.random.default_rng(0)
    W = rng.normal(0, ALPHA**-0.5, (20_000, 10))
    for k in range(61):
        if k in (0, 5, 60):
            ll = -BETA / 2 * ((tv - W @ Pv.T) ** 2).mean(1) + 0.5 * np.log(BETA / (2 * np.pi))
            assert abs(ll.mean() - exact[k]) < 4 * ll.std() / np.sqrt(len(ll)), k
        W = W - lr * (BETA * (W @ Phi.T - t) @ Phi + ALPHA * W)
    with pytest.raises(ValueError, match="Phi_val"):
        ev.linear_gaussian_heldout(Phi, t, Pv[:, :3], tv, ALPHA, BETA, lr, 5)


def test_heldout_fit_keeps_improving_after_the_elbo_peak(sine):
    """Lecture 02's opening figure: the ELBO peaks at step 117, the held-out log-likelihood of the
    same q_t is still rising at step 400 (it is not the held-out optimum)."""
    Phi, t, _, lr = sine
    xv = np.linspace(0, 1, 100)
    tv = np.sin(2 * np.pi * xv) + np.random.default_rng(1).normal(0, 0.3, 100)
    held = ev.linear_gaussian_heldout(Phi, t, np.vander(xv, 10, increasing=True), tv, ALPHA, BETA, lr, 1000).numpy()
    elbo = ev.linear_gaussian_elbo(Phi, t, ALPHA, BETA, lr, 1000).numpy()
    assert int(elbo.argmax()) == 117
    assert (np.diff(held[1:1001]) > 0).all() and held[400] - held[117] > 3


def test_model_selection_by_the_gd_bound(sine):
    """Lecture 02's widget at its defaults and where the three criteria agree."""
    from mlcourse import hyperparams as hp

    x, t = hp.sine_data()
    xv, tv = hp.sine_data(200, seed=1)
    sel = ev.select_degree_by_gd_bound(x, t, xv, tv, range(10), ALPHA, BETA)
    assert (sel.choice("log_evidence"), sel.choice("peak_elbo"), sel.choice("heldout")) == (3, 0, 9)
    gap = (sel.log_evidence - sel.peak_elbo).numpy()
    assert gap[0] < 0.05 and abs(gap[9] - 149.94) < 0.01 and (gap >= 0).all()
    assert int(sel.peak_step[9]) == 117 and sel.peak_elbo[9].item() == pytest.approx(-165.64, abs=0.01)
    x, t = hp.sine_data(50, 0.1)
    xv, tv = hp.sine_data(200, 0.1, seed=1)
    sel = ev.select_degree_by_gd_bound(x, t, xv, tv, range(10), 1.0, 100.0)
    assert (sel.choice("log_evidence"), sel.choice("peak_elbo"), sel.choice("heldout")) == (9, 9, 9)
    with pytest.raises(ValueError, match="lr_fraction"):
        ev.select_degree_by_gd_bound(x, t, xv, tv, range(3), 1.0, 100.0, lr_fraction=1.0)


# ------------------------------------------------------------------ the simplest exact case

def test_entropy_falls_exactly_when_lr_lambda_is_between_0_and_2():
    x = np.array([-0.5, -1e-3, 1e-3, 0.5, 1.5, 1.999, 2.001, 2.5])
    change = ev.entropy_change_per_eigenvalue(x)
    np.testing.assert_array_equal(change < 0, (x > 0) & (x < 2))
    np.testing.assert_allclose(change, np.log(np.abs(1 - x)), rtol=1e-15)
    assert ev.entropy_change_per_eigenvalue(1.0) == -np.inf


def test_quadratic_cloud_is_gd_and_its_entropy_change_is_exact():
    H, lr, w_star = np.array([[2.0, 0.3], [0.3, 0.5]]), 0.3, np.array([1.5, -1.0])
    cloud = ev.quadratic_gd_cloud(H, lr, 10, n=500, minimum=w_star, seed=0)
    assert cloud.shape == (11, 500, 2)
    w = cloud[0].numpy()
    for k in range(10):
        w = w - lr * (w - w_star) @ H
    np.testing.assert_allclose(cloud[-1].numpy(), w, rtol=1e-12)
    # a linear map changes the sample covariance exactly like the distribution: S_t - S_0 = t log|det J|
    measured = ev.sample_entropy_gaussian(cloud[10]) - ev.sample_entropy_gaussian(cloud[0])
    assert measured == pytest.approx(10 * ev.entropy_change_per_eigenvalue(lr * np.linalg.eigvalsh(H)).sum(), abs=1e-8)
    # and the sample entropy estimates the true one: N(0, I) in 2-d has log(2πe)
    big = ev.quadratic_gd_cloud(H, lr, 0, n=200_000, seed=1)[0]
    assert ev.sample_entropy_gaussian(big) == pytest.approx(np.log(2 * np.pi * np.e), abs=0.01)


def test_two_term_taylor_series_is_an_upper_bound_on_0_1_and_a_lower_bound_below_0():
    x = np.linspace(-0.9, 0.999, 2000)
    exact, series, bound = np.log(1 - x), -x - x**2 / 2, -x - x**2
    assert (series[x >= 0] >= exact[x >= 0]).all() and (series[x < 0] <= exact[x < 0]).all()
    assert (bound[x <= ev.BOUND_LIMIT] <= exact[x <= ev.BOUND_LIMIT]).all()


# ------------------------------------------------------------------ the general estimator

def test_gd_evidence_on_a_linear_model_recovers_the_bound_version_of_the_exact_elbo(sine):
    """A bias-free nn.Linear on the polynomial features is the linear-Gaussian model, where both
    parts of the estimate have closed forms: E_q[log p(w, D)] and the per-step bound."""
    Phi, t, H, lr = sine
    steps, runs = 150, 400
    model = torch.nn.Linear(10, 1, bias=False).double()
    trace = ev.gd_evidence(model, torch.tensor(Phi), torch.tensor(t), lr=lr, steps=steps, runs=runs,
                           noise_std=BETA**-0.5, prior_std=ALPHA**-0.5, seed=1)
    M, k = 10, torch.arange(steps + 1, dtype=torch.float64)
    entropy = M / 2 * math.log(2 * math.pi * math.e / ALPHA) + k * ev.logdet_step_exact(H, lr)
    expected_log_joint = ev.linear_gaussian_elbo(Phi, t, ALPHA, BETA, lr, steps) - entropy
    for step in (0, 20, 117, 150):   # E_q[log p(w_k, D)]: the runs are samples of q_k
        row = trace.log_joint[step]
        assert abs(row.mean().item() - expected_log_joint[step].item()) < 4 * row.std().item() / math.sqrt(runs)
    assert trace.entropy0 == pytest.approx(entropy[0].item(), rel=1e-12)
    # the accumulated entropy change estimates 150 × the bound, and can tell it from 150 × exact
    total = trace.logdet.sum(0)
    se = total.std().item() / math.sqrt(runs)
    assert abs(total.mean().item() - steps * ev.logdet_step_bound(H, lr)) < 4 * se
    assert abs(total.mean().item() - steps * ev.logdet_step_exact(H, lr)) > 4 * se
    # per-step log-det estimates average to the bound, and the power iteration found λ_max(H)
    assert trace.logdet.mean().item() == pytest.approx(ev.logdet_step_bound(H, lr), abs=0.02)
    assert trace.curvature[-1].mean().item() == pytest.approx(np.linalg.eigvalsh(H).max(), rel=1e-3)
    assert trace.heldout_loglik is None and trace.train_loglik.shape == (steps + 1, runs)


def test_diabetes_split_is_standardized_on_the_training_part():
    x, y, xv, yv = ev.diabetes_regression(n_train=50)
    assert x.shape == (50, 10) and xv.shape == (392, 10) and y.shape == (50,) and yv.shape == (392,)
    assert torch.allclose(x.mean(0), torch.zeros(10, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(y.std(unbiased=False), torch.tensor(1.0, dtype=torch.float64))
    with pytest.raises(ValueError, match="n_train"):
        ev.diabetes_regression(n_train=442)


def test_tanh_network_evidence_peaks_before_heldout_likelihood():
    x, y, xv, yv = ev.diabetes_regression()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(10, 50), torch.nn.Tanh(), torch.nn.Linear(50, 1)).double()
    trace = ev.gd_evidence(model, x, y, x_heldout=xv, y_heldout=yv, lr=4e-4, steps=120, runs=8,
                           noise_std=0.5, prior_std=1.0, init_std=0.1, seed=0)
    assert trace.evidence_peak < trace.heldout_peak < 120
    assert trace.evidence.shape == trace.train_loglik.mean(1).shape == (121,)
    assert (4e-4 * trace.curvature < ev.BOUND_LIMIT).all()
    # training likelihood keeps improving after the evidence peak
    assert trace.train_loglik.mean(1)[-1] > trace.train_loglik.mean(1)[trace.evidence_peak]


def test_gd_evidence_is_reproducible_and_device_agnostic():
    x, y, xv, yv = ev.diabetes_regression(n_train=20)
    model = torch.nn.Sequential(torch.nn.Linear(10, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    kw = dict(lr=1e-3, steps=5, runs=3, noise_std=0.5, init_std=0.1, seed=3)
    a, b = ev.gd_evidence(model, x, y, **kw), ev.gd_evidence(model, x, y, **kw)
    assert torch.equal(a.evidence, b.evidence)
    if torch.cuda.is_available():
        c = ev.gd_evidence(model.cuda(), x.cuda(), y.cuda(), **kw)
        assert c.evidence.device.type == "cpu" and c.evidence.shape == a.evidence.shape


# ------------------------------------------------------------------ bad input

def test_bad_inputs_raise():
    H = np.diag([1.0, 2.0])
    with pytest.raises(ValueError, match="square"):
        ev.logdet_step_exact(np.ones((2, 3)), 0.1)
    with pytest.raises(ValueError, match="symmetric"):
        ev.logdet_step_bound(np.array([[1.0, 2.0], [0.0, 1.0]]), 0.1)
    for lr in (0.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="lr"):
            ev.logdet_step_exact(H, lr)
    with pytest.raises(ValueError, match="bijection"):
        ev.logdet_step_exact(H, 0.5)       # lr·λ_max = 1
    with pytest.raises(ValueError, match="bijection"):
        ev.logdet_step_bound(H, 0.6)
    with pytest.warns(RuntimeWarning, match="no longer a lower bound"):
        ev.logdet_step_bound(H, 0.4)       # lr·λ_max = 0.8
    with pytest.raises(ValueError, match="shape"):
        ev.logdet_step_estimate(lambda v: v[:1], 3, 0.1)
    with pytest.raises(ValueError, match="n_probes"):
        ev.logdet_step_estimate(lambda v: v, 3, 0.1, n_probes=0)
    with pytest.raises(ValueError, match="probe"):
        ev.logdet_step_estimate(lambda v: v, 3, 0.1, probe="uniform")
    with pytest.raises(ValueError, match="Phi"):
        ev.linear_gaussian_elbo(np.ones((3, 2)), np.ones(4), 1.0, 1.0, 0.1, 5)
    with pytest.raises(ValueError, match="bijection"):
        ev.linear_gaussian_elbo(np.eye(2), np.ones(2), 1.0, 1.0, 0.6, 5)


def test_gd_evidence_bad_inputs_and_divergence():
    model = torch.nn.Linear(2, 1).double()
    x, y = torch.randn(6, 2, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    with pytest.raises(ValueError, match="x must be"):
        ev.gd_evidence(model, x, y[:3], lr=0.1, steps=3)
    with pytest.raises(ValueError, match="x_heldout"):
        ev.gd_evidence(model, x, y, lr=0.1, steps=3, x_heldout=x)
    with pytest.raises(ValueError, match="runs"):
        ev.gd_evidence(model, x, y, lr=0.1, steps=3, runs=0)
    X1 = torch.cat([x, torch.ones(6, 1, dtype=torch.float64)], 1)       # weights and bias
    lam_max = torch.linalg.eigvalsh(X1.T @ X1 / 0.25 + torch.eye(3, dtype=torch.float64)).max().item()
    with pytest.warns(RuntimeWarning, match="lr·λ_max"):
        ev.gd_evidence(model, x, y, lr=0.8 / lam_max, steps=20, noise_std=0.5)
    with pytest.raises(FloatingPointError, match="diverged"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ev.gd_evidence(model, x * 1e3, y, lr=10.0, steps=400)


def test_lecture_network_run_stops_before_the_heldout_optimum():
    """Lecture 02's network run (10 → 50 → 1, lr 2e-4, 150 steps, 8 runs): the evidence estimate peaks
    first (step 14 vs 53), and the held-out fit at its peak is worse than at the last step."""
    x, y, xv, yv = ev.diabetes_regression(n_train=50, seed=0)
    torch.manual_seed(0)  # the lecture's net is built right after mlcourse.setup() seeds torch with 0
    net = torch.nn.Sequential(torch.nn.Linear(10, 50), torch.nn.Tanh(), torch.nn.Linear(50, 1)).double()
    trace = ev.gd_evidence(net, x, y, x_heldout=xv, y_heldout=yv, lr=2e-4, steps=150, runs=8,
                           noise_std=0.5, prior_std=1.0, init_std=0.1, seed=0)
    held = trace.heldout_loglik.mean(1)
    assert (trace.evidence_peak, trace.heldout_peak) == (14, 53)
    assert held[trace.evidence_peak] < held[-1] < held[trace.heldout_peak]
    assert 2e-4 * trace.curvature.max() < ev.BOUND_LIMIT
