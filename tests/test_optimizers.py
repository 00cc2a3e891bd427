"""Tests of mlcourse.optimizers: every rule against its torch.optim twin step for step, Lion's sign step,
AdaHessian's Newton step and Hutchinson's estimator, the syllabus's trajectories on the test functions,
the forward gradient's unbiasedness, DFA against backprop, implicit gradient regularization, bad input."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import Tensor

from mlcourse import optimizers as op

F64 = torch.float64


def problem(seed=0, n=5):
    """A smooth non-quadratic objective with a random SPD part, and a start point."""
    gen = torch.Generator().manual_seed(seed)
    A = torch.randn(n, n, generator=gen, dtype=F64)
    A = A @ A.T / n + torch.eye(n, dtype=F64)
    x0 = torch.randn(n, generator=gen, dtype=F64)
    return (lambda x: 0.5 * x @ A @ x + torch.sin(3 * x).sum() + 0.1 * (x**4).sum()), x0


TWINS = [
    ("sgd", torch.optim.SGD, op.sgd, dict(lr=0.05)),
    ("sgd+wd", torch.optim.SGD, op.sgd, dict(lr=0.05, weight_decay=0.1)),
    ("momentum", torch.optim.SGD, op.sgd, dict(lr=0.05, momentum=0.9, weight_decay=0.1)),
    ("nesterov", torch.optim.SGD, op.sgd, dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("adagrad", torch.optim.Adagrad, op.adagrad, dict(lr=0.1, eps=1e-3, weight_decay=0.01)),
    ("rmsprop", torch.optim.RMSprop, op.rmsprop, dict(lr=0.01, eps=1e-3)),
    ("rmsprop+mom", torch.optim.RMSprop, op.rmsprop, dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("adam", torch.optim.Adam, op.adam, dict(lr=0.02, betas=(0.8, 0.95), eps=1e-3)),
    ("adam+L2", torch.optim.Adam, op.adam, dict(lr=0.02, weight_decay=0.3)),
    ("adamw", torch.optim.AdamW, op.adamw, dict(lr=0.02, weight_decay=0.3, eps=1e-3)),
]


@pytest.mark.parametrize("name,torch_cls,rule,hyper", TWINS, ids=[t[0] for t in TWINS])
def test_rule_equals_torch_optim_step_for_step(name, torch_cls, rule, hyper):
    f, x0 = problem()
    ours = op.run(rule, f, x0, 50, **hyper)
    assert ours.shape == (51, len(x0))
    assert (ours - op.torch_optim_path(torch_cls, f, x0, 50, **hyper)).abs().max() <= 1e-12
    assert (ours[-1] - x0).abs().max() > 1e-2  # it actually moved


def test_named_momentum_rules_are_sgd_with_mu_09():
    f, x0 = problem(1)
    for name, nesterov in [("momentum", False), ("nesterov", True)]:
        twin = op.torch_optim_path(torch.optim.SGD, f, x0, 20, lr=0.05, momentum=0.9, nesterov=nesterov)
        assert torch.allclose(op.run(name, f, x0, 20, lr=0.05), twin, atol=1e-12, rtol=0)


def test_momentum_is_the_seeds_velocity_form():
    """Seed: V ← μV + ηg, W ← W − V. Same iterates as torch's b ← μb + g, W ← W − ηb for constant η."""
    f, x0 = problem(2)
    mu, eta = 0.9, 0.05
    w, V = x0.clone(), torch.zeros_like(x0)
    path = op.run("momentum", f, x0, 30, lr=eta, momentum=mu)
    for k in range(30):
        V = mu * V + eta * torch.func.grad(f)(w)
        w = w - V
        assert torch.allclose(w, path[k + 1], atol=1e-12, rtol=0)


def test_lion_moves_every_coordinate_by_exactly_lr():
    f, x0 = problem(3)
    path = op.run("lion", f, x0, 25, lr=1e-3)
    steps = (path[1:] - path[:-1]).abs()
    assert torch.allclose(steps, torch.full_like(steps, 1e-3), atol=1e-15, rtol=0)


