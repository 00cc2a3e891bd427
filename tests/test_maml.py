"""Tests of mlcourse.maml: task ranges, the inner step against torch.optim.SGD, the second-order
meta-gradient against finite differences and against a per-task autograd loop, first vs second
order, Meta-SGD, ES, memory growth, a short training run, the committed checkpoints, save/load."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from mlcourse import maml

ROOT = Path(__file__).resolve().parents[1]



def tasks(n=4, k=10, seed=0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    return tuple(t.to(dtype) for t in maml.sinusoid_tasks(n, k, k, generator=gen))


def model_and_params(seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    model = maml.make_regressor().to(dtype)
    return model, {n: p.detach().clone() for n, p in model.named_parameters()}


def flat(d):
    return torch.cat([v.flatten() for v in d.values()])


# --- tasks and floors ------------------------------------------------------------------------------

def test_tasks_shapes_ranges_and_seed():
    gen = torch.Generator().manual_seed(1)
    xs, ys, xq, yq = maml.sinusoid_tasks(3000, 10, 7, generator=gen)
    assert xs.shape == ys.shape == (3000, 10, 1) and xq.shape == yq.shape == (3000, 7, 1)
    assert xs.dtype == torch.float32
    x = torch.cat([xs, xq], 1).double().squeeze(-1)
    y = torch.cat([ys, yq], 1).double().squeeze(-1)
    assert x.min() >= -5 and x.max() <= 5 and x.min() < -4.99 and x.max() > 4.99
    # y = A sin(x − φ) = a sin x + b cos x with a = A cos φ, b = −A sin φ: recover A, φ exactly.
    basis = torch.stack([torch.sin(x), torch.cos(x)], -1)
    coef = torch.linalg.lstsq(basis, y.unsqueeze(-1)).solution.squeeze(-1)
    amplitude = coef.norm(dim=-1)
    phase = torch.atan2(-coef[:, 1], coef[:, 0])
    assert torch.allclose(basis @ coef.unsqueeze(-1), y.unsqueeze(-1), atol=1e-5)
    assert amplitude.min() >= 0.1 - 1e-4 and amplitude.max() <= 5 + 1e-4
    assert amplitude.min() < 0.12 and amplitude.max() > 4.98
    assert phase.min() >= -1e-4 and phase.max() <= math.pi + 1e-4
    assert abs(amplitude.mean().item() - 2.55) < 0.1 and abs(phase.mean().item() - math.pi / 2) < 0.1
    again = maml.sinusoid_tasks(3000, 10, 7, generator=torch.Generator().manual_seed(1))
    assert all(torch.equal(a, b) for a, b in zip((xs, ys, xq, yq), again))


def test_sinusoid_points_formula():
    x, y = maml.sinusoid_points(torch.tensor([2.0, 0.5]), torch.tensor([0.3, 3.0]), 5,
                                generator=torch.Generator().manual_seed(0))
    expect = torch.tensor([2.0, 0.5])[:, None, None] * torch.sin(x.double() - torch.tensor([0.3, 3.0])[:, None, None])
    assert torch.allclose(y.double(), expect, atol=1e-6)


def test_analytic_floors_reference_and_monte_carlo():
    zero, agnostic = maml.analytic_floors()
    assert abs(zero - 4.252) < 1e-3 and abs(agnostic - 3.006) < 1e-3
    assert abs(maml.agnostic_coefficient() - (-1.6234)) < 1e-4
    rng = np.random.default_rng(0)
    n = 2_000_000
    a, phi, x = rng.uniform(0.1, 5, n), rng.uniform(0, np.pi, n), rng.uniform(-5, 5, n)
    y = a * np.sin(x - phi)
    assert abs(np.mean(y ** 2) - zero) < 0.02
    assert abs(np.mean((y - maml.agnostic_coefficient() * np.cos(x)) ** 2) - agnostic) < 0.02
    # and no other c·cos x does better (the floor is the minimum over c)
    for c in (-1.5, -1.75):
        assert np.mean((y - c * np.cos(x)) ** 2) > agnostic


# --- model and inner loop --------------------------------------------------------------------------

def test_regressor_is_1_40_40_1_relu():
    model = maml.make_regressor()
    assert sum(p.numel() for p in model.parameters()) == 1761
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]


@pytest.mark.parametrize("steps", [0, 1, 3])
def test_adapt_matches_torch_sgd(steps):
    model, params = model_and_params()
    xs, ys, _, _ = tasks(1)
    adapted = maml.adapt(model, params, xs[0], ys[0], inner_lr=0.05, steps=steps)
    twin, _ = model_and_params()
    opt = torch.optim.SGD(twin.parameters(), lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(twin(xs[0]), ys[0]).backward()
        opt.step()
    for n, p in twin.named_parameters():
        assert torch.allclose(adapted[n], p, atol=1e-12), n


def test_adapt_per_parameter_rates_is_metasgd_step():
    model, params = model_and_params()
    xs, ys, _, _ = tasks(1)
    rates = {n: torch.rand_like(p) * 0.1 for n, p in params.items()}
    g = torch.func.grad(lambda p: maml.mse(model, p, xs[0], ys[0]))(params)
    adapted = maml.adapt(model, params, xs[0], ys[0], inner_lr=rates)
    for n in params:
        assert torch.allclose(adapted[n], params[n] - rates[n] * g[n], atol=1e-14)


# --- meta-gradients --------------------------------------------------------------------------------

@pytest.mark.parametrize("steps", [1, 2])
def test_second_order_meta_gradient_matches_finite_differences(steps):
    model, params = model_and_params()
    batch = tasks(5)
    g = flat(maml.meta_gradient(model, params, batch, steps=steps, inner_lr=0.05))
    gen = torch.Generator().manual_seed(3)
    for _ in range(3):
        direction = {n: torch.randn(p.shape, generator=gen, dtype=p.dtype) for n, p in params.items()}
        eps = 1e-6
        plus = maml.meta_loss(model, {n: params[n] + eps * direction[n] for n in params}, batch,
                              steps=steps, inner_lr=0.05)
        minus = maml.meta_loss(model, {n: params[n] - eps * direction[n] for n in params}, batch,
                               steps=steps, inner_lr=0.05)
        fd = (plus - minus).item() / (2 * eps)
        assert abs(fd - (g @ flat(direction)).item()) < 1e-6 * max(1.0, abs(fd))


def test_vmapped_meta_gradient_equals_per_task_autograd_loop():
    model, params = model_and_params()
    batch = tasks(6)
    g = maml.meta_gradient(model, params, batch, steps=2, inner_lr=0.03)
    leaves = {n: p.clone().requires_grad_() for n, p in params.items()}
    total = 0.0
    for xs, ys, xq, yq in zip(*batch):
        fast = leaves
        for _ in range(2):
            loss = (torch.func.functional_call(model, fast, (xs,)) - ys).pow(2).mean()
            grads = torch.autograd.grad(loss, list(fast.values()), create_graph=True)
            fast = {n: p - 0.03 * gi for (n, p), gi in zip(fast.items(), grads)}
        total = total + (torch.func.functional_call(model, fast, (xq,)) - yq).pow(2).mean()
    expect = torch.autograd.grad(total / 6, list(leaves.values()))
    for (n, a), b in zip(g.items(), expect):
        assert torch.allclose(a, b, atol=1e-12), n


def test_first_order_differs_and_equals_query_gradient_at_adapted_params():
    model, params = model_and_params()
    batch = tasks(5)
    second = flat(maml.meta_gradient(model, params, batch, inner_lr=0.05))
    first = flat(maml.meta_gradient(model, params, batch, inner_lr=0.05, first_order=True))
    assert (first - second).norm() > 1e-3 * second.norm()
    # FOMAML: the mean over tasks of ∇L_query evaluated at θ'_i (∂θ'/∂θ replaced by I)
    per_task = []
    for xs, ys, xq, yq in zip(*batch):
        adapted = maml.adapt(model, params, xs, ys, inner_lr=0.05)
        per_task.append(flat(torch.func.grad(lambda p: maml.mse(model, p, xq, yq))(adapted)))
    assert torch.allclose(first, torch.stack(per_task).mean(0), atol=1e-12)


def test_truncation_interpolates_first_and_second_order():
    model, params = model_and_params()
    batch = tasks(3)
    kw = dict(steps=3, inner_lr=0.05)
    full = flat(maml.meta_gradient(model, params, batch, **kw))
    first = flat(maml.meta_gradient(model, params, batch, first_order=True, **kw))
    assert torch.allclose(flat(maml.meta_gradient(model, params, batch, truncate=3, **kw)), full)
    assert torch.allclose(flat(maml.meta_gradient(model, params, batch, truncate=0, **kw)), first)
    middle = flat(maml.meta_gradient(model, params, batch, truncate=1, **kw))
    assert not torch.allclose(middle, full) and not torch.allclose(middle, first)


def test_metasgd_rate_gradient_matches_finite_differences():
    model, params = model_and_params()
    batch = tasks(4)
    rates = {n: torch.full_like(p, 0.02) for n, p in params.items()}
    _, g_rate = maml.meta_gradient(model, params, batch, inner_lr=rates)
    name, idx, eps = "2.weight", (3, 7), 1e-6

    def loss_with(delta):
        r = {n: v.clone() for n, v in rates.items()}
        r[name][idx] += delta
        return maml.meta_loss(model, params, batch, inner_lr=r).item()
    fd = (loss_with(eps) - loss_with(-eps)) / (2 * eps)
    assert abs(fd - g_rate[name][idx].item()) < 1e-6 * max(1.0, abs(fd))


def test_es_estimate_targets_the_second_order_meta_gradient():
    """ES evaluates the full MAML meta-loss, so it estimates the second-order meta-gradient: where
    first- and second-order differ (2 steps of α = 0.05), the estimate is aligned with the second.
    A tanh network of the paper's shape: with ReLU the inner gradient jumps where a unit switches, so
    the 2-step meta-loss has jumps that finite differences of size σ = 1e-4 blow up."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1, 40), torch.nn.Tanh(), torch.nn.Linear(40, 40),
                                torch.nn.Tanh(), torch.nn.Linear(40, 1)).double()
    params = {n: p.detach().clone() for n, p in model.named_parameters()}
    batch = tasks(5)
    kw = dict(steps=2, inner_lr=0.05)
    second = flat(maml.meta_gradient(model, params, batch, **kw))
    first = flat(maml.meta_gradient(model, params, batch, first_order=True, **kw))
    est = flat(maml.es_meta_gradient(model, params, batch, n_pairs=2000, sigma=1e-4,
                                     generator=torch.Generator().manual_seed(0), **kw))

    def cos(a, b):
        return (a @ b / (a.norm() * b.norm())).item()
    assert cos(first, second) < 0.85
    assert cos(est, second) > 0.65 and cos(est, second) > cos(est, first) + 0.08


