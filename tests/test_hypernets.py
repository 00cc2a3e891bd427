"""Tests of mlcourse.hypernets: the exact ridge best response (stationarity, scikit-learn, batching,
finite differences), the syllabus numbers for the global hypernet, the STN layer against its explicit
weight matrix, the local best response and the STN search, the 2-D hypervolume (exact front, 25 ray
points, Monte Carlo), the Pareto hypernets, and continual learning with the output regularizer."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mlcourse import hypernets as H


@pytest.fixture(scope="module")
def problem():
    return H.ridge_problem(device="cpu")


# --- ridge and the exact best response ----------------------------------------------------------

def test_ridge_problem_shapes_seed_and_bad_input():
    X, y, Xv, yv = H.ridge_problem(n=7, d=11, n_val=5, device="cpu")
    assert X.shape == (7, 11) and y.shape == (7,) and Xv.shape == (5, 11) and yv.shape == (5,)
    assert X.dtype == torch.float64
    again = H.ridge_problem(n=7, d=11, n_val=5, device="cpu")
    assert all(torch.equal(a, b) for a, b in zip((X, y, Xv, yv), again))
    other = H.ridge_problem(n=7, d=11, n_val=5, seed=1, device="cpu")
    assert not torch.equal(X, other[0])
    with pytest.raises(ValueError, match="n, d"):
        H.ridge_problem(n=0)
    with pytest.raises(ValueError, match="noise"):
        H.ridge_problem(noise=-1.0)


def test_best_response_is_stationary_and_matches_sklearn(problem):
    from sklearn.linear_model import Ridge

    X, y, _, _ = problem
    n = X.shape[0]
    for log_lam in (-6.0, 0.28, 3.0):
        w = H.best_response(X, y, log_lam).requires_grad_()
        (g,) = torch.autograd.grad(H.train_loss(X, y, w, log_lam), w)
        assert g.abs().max() < 1e-10
        # mean((Xw − y)²) + e^λ‖w‖²  ⇔  ‖Xw − y‖² + n e^λ ‖w‖²  (sklearn's alpha = n e^λ)
        ref = Ridge(alpha=n * math.exp(log_lam), fit_intercept=False, solver="cholesky").fit(X.numpy(), y.numpy())
        assert np.allclose(w.detach().numpy(), ref.coef_, atol=1e-8)


def test_best_response_batched_and_bad_shapes(problem):
    X, y, Xv, yv = problem
    lams = torch.tensor([[-3.0, 0.0], [1.0, 2.0]], dtype=torch.float64)
    W = H.best_response(X, y, lams)
    assert W.shape == (2, 2, X.shape[1])
    for i in range(2):
        for j in range(2):
            assert torch.allclose(W[i, j], H.best_response(X, y, lams[i, j].item()), atol=1e-12)
    curve = H.validation_curve(problem, lams[0])
    assert torch.allclose(curve, H.validation_loss(Xv, yv, W[0]))
    with pytest.raises(ValueError, match="X must be"):
        H.best_response(X, y[:-1], 0.0)
    with pytest.raises(ValueError, match="1-d"):
        H.validation_curve(problem, lams)
    with pytest.raises(ValueError, match="w must end"):
        H.validation_loss(Xv, yv, torch.zeros(3, dtype=torch.float64))


def test_exact_hypergradient_matches_finite_differences(problem):
    X, y, Xv, yv = problem
    curve = lambda lam: H.validation_loss(Xv, yv, H.best_response(X, y, lam)).item()  # noqa: E731
    for lam in (-2.0, 0.5, 2.0):
        fd = (curve(lam + 1e-5) - curve(lam - 1e-5)) / 2e-5
        assert abs(H.exact_hypergradient(problem, lam) - fd) < 1e-7


def test_implicit_jacobian_matches_autograd(problem):
    X, y, _, _ = problem
    for lam in (-3.0, 0.28, 2.5):
        jac = torch.autograd.functional.jacobian(lambda l: H.best_response(X, y, l),
                                                 torch.tensor(lam, dtype=torch.float64))
        assert torch.allclose(H.implicit_jacobian(X, y, lam), jac, atol=1e-10)


def test_exact_validation_argmin(problem):
    lams = torch.linspace(-8, 4, 1201, dtype=torch.float64)
    curve = H.validation_curve(problem, lams)
    assert abs(lams[curve.argmin()].item() - 0.28) < 0.02  # syllabus: ≈ 0.28


def test_global_hypernet_reproduces_the_validation_curve(problem):
    net = H.train_global_hypernet(problem, seed=0)
    lams = torch.linspace(-8, 4, 1201, dtype=torch.float64)
    exact, approx = H.validation_curve(problem, lams), H.validation_curve(problem, lams, net)
    window = (lams >= -6) & (lams <= 2)
    assert (approx - exact)[window].abs().max() < 0.05                               # ref 0.019
    assert abs(lams[approx.argmin()].item() - lams[exact.argmin()].item()) < 0.3      # ref 0.36 vs 0.28
    path = H.tune_lambda(net, problem, -4.0, steps=150, lr=0.1)
    assert abs(path[-1].item() - lams[exact.argmin()].item()) < 0.3
    with pytest.raises(ValueError, match="lam_range"):
        H.Hypernet(5, lam_range=(1.0, -1.0))


# --- STN layer, local best response, STN search -----------------------------------------------

def test_stn_layer_matches_its_explicit_weight_matrix():
    torch.manual_seed(0)
    layer = H.STNLinear(5, 4, 3).double()
    with torch.no_grad():
        layer.hyper.bias.normal_()
    x = torch.randn(6, 5, dtype=torch.float64)
    lam = torch.randn(3, dtype=torch.float64)
    W = layer.elem.weight + torch.diag(layer.V @ lam) @ layer.hyper.weight   # row scaling
    b = layer.elem.bias + (layer.C @ lam) * layer.hyper.bias
    assert torch.allclose(layer.weight(lam), W) and torch.allclose(layer.bias(lam), b)
    assert torch.allclose(layer(x, lam), F.linear(x, W, b), atol=1e-12)
    per_example = torch.randn(6, 3, dtype=torch.float64)
    rows = torch.stack([F.linear(x[i], layer.weight(per_example[i]), layer.bias(per_example[i]))
                        for i in range(6)])
    assert torch.allclose(layer(x, per_example), rows, atol=1e-12)
    with pytest.raises(ValueError, match="n_hyper"):
        layer(x, torch.zeros(2))
    with pytest.raises(ValueError, match="sizes"):
        H.STNLinear(0, 1, 1)


def test_local_sampling_width(problem):
    """Right width: the hypergradient matches the exact one; too small or too wide: it does not."""
    center = -2.0
    exact = H.exact_hypergradient(problem, center)
    hg = {s: H.approx_hypergradient(lambda l, s=s: H.stn_weights(H.train_local_hypernet(problem, center, s), l),
                                    problem, center) for s in (0.02, 1.0, 4.0)}
    assert abs(hg[1.0] - exact) < 0.1 * abs(exact)
    assert abs(hg[0.02] - exact) > 0.5 * abs(exact) and abs(hg[4.0] - exact) > 0.5 * abs(exact)
    with pytest.raises(ValueError, match="sigma"):
        H.train_local_hypernet(problem, 0.0, 0.0)


def test_stn_search_finds_the_exact_argmin(problem):
    history = H.stn_search(problem, -4.0, 0.5, rounds=300)
    assert history["log_lam"].shape == (301,) and history["sigma"].shape == (301,)
    assert abs(history["log_lam"][-1].item() - 0.28) < 0.1
    assert 0 < history["sigma"][-1].item() < 0.5


def test_gaussian_entropy_closed_form():
    sigma = torch.tensor(0.7)
    samples = torch.distributions.Normal(0.0, sigma)
    assert torch.allclose(H.gaussian_entropy(sigma), samples.entropy())


# --- Pareto toy and hypervolume ------------------------------------------------------------------

def test_pareto_toy_losses_and_front():
    d = H.PARETO_DIM
    t = torch.tensor([-1.0, 0.0, 0.5, 1.0], dtype=torch.float64)
    x = t[:, None] * torch.ones(d, dtype=torch.float64) / math.sqrt(d)
    f = H.pareto_toy_losses(x)
    assert torch.allclose(f[:, 0], 1 - torch.exp(-(1 - t) ** 2)) and torch.allclose(f[:, 1], 1 - torch.exp(-(1 + t) ** 2))
    front = H.pareto_front(101)
    assert torch.allclose(front[[0, 50, 75, 100]], f)
    # Pareto optimal: no random point dominates a front point
    rand = H.pareto_toy_losses(torch.randn(4000, d, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 0.3)
    dominated = ((rand[:, None, :] <= front[None]).all(-1) & (rand[:, None, :] < front[None]).any(-1))
    assert not dominated.any()
    with pytest.raises(ValueError, match="scalar"):
        H.pareto_toy_losses(torch.tensor(1.0))


def test_hypervolume_reference_numbers():
    assert abs(H.hypervolume_2d(H.pareto_front(100001)) - 0.3421) < 5e-4
    points = torch.stack([H.ray_front_point(r) for r in H.circle_rays(25)])
    assert abs(H.hypervolume_2d(points) - 0.3209) < 5e-4


def test_hypervolume_against_monte_carlo_and_invariances():
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 1.1, size=(12, 2))
    samples = rng.uniform(0, 1, size=(400_000, 2))
    dominated = (samples[:, None, :] >= points[None]).all(-1).any(-1)
    assert abs(H.hypervolume_2d(points) - dominated.mean()) < 4e-3
    shuffled = points[rng.permutation(12)]
    extra = np.vstack([points, points + 0.05, [[2.0, 0.1]]])  # dominated points and one outside ref
    assert abs(H.hypervolume_2d(shuffled) - H.hypervolume_2d(points)) < 1e-12
    assert abs(H.hypervolume_2d(extra) - H.hypervolume_2d(points)) < 1e-12
    assert H.hypervolume_2d(np.array([[0.25, 0.5]])) == pytest.approx(0.75 * 0.5)
    assert H.hypervolume_2d(np.array([[0.5, 0.5]]), ref=(2.0, 1.0)) == pytest.approx(1.5 * 0.5)
    with pytest.raises(ValueError, match=r"\[k, 2\]"):
        H.hypervolume_2d(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        H.hypervolume_2d(np.array([[np.nan, 0.1]]))


def test_rays_and_ray_targeting():
    rays = H.circle_rays(25)
    assert rays.shape == (25, 2) and torch.allclose(rays.sum(-1), torch.ones(25, dtype=torch.float64))
    angles = torch.atan2(rays[:, 1], rays[:, 0])
    assert abs(angles[0].item() - 0.1) < 1e-12 and abs(angles[-1].item() - (math.pi / 2 - 0.1)) < 1e-12
    front = H.pareto_front(20001)
    for ray in rays[[0, 7, 12, 24]]:
        p = H.ray_front_point(ray)
        assert abs(ray[0] * p[0] - ray[1] * p[1]) < 1e-10
        # it is the Chebyshev minimiser over the front; linear scalarization goes to the (slightly
        # convex) last few percent of the front next to an end
        best = front[H.chebyshev_scalarization(front, ray).argmin()]
        assert (best - p).abs().max() < 1e-3
        ls_best = front[H.linear_scalarization(front, ray).argmin()]
        assert min(ls_best[0].item(), ls_best[1].item()) < 0.005
    ls_points = torch.stack([front[H.linear_scalarization(front, r).argmin()] for r in rays])
    assert H.hypervolume_2d(ls_points) < 0.05  # exact LS solutions: 0.042
    with pytest.raises(ValueError, match="positive"):
        H.ray_front_point(torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="min_angle"):
        H.circle_rays(5, min_angle=1.0)


def test_pareto_hypernets_linear_collapses_ray_targeting_covers():
    """Recompute both PHNs (the cache's recompute path) and compare with the cached files."""
    rays = H.circle_rays(25)
    hv = {}
    for method in ("ls", "chebyshev"):
        fresh = H.pretrained_phn(method, recompute=True, device="cpu")
        cached = H.pretrained_phn(method, device="cpu")
        hv[method] = H.hypervolume_2d(H.phn_front(fresh, rays))
        assert abs(hv[method] - H.hypervolume_2d(H.phn_front(cached, rays))) < 0.01  # float noise across machines
    assert hv["ls"] < 0.25           # syllabus ≈ 0.18 (points pushed towards the two ends)
    assert hv["chebyshev"] >= 0.30   # syllabus ≥ 0.30
    with pytest.raises(ValueError, match="unknown method"):
        H.train_phn("epo")
    with pytest.raises(ValueError, match="no cached run"):
        H.cache_path("phn", "epo")


# --- continual learning ------------------------------------------------------------------------

def test_main_net_matches_nn_sequential():
    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(1, 10), torch.nn.Tanh(), torch.nn.Linear(10, 10),
                              torch.nn.Tanh(), torch.nn.Linear(10, 1))
    theta = torch.cat([p.detach().flatten() for p in seq.parameters()])
    assert theta.numel() == H.main_net_size() == 141
    x = torch.linspace(-4, 4, 9)[:, None]
    assert torch.allclose(H.main_net(theta, x), seq(x), atol=1e-6)
    with pytest.raises(ValueError, match="141"):
        H.main_net(theta[:-1], x)