def test_lion_paper_update():
    """Chen et al. Alg. 2 by hand: interpolation β₁ for the sign, β₂ for the momentum, decoupled decay."""
    g1, g2 = torch.tensor([1.0, -2.0, 0.5], dtype=F64), torch.tensor([-3.0, 1.0, 0.1], dtype=F64)
    p = torch.tensor([0.5, 0.5, -0.5], dtype=F64)
    p1, s = op.lion(p, g1, {}, lr=0.1, betas=(0.9, 0.99), weight_decay=0.5)
    assert torch.allclose(p1, p - 0.1 * (torch.sign(0.1 * g1) + 0.5 * p))
    assert torch.allclose(s["m"], 0.01 * g1)
    p2, _ = op.lion(p1, g2, s, lr=0.1, betas=(0.9, 0.99))
    assert torch.allclose(p2, p1 - 0.1 * torch.sign(0.9 * 0.01 * g1 + 0.1 * g2))


def test_adamw_is_not_adam_with_l2():
    """Decoupled decay shrinks every coordinate alike; L2 inside Adam is divided by √v."""
    a = torch.tensor([100.0, 0.01], dtype=F64)
    f = lambda x: 0.5 * (a * (x - 1) ** 2).sum()
    l2 = op.run("adam", f, (1.0, 1.0), 4000, lr=1e-2, weight_decay=2.0)[-1]
    dec = op.run("adamw", f, (1.0, 1.0), 4000, lr=1e-2, weight_decay=2.0)[-1]
    assert torch.allclose(l2, a / (a + 2.0), atol=1e-2)  # the L2-regularized optimum
    assert torch.allclose(dec, torch.full_like(dec, 0.5), atol=1e-2)  # sign(g) = −λx → x = 1/λ
    # and for SGD the two coincide: L2 in the gradient = shrink by (1 − ηλ) then step
    f2, x0 = problem(4)
    g = torch.func.grad(f2)(x0)
    coupled, _ = op.sgd(x0, g, {}, lr=0.1, weight_decay=0.3)
    assert torch.allclose(coupled, x0 * (1 - 0.1 * 0.3) - 0.1 * g, atol=1e-15)


# --- AdaHessian and Hutchinson ---------------------------------------------------------------------

def test_adahessian_one_step_lands_on_zero_for_diagonal_quadratic():
    a = torch.tensor([0.01, 1.0, 100.0], dtype=F64)
    f = lambda x: 0.5 * (a * x * x).sum()
    path = op.run("adahessian", f, (1.0, -2.0, 3.0), 1, lr=1.0, betas=(0.0, 0.0), eps=0.0, seed=5)
    assert path[-1].abs().max() < 1e-12
    # Adam (a first-order rule) with the same settings moves every coordinate by lr: not a Newton step
    adam = op.run("adam", f, (1.0, -2.0, 3.0), 1, lr=1.0, betas=(0.0, 0.0), eps=0.0)
    assert torch.allclose((adam[1] - adam[0]).abs(), torch.ones(3, dtype=F64))


def test_adahessian_uses_bias_corrected_moments():
    g, D = torch.tensor([1.0, -2.0], dtype=F64), torch.tensor([4.0, 0.5], dtype=F64)
    p, state = op.adahessian(torch.zeros(2, dtype=F64), g, {}, lr=0.1, hess_diag=D, eps=0.0)
    assert torch.allclose(p, -0.1 * g / D.abs())  # bias correction undoes β on the first step
    with pytest.raises(ValueError, match="hess_diag"):
        op.adahessian(p, g, state, lr=0.1, hess_diag=torch.ones(3, dtype=F64))


def test_hvp_matches_hessian():
    f, x0 = problem(5)
    H = torch.func.hessian(f)(x0)
    v = torch.randn(5, generator=torch.Generator().manual_seed(0), dtype=F64)
    assert torch.allclose(op.hvp(f, x0, v), H @ v, atol=1e-12)