def test_es_estimate_points_along_the_true_gradient():
    model, params = model_and_params()
    batch = tasks(5)
    true = flat(maml.meta_gradient(model, params, batch, inner_lr=0.01, first_order=True))
    est = flat(maml.es_meta_gradient(model, params, batch, n_pairs=2000, sigma=1e-4,
                                     generator=torch.Generator().manual_seed(0)))
    cos = (est @ true / (est.norm() * true.norm())).item()
    # with N antithetic pairs in d = 1761 dimensions, E cos ≈ sqrt(N / (N + d)) ≈ 0.73
    assert cos > 0.6


def test_meta_gradient_memory_grows_linearly_with_inner_steps():
    steps = [1, 2, 3, 4, 5]
    second = np.array([maml.meta_gradient_memory(s) for s in steps], dtype=float)
    first = np.array([maml.meta_gradient_memory(s, first_order=True) for s in steps], dtype=float)
    increments = np.diff(second)
    assert np.all(increments > 0)
    slope, icpt = np.polyfit(steps, second, 1)
    fit = slope * np.array(steps) + icpt
    assert np.max(np.abs(second - fit)) < 0.1 * second[-1]  # linear within 10 % of the peak
    assert first[-1] - first[0] < 0.25 * (second[-1] - second[0])  # first order: ~flat