def test_continual_tasks_and_regularizer():
    data = H.continual_tasks(device="cpu")
    for (x, y), (f, (lo, hi)) in zip(data, H.CONTINUAL_TASKS):
        assert x.shape == y.shape == (100, 1) and x.min() >= lo and x.max() <= hi
        assert 0.03 < (y - f(x)).std().item() < 0.07
    hnet = H.TaskHypernet()
    with torch.no_grad():
        targets = torch.stack([hnet(0), hnet(1)])
    assert abs(H.output_regularizer(hnet, targets, [0, 1]).item()) < 1e-10
    assert H.output_regularizer(hnet, targets + 1, [0, 1]).item() == pytest.approx(141.0)
    assert torch.allclose(hnet.weights([1, 0]), torch.stack([hnet(1), hnet(0)]))


def test_chunked_hypernet_assembles_its_chunks_and_counts_its_parameters():
    torch.manual_seed(0)
    hnet = H.ChunkedTaskHypernet(**H.CHUNKED)
    assert hnet.n_chunks == 6  # ⌈141 / 24⌉
    w = hnet.weights([2, 0])
    assert w.shape == (2, 141)
    for row, task in zip(w, (2, 0)):  # chunk k of task t = net(e_t ⊕ c_k), concatenated, padding dropped
        manual = torch.cat([hnet.net(torch.cat([hnet.embeddings[task], hnet.chunk_embeddings[k]]))
                            for k in range(6)])[:141]
        assert torch.allclose(row, manual, atol=1e-6)
    assert H.n_parameters(hnet) == H.hypernet_size(141, n_tasks=3, **H.CHUNKED) == 2842
    assert H.n_parameters(H.TaskHypernet()) == H.hypernet_size(141, hidden=100, n_tasks=3) == 24647
    # a chunked hypernet can be smaller than its target: 1000-weight chunks of a 1.8M-weight network
    mnist = 784 * 1000 + 1000 + 1000 * 1000 + 1000 + 1000 * 10 + 10
    assert H.hypernet_size(mnist, hidden=100, chunk_size=1000, n_tasks=3) < mnist / 15
    hnet_small, after = H.train_continual(0.005, steps=3, chunk_size=24, hidden=8, device="cpu")
    assert isinstance(hnet_small, H.ChunkedTaskHypernet) and len(after) == 3
    with pytest.raises(ValueError, match="chunk_size"):
        H.ChunkedTaskHypernet(chunk_size=0)