def test_hutchinson_is_unbiased_and_abs_is_not():
    A = torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=F64)
    # exact expectation: average over all four Rademacher vectors
    V = torch.tensor([[1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=F64)
    assert torch.allclose((V * (V @ A)).mean(0), torch.diagonal(A))
    assert torch.allclose((V @ A).abs().mean(0), torch.tensor([2.0, 2.0], dtype=F64))  # E|Av| ≠ diag
    gen = torch.Generator().manual_seed(0)
    est = op.hutchinson_diag(lambda v: A @ v, 2, 20000, generator=gen)
    assert torch.allclose(est, torch.diagonal(A), atol=0.05)
    est_abs = op.hutchinson_diag(lambda v: A @ v, 2, 20000, absolute=True, generator=gen)
    assert torch.allclose(est_abs, torch.tensor([2.0, 2.0], dtype=F64), atol=0.05)
    # a diagonal matrix: every single sample is exact
    D = torch.diag(torch.tensor([3.0, -1.0, 0.5], dtype=F64))
    assert torch.allclose(op.hutchinson_diag(lambda v: D @ v, 3, 1, generator=gen), torch.diagonal(D))
    with pytest.raises(ValueError):
        op.hutchinson_diag(lambda v: v, 2, 0)


# --- test functions and trajectories ----------------------------------------------------------------

def test_functions_at_their_minima():
    for name, f in op.FUNCTIONS.items():
        x = torch.tensor(op.MINIMA[name], dtype=F64)
        assert abs(float(f(x)) - (0.397887 if name == "branin" else 0.0)) < 1e-6
        assert float(torch.func.grad(f)(x).norm()) < 1e-4
    for x in [(-math.pi, 12.275), (9.42478, 2.475)]:  # Branin's other two minima
        assert abs(float(op.branin(torch.tensor(x, dtype=F64))) - 0.397887) < 1e-5
    grid = torch.stack(torch.meshgrid(torch.linspace(-2, 2, 5), torch.linspace(-2, 2, 7), indexing="ij"), -1)
    assert op.rosenbrock(grid).shape == (5, 7)  # vectorized over leading dimensions
    with pytest.raises(ValueError, match="shape"):
        op.beale(torch.zeros(3))


def test_rosenbrock_reference():
    adam = op.run("adam", op.rosenbrock, (-1.5, 2.0), 3000, lr=0.03)
    sgd = op.run("sgd", op.rosenbrock, (-1.5, 2.0), 3000, lr=1e-3)
    assert adam.shape == (3001, 2)
    assert float(op.rosenbrock(adam[-1])) < 1e-8
    assert abs(float(op.rosenbrock(sgd[-1])) - 4.9e-2) < 1e-3


RASTRIGIN_SETTINGS = {"sgd": dict(lr=1e-3), "momentum": dict(lr=1e-3), "nesterov": dict(lr=1e-3),
                      "adagrad": dict(lr=0.1), "rmsprop": dict(lr=3e-3), "adam": dict(lr=0.01),
                      "adamw": dict(lr=0.01, weight_decay=0.0), "lion": dict(lr=1e-3),
                      "adahessian": dict(lr=0.1)}


def test_rastrigin_every_method_stops_in_the_same_local_minimum():
    for name, hyper in RASTRIGIN_SETTINGS.items():
        path = op.run(name, op.rastrigin, (-2.0, 3.5), 1000, **hyper)
        assert abs(float(op.rastrigin(path[-1])) - 12.934) < 1e-3, name


def test_run_stops_when_diverged_and_rejects_bad_input():
    path = op.run("sgd", op.rosenbrock, (-1.5, 2.0), 100, lr=0.1)
    assert len(path) < 101 and not torch.isfinite(path[-1]).all()
    with pytest.raises(ValueError, match="unknown optimizer"):
        op.run("adamax", op.rosenbrock, (0.0, 0.0), 10, lr=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        op.run("adam", op.rosenbrock, (0.0, 0.0), 10, lr=-1.0)
    with pytest.raises(ValueError, match="1-d"):
        op.run("adam", op.rosenbrock, [[0.0, 0.0]], 10, lr=0.1)
    with pytest.raises(ValueError, match="same shape"):
        op.sgd(torch.zeros(2), torch.zeros(3), {}, lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        op.sgd(torch.zeros(2), torch.zeros(2), {}, lr=0.1, nesterov=True)


# --- implicit gradient regularization ---------------------------------------------------------------

def test_gd_follows_the_modified_flow_more_closely():
    """Barrett & Dherin: after T/η steps, GD is O(η²)-close to the flow of L + (η/4)‖∇L‖², only O(η)
    to the flow of L."""
    f = lambda x: 0.5 * (torch.tensor([1.0, 10.0], dtype=F64) * x * x).sum() + 0.25 * (x**4).sum()
    x0, T = (1.0, 0.6), 0.5
    gaps = {}
    for lr in (0.02, 0.01):
        gd = op.run("sgd", f, x0, round(T / lr), lr=lr)[-1]
        plain = op.gradient_flow(f, x0, T, substeps=100)
        modified = op.gradient_flow(op.modified_loss(f, lr), x0, T, substeps=100)
        gaps[lr] = (float((gd - plain).norm()), float((gd - modified).norm()))
        assert gaps[lr][1] < gaps[lr][0] / 5
    assert 1.6 < gaps[0.02][0] / gaps[0.01][0] < 2.4  # first order in η
    assert 3.0 < gaps[0.02][1] / gaps[0.01][1] < 5.0  # second order in η


def test_gradient_flow_of_a_quadratic():
    f = lambda x: 0.5 * (torch.tensor([1.0, 3.0], dtype=F64) * x * x).sum()
    x = op.gradient_flow(f, (1.0, 1.0), 0.7, substeps=200)
    assert torch.allclose(x, torch.tensor([math.exp(-0.7), math.exp(-2.1)], dtype=F64), atol=1e-10)


# --- forward gradient -------------------------------------------------------------------------------

def test_forward_gradient_is_unbiased():
    x = torch.tensor([1.0, 1.5], dtype=F64)
    g = torch.func.grad(op.beale)(x)
    G = op.forward_gradients(op.beale, x, 100_000, generator=torch.Generator().manual_seed(0))
    assert G.shape == (100_000, 2)
    assert float((G.mean(0) - g).norm() / g.norm()) < 0.02
    v = torch.tensor([0.3, -2.0], dtype=F64)
    assert torch.allclose(op.forward_gradient(op.beale, x, v), (g @ v) * v)


def test_forward_gradient_descent_on_beale():
    path = op.forward_gradient_descent(op.beale, (1.0, 1.5), 2000, lr=0.01, seed=0)
    assert float(op.beale(path[-1])) < 1e-6
    with pytest.raises(ValueError):
        op.forward_gradient_descent(op.beale, (1.0, 1.5), 10, lr=0.0)


# --- direct feedback alignment ----------------------------------------------------------------------

def test_backprop_updates_are_the_autograd_gradient():
    x, y, _, _ = op.teacher_task(64, 1, seed=3)
    params = op.init_mlp(seed=3)
    ours = op.layer_updates(params, x, y, None)

    def loss(ps):
        return torch.nn.functional.cross_entropy(op.mlp_forward(ps, x)[0][-1], y)
    ref = torch.func.grad(loss)(params)
    for a, b in zip(ours, ref):
        assert torch.allclose(a, b, atol=1e-12)


def test_dfa_last_layer_is_exact_and_hidden_layers_use_feedback():
    x, y, _, _ = op.teacher_task(64, 1, seed=3)
    params = op.init_mlp(seed=3)
    B = op.feedback_matrices((20, 100, 100, 10), seed=9)
    dfa, bp = op.layer_updates(params, x, y, B), op.layer_updates(params, x, y, None)
    assert torch.allclose(dfa[-2], bp[-2]) and torch.allclose(dfa[-1], bp[-1])
    pre, hs = op.mlp_forward(params, x)
    e = torch.softmax(pre[-1], 1) - torch.nn.functional.one_hot(y, 10).to(F64)
    d1 = (e @ B[0].T) * (1 - torch.tanh(pre[0]) ** 2)
    assert torch.allclose(dfa[0], d1.T @ x / len(x))
    with pytest.raises(ValueError, match="method"):
        op.train_mlp(x, y, x, y, method="feedback")


def test_dfa_matches_backprop_accuracy_and_aligns():
    x, y, xt, yt = op.teacher_task()
    bp = op.train_mlp(x, y, xt, yt, method="backprop", epochs=10)
    dfa = op.train_mlp(x, y, xt, yt, method="dfa", epochs=10)
    assert bp["test_acc"][-1] > 0.6
    assert abs(dfa["test_acc"][-1] - bp["test_acc"][-1]) < 0.05
    assert abs(dfa["alignment"][0]) < 0.1 and dfa["alignment"][-1] > 0.2
    assert bp["alignment"][-1] == pytest.approx(1.0)


# --- learned optimizer ------------------------------------------------------------------------------

def test_quadratic_gradient_closed_form():
    W, y, theta = op.random_quadratics(3, 4, generator=torch.Generator().manual_seed(0))
    W, y, theta = W.double(), y.double(), theta.double()
    auto = torch.func.vmap(torch.func.grad(lambda t, w, b: ((w @ t - b) ** 2).sum()))(theta, W, y)
    assert torch.allclose(op.quadratic_grad(W, y, theta), auto, atol=1e-10)
    assert torch.allclose(op.quadratic_loss(W, y, theta), ((W @ theta[..., None])[..., 0] - y).pow(2).sum(-1))


def test_lstm_preprocessing():
    model = op.LSTMOptimizer()
    g = torch.tensor([2.0, -1e-6, 0.0, -5e-3])
    x = model.preprocess(g)
    assert torch.allclose(x[0], torch.tensor([math.log(2.0) / 10, 1.0]))
    assert torch.allclose(x[1], torch.tensor([-1.0, -1e-6 * math.exp(10)]))
    assert torch.allclose(x[2], torch.tensor([-1.0, 0.0]))
    assert torch.allclose(x[3], torch.tensor([math.log(5e-3) / 10, -1.0]))
    update, state = model(torch.randn(7, 3), None)
    assert update.shape == (7, 3) and state[0].shape == (2, 21, 20)


def test_committed_l2o_beats_tuned_sgd_at_step_100():
    """Syllabus: the meta-trained 2×20 LSTM beats tuned SGD by ≥ 2× at step 100 (fresh functions)."""
    model = op.load_l2o()
    W, y, theta = op.random_quadratics(500, generator=torch.Generator().manual_seed(123))
    lr, sgd_loss = op.tune_sgd(W, y, theta, steps=100)
    assert 1e-3 < lr < 0.1
    l2o_loss = float(op.l2o_losses(model, W, y, theta, 100)[-1].mean())
    assert l2o_loss * 2 <= sgd_loss


def test_l2o_recompute_path(tmp_path):
    path = tmp_path / "l2o_tiny.pt"
    model = op.load_l2o(path, recompute=True, iterations=2, batch=4, unroll=5, horizon=10)
    assert path.exists() and path.stat().st_size < 200_000
    again = op.load_l2o(path)
    g = torch.randn(5, 10, generator=torch.Generator().manual_seed(0))
    assert torch.equal(model(g, None)[0], again(g, None)[0])
    with pytest.raises(ValueError, match="multiple"):
        op.meta_train_l2o(1, unroll=3, horizon=10)
    assert op.L2O_CHECKPOINT.stat().st_size < 200_000


# --- quadratics: per-mode rates of gradient descent and momentum ---------------------------------------

def measured_rate(path: Tensor, mode: int, first: int = 200, last: int = 400) -> float:
    """(|x_last| / |x_first|)^(1 / (last − first)) along one coordinate: the observed rate per step."""
    a, b = float(path[first, mode].abs()), float(path[last, mode].abs())
    return (b / a) ** (1 / (last - first))


@pytest.mark.parametrize("lr,beta", [(1.5, 0.0), (0.5, 0.3), (3.3, 0.67), (1.0, 0.9), (0.05, 0.95)])
def test_mode_rates_are_the_measured_rates(lr, beta):
    lam = (0.01, 1.0)
    f = op.diagonal_quadratic(lam)
    path = op.run("sgd", f, (1.0, 1.0), 400, lr=lr, momentum=beta)
    theory = op.mode_rates(torch.tensor(lam, dtype=F64), lr, beta)
    for mode in (0, 1):
        if float(path[200, mode].abs()) < 1e-250:
            continue  # already at machine zero
        if beta > 0 and float(theory[mode]) == pytest.approx(math.sqrt(beta), rel=1e-9):
            # complex roots: |x| rings with envelope √β^k, so compare the envelope over whole periods
            amp = path[:, mode].abs()
            env = lambda k: float(amp[k - 40:k].max())  # noqa: E731
            assert (env(400) / env(240)) ** (1 / 160) == pytest.approx(float(theory[mode]), rel=0.02)
        else:
            assert measured_rate(path, mode) == pytest.approx(float(theory[mode]), rel=0.02)
    assert torch.allclose(op.mode_rates(lam, lr), (1 - lr * torch.tensor(lam, dtype=F64)).abs())


def test_best_gd_and_best_momentum_are_optimal():
    lmin, lmax = 0.01, 1.0
    lam = torch.tensor([lmin, lmax], dtype=F64)
    lr, rate = op.best_gd(lmin, lmax)
    assert lr == pytest.approx(2 / 1.01) and rate == pytest.approx(99 / 101)
    grid = torch.linspace(0.01, 2.0, 2000, dtype=F64)
    worst = op.mode_rates(lam[:, None], grid[None, :]).amax(0)
    assert float(worst.min()) >= rate - 1e-12 and float(op.mode_rates(lam, lr).max()) == pytest.approx(rate)
    lr_m, beta_m, rate_m = op.best_momentum(lmin, lmax)
    assert rate_m == pytest.approx(9 / 11) and beta_m == pytest.approx((9 / 11) ** 2)
    assert lr_m == pytest.approx((2 / 1.1) ** 2)
    assert torch.allclose(op.mode_rates(lam, lr_m, beta_m), torch.full((2,), rate_m, dtype=F64), rtol=1e-6)
    etas, betas = torch.linspace(0.1, 6.0, 300, dtype=F64), torch.linspace(0.0, 0.99, 300, dtype=F64)
    rates = op.mode_rates(lam[:, None, None], etas[None, :, None], betas[None, None, :]).amax(0)
    assert float(rates.min()) >= rate_m - 1e-3  # no grid point beats Polyak's choice
    with pytest.raises(ValueError):
        op.best_momentum(1.0, 0.5)
    with pytest.raises(ValueError):
        op.mode_rates(lam, 0.1, 1.0)


def test_momentum_reaches_a_tolerance_about_sqrt_kappa_faster():
    lam = (0.01, 1.0)
    f = op.diagonal_quadratic(lam)
    lr, _ = op.best_gd(*lam)
    lr_m, beta_m, _ = op.best_momentum(*lam)
    gd, mom = op.run("sgd", f, (1.0, 1.0), 800, lr=lr), op.run("sgd", f, (1.0, 1.0), 800, lr=lr_m, momentum=beta_m)
    first = lambda p: int(torch.nonzero(f(p) < 1e-8)[0])  # noqa: E731
    assert first(gd) / first(mom) > 5  # 444 vs 69 steps: the transient of momentum costs a little
    per_decade = lambda p, a, b: (b - a) / math.log10(float(f(p[a]) / f(p[b])))  # noqa: E731
    assert per_decade(gd, 400, 800) / per_decade(mom, 400, 800) == pytest.approx(10, rel=0.15)  # √κ


# --- gradient noise and decoupled weight decay ---------------------------------------------------------

def test_run_with_noise():
    flat = lambda w: 0.0 * w.sum()
    x0 = torch.zeros(4000, dtype=F64)
    path = op.run("sgd", flat, x0, 1, lr=0.5, noise=2.0, seed=3)
    assert float(path[1].std()) == pytest.approx(1.0, rel=0.05)  # η · noise
    assert torch.equal(op.run("adam", op.rosenbrock, (0.0, 0.0), 5, lr=0.1, noise=0.0),
                       op.run("adam", op.rosenbrock, (0.0, 0.0), 5, lr=0.1))
    assert torch.equal(path, op.run("sgd", flat, x0, 1, lr=0.5, noise=2.0, seed=3))
    with pytest.raises(ValueError, match="noise"):
        op.run("sgd", flat, x0, 1, lr=0.5, noise=[1.0, 2.0])


def test_adam_l2_decay_depends_on_gradient_noise_adamw_does_not():
    """The lecture's demo: weights the loss does not constrain, with noisy (scale 10) or quiet (0.01)
    gradients. Adam + L2 barely decays the noisy ones and cuts the quiet ones to 0; AdamW shrinks both
    by (1 − ηλ) per step."""
    k, lr, lam, T = 300, 1e-2, 0.1, 2000
    noise = torch.cat([torch.full((k,), 10.0, dtype=F64), torch.full((k,), 0.01, dtype=F64)])
    flat = lambda w: 0.0 * w.sum()
    ends = {name: op.run(name, flat, torch.ones(2 * k, dtype=F64), T, lr=lr, weight_decay=lam, noise=noise)[-1]
            for name in ("adam", "adamw")}
    busy, quiet = (ends["adam"][:k].mean(), ends["adam"][k:].abs().mean())
    assert busy > 0.75 and quiet < 2 * lr  # quiet weights jitter around 0 with steps of about η
    target = (1 - lr * lam) ** T
    assert abs(ends["adamw"][:k].mean() - target) < 0.05 and abs(ends["adamw"][k:].mean() - target) < 0.05


def test_hutchinson_squares_ignore_abs_and_track_row_norms():
    A = torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=F64)
    D = op.hutchinson_samples(lambda v: A @ v, 2, 4000, generator=torch.Generator().manual_seed(0))
    assert D.shape == (4000, 2)
    assert torch.equal(D**2, D.abs() ** 2)
    assert torch.allclose((D**2).mean(0), torch.full((2,), 5.0, dtype=F64), atol=0.2)
    # exactly, over all four Rademacher vectors: E[D²] is the squared row norm (5, 5), not diag² (1, 1)
    V = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]], dtype=F64)
    assert torch.allclose(((V * (V @ A)) ** 2).mean(0), (A**2).sum(1), atol=1e-12)