# --- the exact case: quadratic tasks ------------------------------------------------------------------

def _unrolled_query_loss(theta, h, c, alpha, steps, first_order=False):
    """mean_i L_i(θ'_i) by explicitly running gradient steps with autograd (independent of the closed form)."""
    total = 0.0
    for hi, ci in zip(h, c):
        t = theta
        for _ in range(steps):
            g = torch.autograd.grad(0.5 * hi * (t - ci) ** 2, t, create_graph=True)[0]
            t = t - alpha * (g.detach() if first_order else g)
        total = total + 0.5 * hi * (t - ci) ** 2
    return total / len(h)


@pytest.mark.parametrize("alpha, steps", [(0.1, 1), (0.05, 3), (0.2, 2)])
def test_quadratic_meta_loss_and_best_start_match_an_unrolled_loop(alpha, steps):
    gen = torch.Generator().manual_seed(steps)
    h = torch.rand(5, generator=gen, dtype=torch.float64) * 4 + 0.2
    c = torch.randn(5, generator=gen, dtype=torch.float64)
    for theta in (-1.3, 0.4, 2.0):
        t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
        assert abs(_unrolled_query_loss(t, h, c, alpha, steps).item()
                   - maml.quadratic_meta_loss(t.detach(), h, c, alpha, steps).item()) < 1e-12
    # MAML: the closed-form start is a stationary point (and the minimum) of the unrolled meta-loss
    best = maml.quadratic_best_start(h, c, alpha, steps)
    t = torch.tensor(best, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(_unrolled_query_loss(t, h, c, alpha, steps), t)
    assert abs(g.item()) < 1e-12
    at = lambda x: maml.quadratic_meta_loss(torch.tensor(x, dtype=torch.float64), h, c, alpha, steps)  # noqa: E731
    assert at(best - 0.01) > at(best) < at(best + 0.01)
    # first-order MAML: its gradient (∂θ'/∂θ := 1) vanishes at the fomaml start, not at MAML's
    fo = maml.quadratic_best_start(h, c, alpha, steps, method="fomaml")
    for start, zero in ((fo, True), (best, False)):
        t = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(_unrolled_query_loss(t, h, c, alpha, steps, first_order=True), t)
        assert (abs(g.item()) < 1e-12) == zero
    # pretraining: the curvature-weighted mean of the optima
    assert abs(maml.quadratic_best_start(h, c, alpha, steps, method="pretrain") - float((h * c).sum() / h.sum())) < 1e-12


def test_quadratic_lecture_example():
    """The lecture's two tasks: MAML starts near the soft task, pretraining near the stiff one."""
    h, c = torch.tensor([8.0, 0.5]), torch.tensor([2.0, -1.0])
    assert maml.quadratic_best_start(h, c, 0.1, method="pretrain") == pytest.approx((16 - 0.5) / 8.5)
    assert maml.quadratic_best_start(h, c, 0.1) == pytest.approx((0.32 * 2 - 0.45125) / (0.32 + 0.45125))
    assert maml.quadratic_best_start(h, c, 0.1, method="fomaml") == pytest.approx((3.2 - 0.475) / 2.075)
    with pytest.raises(ValueError, match="unknown method"):
        maml.quadratic_weights(h, 0.1, method="reptile")
    with pytest.raises(ValueError, match="equal length"):
        maml.quadratic_best_start(h, torch.zeros(3), 0.1)


def test_unrolled_graph_figure_draws_and_rejects_bad_sizes():
    import matplotlib.pyplot as plt

    for first_order in (False, True):
        fig = maml.unrolled_graph_figure(3, first_order=first_order)
        texts = [t.get_text() for t in fig.axes[0].texts]
        assert sum("stored" == t for t in texts) == (0 if first_order else 4)  # θ, θ'_1, θ'_2, θ'_3
        plt.close(fig)
    with pytest.raises(ValueError, match="between 1 and 5"):
        maml.unrolled_graph_figure(0)


# --- training, evaluation, checkpoints ----------------------------------------------------------------

def test_short_training_run_beats_the_analytic_floor():
    """Test-scale recompute path: 300 meta-iterations (≈ 5 s) instead of the lecture's 4500.
    Bound: 1-step MSE ≤ 2.8 (the floor is 3.006; the full run reaches ≈ 0.8)."""
    learner = maml.pretrained("maml", recompute=True, iterations=300)
    assert learner.config["iterations"] == 300 and len(learner.history) == 300
    res = maml.evaluate(learner, n_tasks=600)
    _, floor = maml.analytic_floors()
    assert res[1][0] + res[1][1] < floor  # clearly below: the 95 % interval is under the floor
    assert res[1][0] <= 2.8
    means = [res[s][0] for s in (0, 1, 5, 10)]
    assert all(b <= a for a, b in zip(means, means[1:]))


def test_training_is_seeded_and_methods_differ():
    a = maml.meta_train(method="fomaml", iterations=5, progress=False, seed=3)
    b = maml.meta_train(method="fomaml", iterations=5, progress=False, seed=3)
    c = maml.meta_train(method="maml", iterations=5, progress=False, seed=3)
    assert torch.equal(flat(a.params()), flat(b.params()))
    assert not torch.equal(flat(a.params()), flat(c.params()))


@pytest.mark.parametrize("method", ["maml", "metasgd"])
def test_learner_save_load_round_trip(tmp_path, method):
    learner = maml.meta_train(method=method, iterations=3, progress=False)
    learner.save(tmp_path / "l.pt")
    device = next(learner.model.parameters()).device  # the default device: cuda where there is one
    back = maml.Learner.load(tmp_path / "l.pt", device=device)
    assert back.method == method and back.config == learner.config and back.history == learner.history
    assert torch.equal(flat(back.params()), flat(learner.params()))
    on_cpu = maml.Learner.load(tmp_path / "l.pt", device="cpu")
    assert torch.equal(flat(on_cpu.params()), flat(learner.params()).cpu())
    if method == "metasgd":
        assert torch.equal(flat(back.rate()), flat(learner.rate()))
        assert not torch.equal(flat(back.rate()), torch.full_like(flat(back.rate()), 0.01))
    else:
        assert back.rate() == learner.rate() == 0.01
    kw = dict(n_tasks=20, steps=(0, 1))
    assert maml.evaluate(back, **kw) == maml.evaluate(learner, **kw)


def test_evaluate_tasks_and_adapt_path_agree_with_evaluate_and_adapt():
    learner = maml.meta_train(method="maml", iterations=2, progress=False, device="cpu")
    steps, losses = maml.evaluate_tasks(learner, n_tasks=30, steps=(5, 0, 1))
    assert steps == [0, 1, 5] and losses.shape == (30, 3) and losses.dtype == torch.float64
    summary = maml.evaluate(learner, n_tasks=30, steps=(0, 1, 5))
    for j, s in enumerate(steps):
        assert summary[s][0] == pytest.approx(losses[:, j].mean().item(), rel=1e-12)
    xs, ys, _, _ = tasks(1, dtype=torch.float32)
    path = learner.adapt_path(xs[0], ys[0], 3)
    assert len(path) == 4 and torch.equal(flat(path[0]), flat(learner.params()))
    assert torch.allclose(flat(path[3]), flat(learner.adapt(xs[0], ys[0], 3)), atol=1e-6)
    with pytest.raises(ValueError, match="n_tasks"):
        maml.evaluate_tasks(learner, n_tasks=0)


def test_evaluate_confidence_interval_and_closed_form():
    learner = maml.meta_train(method="pretrain", iterations=0, progress=False)
    res = maml.evaluate(learner, n_tasks=50, steps=(0,), n_query=20)
    device = next(learner.model.parameters()).device
    xs, ys, xq, yq = maml.sinusoid_tasks(50, 10, 20, generator=torch.Generator().manual_seed(1234),
                                         device=device)
    with torch.no_grad():
        per_task = (learner.model(xq) - yq).pow(2).mean((1, 2)).double()
    # float32 losses: equal up to summation order (which differs between CPU and CUDA)
    assert res[0][0] == pytest.approx(per_task.mean().item(), rel=1e-5)
    assert res[0][1] == pytest.approx(1.96 * per_task.std().item() / math.sqrt(50), rel=1e-5)


CHECKPOINTS = [maml.checkpoint_path(m) for m in maml.METHODS]


@pytest.mark.skipif(not all(p.exists() for p in CHECKPOINTS), reason="checkpoints not trained")
def test_committed_checkpoints_reproduce_the_reference_numbers():
    for path in CHECKPOINTS:
        assert path.stat().st_size <= 200_000
    res = {m: maml.evaluate(maml.pretrained(m), steps=(0, 1) if m == "metasgd" else (0, 1, 5, 10))
           for m in maml.METHODS}
    assert res["maml"][1][0] <= 0.85
    means = [res["maml"][s][0] for s in (0, 1, 5, 10)]
    assert all(b <= a for a, b in zip(means, means[1:]))
    assert res["fomaml"][1][0] > res["maml"][1][0]
    assert res["pretrain"][1][0] >= 2.5
    assert res["metasgd"][1][0] < res["maml"][1][0]
    assert maml.pretrained("maml").config == {**maml.REFERENCE, "method": "maml", "hidden": (40, 40)}
    # the lecture's Meta-SGD story: best after its one trained step, then some tasks diverge although
    # the median task still improves; MAML stays finite and keeps improving
    steps, msgd = maml.evaluate_tasks(maml.pretrained("metasgd"), steps=(0, 1, 2, 5, 10))
    finite = torch.isfinite(msgd)
    assert finite[:, :3].all() and not finite[:, 3].all() and (~finite[:, 4]).sum() > 100
    assert msgd[:, 2].median() < msgd[:, 1].median()
    assert ((msgd[:, 4] > msgd[:, 0]) | ~finite[:, 4]).sum() > ((msgd[:, 2] > msgd[:, 0])).sum() + 100
    _, full = maml.evaluate_tasks(maml.pretrained("maml"), steps=(0, 1, 2, 5, 10))
    assert torch.isfinite(full).all()
    # fewer support points, worse one-step fit: K = 5 leaves MAML near 1
    assert maml.evaluate(maml.pretrained("maml"), k_shot=5, steps=(1,))[1][0] > 0.9


# --- bad input ---------------------------------------------------------------------------------------

def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="unknown method"):
        maml.meta_train(method="reptile", iterations=1)
    with pytest.raises(ValueError, match="k_shot"):
        maml.meta_train(iterations=1, k_shot=0)
    with pytest.raises(ValueError, match="inner_steps"):
        maml.meta_train(iterations=1, inner_steps=-1)
    model, params = model_and_params()
    x = torch.zeros(10, 1, dtype=torch.float64)
    with pytest.raises(ValueError, match="steps"):
        maml.adapt(model, params, x, x, steps=-1)
    with pytest.raises(ValueError, match=r"\[k, 1\]"):
        maml.adapt(model, params, x.squeeze(-1), x.squeeze(-1))
    with pytest.raises(ValueError, match="n_tasks"):
        maml.sinusoid_tasks(0)
    with pytest.raises(ValueError, match="k_shot"):
        maml.evaluate(maml.meta_train(iterations=0, progress=False), k_shot=0)
    with pytest.raises(ValueError, match="unknown method"):
        maml.checkpoint_path("nope")


# --- the benchmark's code, tiny ------------------------------------------------------------------------

def test_benchmark_smoke():
    spec = importlib.util.spec_from_file_location("bench_maml", ROOT / "benchmarks" / "maml.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    r = bench.compare(meta_batch=3, iterations=2, repeats=1, device="cpu")
    assert set(r) >= {"vmap_cpu", "loop_cpu", "ratio_cpu"} and all(v > 0 for v in r.values())
    rows = bench.memory_table([1, 2], "cpu")
    assert rows[1][1] > rows[0][1] > 0
    bench.main(["--iterations", "1", "--repeats", "1", "--meta-batch", "2", "--memory-steps", "1", "2"])
    # the loop baseline computes the same meta-gradient as the vmapped one
    model, params = model_and_params()
    batch = tasks(4)
    expect = torch.autograd.grad(bench.loop_meta_loss(model, batch), list(model.parameters()))
    got = maml.meta_gradient(model, params, batch)
    for a, b in zip(got.values(), expect):
        assert torch.allclose(a, b, atol=1e-12)