def test_continual_learning_fine_tuning_forgets_regularizer_remembers():
    """Recompute the regularised run (the cache's recompute path, ≈ 11 s) and compare it with its
    cache file; the fine-tuning run is checked from its cache (its first task is the same run)."""
    tests = H.continual_test_sets(device="cpu")
    fresh, after = H.pretrained_continual(0.005, recompute=True, device="cpu")
    cached, cached_after = H.pretrained_continual(0.005, device="cpu")
    # another CPU or a GPU changes the last float digits, and training amplifies them a little
    assert np.allclose(after, cached_after, atol=5e-3)
    assert fresh.shape == cached.shape == (3, 141)
    assert np.allclose(H.continual_mse(cached, tests), cached_after[-1], atol=1e-6)
    assert np.allclose(H.continual_mse(fresh, tests), after[-1], atol=1e-6)
    with pytest.raises(ValueError, match="thetas"):
        H.continual_mse(fresh[0], tests)
    assert max(after[-1]) < 0.05                                    # paper: 0.0042 / 0.0024 / 0.0061
    _, fine_tuned = H.pretrained_continual(0.0, device="cpu")
    assert np.allclose(fine_tuned[0], cached_after[0], atol=1e-6)   # identical until task 2
    assert fine_tuned[0][0] < 0.05 and fine_tuned[-1][0] > 0.1      # learned task 1, then forgot it
    assert fine_tuned[-1][2] < 0.005    # the cubic is fitted, not a straight line (MSE 0.023 for a line)
    assert max(after[-1]) < 0.005       # every task well below the paper's regularised numbers
    chunked, chunked_after = H.pretrained_continual(0.005, chunked=True, device="cpu")
    assert np.allclose(H.continual_mse(chunked, tests), chunked_after[-1], atol=1e-6)
    assert max(chunked_after[-1]) < 0.01
    with pytest.raises(ValueError, match="chunked run"):
        H.pretrained_continual(0.0, chunked=True)
    with pytest.raises(ValueError, match="beta"):
        H.train_continual(beta=-1.0)
    with pytest.raises(ValueError, match="no cached run"):
        H.cache_path("continual", 0.1)