# --- the implicit bias of SGD noise -----------------------------------------------------------------------

def test_product_imbalance_shrinks_by_one_minus_eta_r_squared():
    x, y = op.scalar_regression(16, seed=1)
    path = op.product_path(x, y, (2.0, 0.3), 30, lr=0.1)
    u, v = path[:, 0], path[:, 1]
    r = u * v * (x * x).mean() - (x * y).mean()
    imb = u * u - v * v
    assert torch.allclose(imb[1:], imb[:-1] * (1 - 0.01 * r[:-1] ** 2), rtol=1e-12)


def test_product_sharpness_is_the_hessian_top_eigenvalue():
    x, y = op.scalar_regression(16, seed=2)
    for uv in [(2.0, 0.3), (-0.4, 1.1), (1.0, 1.0)]:
        loss = lambda p: 0.5 * ((p[0] * p[1] * x - y) ** 2).mean()  # noqa: E731
        H = torch.func.hessian(loss)(torch.tensor(uv, dtype=F64))
        assert float(op.product_sharpness(torch.tensor(uv, dtype=F64), x, y)) == pytest.approx(
            float(torch.linalg.eigvalsh(H)[-1]), rel=1e-10)


def test_valley_sharpness_is_the_sharpness_at_the_minimum():
    x, y = op.scalar_regression(16, seed=2)
    c = float((x * y).sum() / (x * x).sum())
    minima = torch.tensor([[u, c / u] for u in (0.3, 1.0, 2.5)], dtype=F64)
    assert torch.allclose(op.product_valley_sharpness(minima, x, y), op.product_sharpness(minima, x, y), rtol=1e-10)
    gd = op.product_path(x, y, (2.5, 0.1), 2000, lr=0.05)  # where GD lands: predicted from the start
    predicted = op.product_valley_sharpness(gd[:1], x, y)
    assert float(op.product_sharpness(gd[-1], x, y)) == pytest.approx(float(predicted[0]), rel=0.02)