# --- EPO search --------------------------------------------------------------------------------------

def test_non_uniformity_is_zero_exactly_on_the_ray():
    ray = torch.tensor([0.25, 0.75], dtype=torch.float64)
    assert H.non_uniformity(torch.tensor([0.6, 0.2], dtype=torch.float64), ray).abs() < 1e-15
    assert H.non_uniformity(torch.tensor([0.2, 0.6], dtype=torch.float64), ray) > 0.1


def test_epo_weights_respect_the_constraints_of_both_phases():
    ray = torch.tensor([0.5, 0.5], dtype=torch.float64)
    G = torch.tensor([[1.0, 0.2, 0.0], [-0.8, 0.5, 0.3]], dtype=torch.float64)
    C = G @ G.T
    off = H.epo_weights(torch.tensor([0.9, 0.3], dtype=torch.float64), G, ray)  # f₁ is the worst
    assert off.min() >= 0 and abs(off.sum() - 1) < 1e-12
    assert (C @ off)[0] >= -1e-12  # the worst relative loss does not rise
    assert (C @ off)[0] > (C @ off)[1]  # and falls faster than the other: towards the ray
    on = H.epo_weights(torch.tensor([0.5, 0.5], dtype=torch.float64), G, ray)
    assert ((C @ on) >= -1e-12).all()  # on the ray every loss descends (or stays)
    with pytest.raises(ValueError, match=r"\[m, d\]"):
        H.epo_weights(torch.tensor([0.5, 0.5], dtype=torch.float64), G.T, ray)


def test_epo_search_lands_on_the_ray_where_linear_scalarization_does_not():
    """Ray targeting, exactly: the end point is the front point with r₁f₁ = r₂f₂; plain gradient
    descent on Σ rᵢfᵢ from the same start ends near an end of the concave front instead."""
    x0 = 0.3 * torch.randn(H.PARETO_DIM, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for ray in H.circle_rays(3, min_angle=0.3):
        path, x = H.epo_search(ray, x0)
        assert torch.allclose(path[-1], H.ray_front_point(ray), atol=1e-3)
        assert torch.allclose(H.pareto_toy_losses(x), path[-1])
    ray = torch.tensor([0.5, 0.5], dtype=torch.float64)
    x = x0.clone().requires_grad_()
    opt = torch.optim.SGD([x], lr=0.5)
    for _ in range(100):
        opt.zero_grad()
        H.linear_scalarization(H.pareto_toy_losses(x), ray).backward()
        opt.step()
    assert (H.pareto_toy_losses(x.detach()) - H.ray_front_point(ray)).abs().max() > 0.1
    with pytest.raises(ValueError, match="ray"):
        H.epo_search(torch.tensor([1.0, -1.0], dtype=torch.float64), x0)


# --- complexity control ---------------------------------------------------------------------------

def test_complexity_best_response_is_the_stationary_point_of_the_objective():
    X, y, _, _ = H.complexity_problem(device="cpu")
    for log_c in (-1.0, 1.5, 4.0):
        mean, std = H.complexity_best_response(X, y, log_c)
        mean, log_std = mean.clone().requires_grad_(), std.log().clone().requires_grad_()
        obj = H.variational_objective(X, y, mean, log_std.exp(), log_c)
        g_mean, g_log_std = torch.autograd.grad(obj, (mean, log_std))
        assert g_mean.abs().max() < 1e-10 and g_log_std.abs().max() < 1e-10
        # and a Monte-Carlo check of the closed-form expected loss (constants dropped)
        gen = torch.Generator().manual_seed(0)
        w = mean.detach() + std * torch.randn(200_000, X.shape[1], generator=gen, dtype=torch.float64)
        mc = 0.5 * 4.0 * (w @ X.T - y).pow(2).sum(-1).mean()
        closed = 0.5 * 4.0 * ((X @ mean.detach() - y).pow(2).sum() + (std.pow(2) * X.pow(2).sum(0)).sum())
        assert abs(mc - closed) < 0.01 * closed
    batched, _ = H.complexity_best_response(X, y, torch.tensor([-1.0, 4.0], dtype=torch.float64))
    assert torch.allclose(batched[1], H.complexity_best_response(X, y, 4.0)[0])


def test_complexity_hypernet_matches_the_exact_family_and_pruning_finds_the_support():
    problem = H.complexity_problem(device="cpu")
    X, y, Xv, yv = problem
    net = H.train_complexity_hypernet(problem)
    log_c = torch.linspace(0, 4, 9, dtype=torch.float64)
    mu, sd = H.complexity_best_response(X, y, log_c)
    with torch.no_grad():
        mu_net, sd_net = net(log_c)
    assert (mu - mu_net).abs().max() < 0.05 and ((sd - sd_net) / sd).abs().max() < 0.15
    kept = (H.prune_by_snr(mu, sd) != 0).sum(-1)
    assert torch.all(kept[1:] <= kept[:-1])  # more complexity weight, fewer weights stand out
    # the best pruned model (by validation) keeps exactly the 4 weights of the sparse truth
    rng = np.random.default_rng(0)
    rng.choice([-1.0, 1.0], 4)  # complexity_problem(seed=0) draws the signs first (right-hand side),
    support = rng.choice(20, 4, replace=False)  # then where they go
    truth = np.zeros(20)
    truth[support] = 1
    pruned = H.prune_by_snr(mu_net, sd_net)
    best = H.validation_loss(Xv, yv, pruned).argmin()
    assert set(torch.nonzero(pruned[best]).flatten().tolist()) == set(np.flatnonzero(truth).tolist())
    with pytest.raises(ValueError, match="threshold"):
        H.prune_by_snr(mu, sd, -1.0)


# --- pictures and the front's shape -------------------------------------------------------------------

def test_front_inflection_is_where_the_curvature_changes_sign():
    t = np.linspace(-0.999, 0.999, 400001)
    f1, f2 = 1 - np.exp(-(1 - t) ** 2), 1 - np.exp(-(1 + t) ** 2)
    d1, d2 = np.gradient(f1, t), np.gradient(f2, t)
    curvature = (np.gradient(d2, t) * d1 - d2 * np.gradient(d1, t)) / d1 ** 3
    flips = t[np.flatnonzero(np.diff(np.sign(curvature)))]
    assert np.allclose(np.abs(flips), 1 / math.sqrt(2), atol=1e-4) and len(flips) == 2
    assert H.front_inflection() == pytest.approx(1 - math.exp(-(1 - 1 / math.sqrt(2)) ** 2))
    assert np.all(curvature[np.abs(t) < 0.7] < 0) and np.all(curvature[np.abs(t) > 0.72] > 0)


def test_bilevel_diagram_draws():
    import matplotlib.pyplot as plt

    fig = H.bilevel_diagram()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "hypernetwork" in texts and "inner" in texts and "outer" in texts
    plt.close(fig)