def test_sgd_noise_finds_the_flattest_minimum_gd_does_not():
    x, y = op.scalar_regression(32, noise=0.5, seed=0)
    c = float((x * y).sum() / (x * x).sum())
    flattest = 2 * c * float((x * x).mean())
    start = (2.5, 0.1)
    gd = op.product_path(x, y, start, 3000, lr=0.1)
    sgd = op.product_path(x, y, start, 3000, lr=0.1, batch=1)
    big = op.product_path(x, y, start, 3000, lr=0.35)
    imb = lambda p: float(p[-1, 0] ** 2 - p[-1, 1] ** 2)  # noqa: E731
    assert abs(imb(gd) - (2.5**2 - 0.1**2)) < 0.1  # GD keeps (almost) the imbalance it started with
    assert abs(float(gd[-1].prod()) - c) < 1e-9  # … and sits at a minimum
    assert abs(imb(sgd)) < 0.05  # SGD drifted to the balanced minimum
    assert float(op.product_sharpness(sgd[-500:], x, y).mean()) < 1.2 * flattest
    assert float(op.product_sharpness(gd[-1], x, y)) > 3 * flattest
    assert float(op.product_sharpness(big[-1], x, y)) < 2 / 0.35  # too sharp for η = 0.35: left
    assert abs(float(big[-1].prod()) - c) < 1e-9


# --- L2O against a tuned momentum baseline; training epochs for a pruner ------------------------------

def test_tuned_momentum_beats_the_learned_optimizer_on_its_own_task():
    W, y, theta = op.random_quadratics(500, generator=torch.Generator().manual_seed(123))
    lr, beta, loss = op.tune_momentum(W, y, theta, steps=100)
    assert loss == pytest.approx(float(op.sgd_losses(lr, W, y, theta, 100, momentum=beta)[-1].mean()), rel=1e-4)
    l2o = float(op.l2o_losses(op.load_l2o(), W, y, theta, 100)[-1].mean())
    _, gd = op.tune_sgd(W, y, theta, steps=100)
    assert loss < l2o < gd / 2  # 0.24 < 0.35 < 0.99 / 2
    assert loss == pytest.approx(0.242, abs=0.01) and l2o == pytest.approx(0.353, abs=0.01)


def test_sgd_epochs_is_train_mlp_at_zero_momentum():
    x, y, xv, yv = op.teacher_task(300, 200, seed=0)
    ours = list(itertools.islice(op.sgd_epochs(x, y, xv, yv, lr=0.1), 3))
    ref = op.train_mlp(x, y, xv, yv, epochs=3, lr=0.1)["test_acc"][1:]
    assert ours == ref
    fast = list(itertools.islice(op.sgd_epochs(x, y, xv, yv, lr=0.1, momentum=0.9), 3))
    assert fast != ours and fast[-1] > ours[-1]
    diverged = list(itertools.islice(op.sgd_epochs(x, y, xv, yv, lr=1e6, momentum=0.9), 2))
    assert diverged[-1] in (0.0,) or diverged[-1] < 0.3


def test_nesterov_rates_and_its_optimum():
    lam = torch.tensor([0.01, 1.0], dtype=F64)
    f = op.diagonal_quadratic((0.01, 1.0))
    for lr, beta in [(1.0, 0.5), (1.33, 0.79), (0.3, 0.9)]:
        path = op.run("nesterov", f, (1.0, 1.0), 400, lr=lr, momentum=beta)
        rho = op.mode_rates(lam, lr, beta, nesterov=True)
        amp = path.abs()
        for mode in (0, 1):  # envelope over a window: ringing modes oscillate
            if float(amp[240, mode]) < 1e-250:
                continue
            env = lambda k: float(amp[k - 30:k, mode].max())  # noqa: E731
            assert (env(400) / env(250)) ** (1 / 150) == pytest.approx(float(rho[mode]), rel=0.02)
    lr, beta, rate = op.best_nesterov(0.01, 1.0)
    assert rate == pytest.approx(1 - 2 / math.sqrt(301))
    assert float(op.mode_rates(lam, lr, beta, nesterov=True).max()) == pytest.approx(rate, rel=1e-6)
    etas, betas = torch.logspace(-1.3, 1, 300, dtype=F64), torch.linspace(0, 0.99, 300, dtype=F64)
    grid = op.mode_rates(lam[:, None, None], etas[None, :, None], betas[None, None, :], nesterov=True).amax(0)
    assert float(grid.min()) >= rate - 2e-3
    assert op.best_momentum(0.01, 1.0)[2] < rate < op.best_gd(0.01, 1.0)[1]  # heavy ball wins on quadratics


def test_closed_form_gradients_are_the_autograd_gradients():
    gen = torch.Generator().manual_seed(0)
    points = torch.randn(20, 2, generator=gen, dtype=F64) * 2
    for f in (op.rosenbrock, op.beale, op.rastrigin, op.diagonal_quadratic((0.01, 1.0))):
        for x in points:
            auto = torch.func.grad(f)(x)
            assert torch.allclose(f.grad(x), auto, rtol=1e-12, atol=1e-9)
