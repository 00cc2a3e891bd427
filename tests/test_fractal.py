"""Tests for mlcourse.fractal: the network, the measure, the fast grid, the boundary and its dimension."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from mlcourse import fractal as fr


@pytest.fixture(scope="module")
def problem8() -> fr.Problem:
    return fr.make_problem(8)


@pytest.fixture(scope="module")
def full_window(problem8) -> torch.Tensor:
    """The start window 10^-3 … 10^6 on both axes, width 8, 100 steps, float64, 64 × 64."""
    return fr.trainability_grid(problem8, resolution=64)


# ---------------------------------------------------------------- problem and network

def test_make_problem_shapes_and_seed():
    p = fr.make_problem(8)
    assert p.X.shape == (72, 8) and p.Y.shape == (72, 1)
    assert p.W0.shape == (8, 8) and p.W1.shape == (8, 1)
    assert fr.make_problem(16).n_points == 272
    assert fr.make_problem(4, n_points=3).X.shape == (3, 4)
    assert p.X.dtype == torch.float64
    assert torch.equal(fr.make_problem(8).X, p.X)
    assert not torch.equal(fr.make_problem(8, seed=1).X, p.X)
    big = fr.make_problem(64)  # 4160 × 64 draws from N(0, 1)
    assert abs(big.X.mean().item()) < 0.01 and abs(big.X.std().item() - 1) < 0.01


@pytest.mark.parametrize("kwargs", [dict(width=0), dict(nonlinearity="gelu"), dict(n_points=0)])
def test_make_problem_rejects_bad_input(kwargs):
    with pytest.raises(ValueError):
        fr.make_problem(**{"width": 4, **kwargs})


def test_forward_is_the_mean_field_network(problem8):
    p = problem8
    Z = p.X @ p.W0 / math.sqrt(8)
    assert torch.allclose(fr.forward(p.W0, p.W1, p.X), torch.tanh(math.sqrt(2) * Z) @ p.W1 / 8)
    assert torch.allclose(fr.forward(p.W0, p.W1, p.X, "relu"), math.sqrt(2) * torch.relu(Z) @ p.W1 / 8)
    assert torch.allclose(fr.forward(p.W0, p.W1, p.X, "identity"), Z @ p.W1 / 8)
    with pytest.raises(ValueError):
        fr.activation(Z, "sigmoid")


def test_train_losses_gradient_matches_finite_differences(problem8):
    """One step of train_losses moves W₁ by −η ∂L/∂W₁; check ∂L/∂W₁ and ∂L/∂W₀ by central differences."""
    p, eps = problem8, 1e-6
    g0, g1 = torch.func.grad(fr.loss, argnums=(0, 1))(p.W0, p.W1, p.X, p.Y)
    E = torch.zeros_like(p.W0)
    E[2, 5] = eps
    fd0 = (fr.loss(p.W0 + E, p.W1, p.X, p.Y) - fr.loss(p.W0 - E, p.W1, p.X, p.Y)) / (2 * eps)
    e = torch.zeros_like(p.W1)
    e[3] = eps
    fd1 = (fr.loss(p.W0, p.W1 + e, p.X, p.Y) - fr.loss(p.W0, p.W1 - e, p.X, p.Y)) / (2 * eps)
    assert abs(fd0 - g0[2, 5]) < 1e-8 and abs(fd1 - g1[3, 0]) < 1e-8
    losses = fr.train_losses(p, 0.0, 0.5, steps=2)
    assert losses[0] == fr.loss(p.W0, p.W1, p.X, p.Y)
    assert torch.allclose(losses[1], fr.loss(p.W0, p.W1 - 0.5 * g1, p.X, p.Y))


# ---------------------------------------------------------------- the convergence measure

def test_measure_sign_rule_and_values():
    t = torch.arange(30, dtype=torch.float64)
    down = 2.0 * 0.9**t  # v = 0.9^t
    up = 2.0 * 1.1**t  # v = 1.1^t
    got = fr.convergence_measure(torch.stack([down, up]))
    assert got[0] == pytest.approx(-(0.9**t).sum().item())
    assert got[1] == pytest.approx((1.1 ** -t).sum().item())
    # oscillating around a lower level still counts as converged: the last 20 are averaged
    wobble = torch.where(t % 2 == 0, 1.8, 0.1).double()
    wobble[0] = 1.0
    assert fr.convergence_measure(wobble) < 0
    # non-finite losses become 1e6 before normalising by the first loss; v is clipped at 1e6
    blow = torch.full((25,), float("nan"), dtype=torch.float64)
    blow[0] = 0.5
    v = torch.full((25,), 1e6, dtype=torch.float64)
    v[0] = 1
    assert fr.convergence_measure(blow).item() == pytest.approx((1 / v).sum().item())
    with pytest.raises(ValueError):
        fr.convergence_measure(down[:20])


# ---------------------------------------------------------------- the fast grid

@pytest.mark.parametrize("nonlinearity", fr.NONLINEARITIES)
def test_grid_matches_one_network_at_a_time(nonlinearity):
    """Library twin: every pixel equals the measure of train_losses (torch.func.grad) at its rates;
    rows are output-layer rates and columns input-layer rates, both ascending."""
    p = fr.make_problem(4, nonlinearity=nonlinearity, seed=3)
    lr_in, lr_out = (-2.0, 0.0), (-1.0, 1.5)
    grid = fr.trainability_grid(p, lr_in, lr_out, resolution=3, steps=30, chunk=4)
    rin, rout = fr.log_grid(*lr_in, 3), fr.log_grid(*lr_out, 3)
    for i in range(3):
        for j in range(3):
            want = fr.convergence_measure(fr.train_losses(p, rin[j].item(), rout[i].item(), 30))
            assert grid[i, j].item() == pytest.approx(want.item(), rel=1e-9)


@pytest.mark.parametrize("nonlinearity", fr.NONLINEARITIES)
def test_minibatch_grid_matches_one_network_at_a_time(nonlinearity):
    """The same twin check for minibatch GD (5 of 20 points a step, with replacement): every network of
    the grid sees the minibatches of train_losses, and records the full-batch loss."""
    p = fr.make_problem(4, nonlinearity=nonlinearity, seed=3)
    lr_in, lr_out = (-2.0, 0.5), (-1.0, 1.5)
    grid = fr.trainability_grid(p, lr_in, lr_out, resolution=3, steps=30, chunk=4, batch_size=5,
                                batch_seed=2)
    rin, rout = fr.log_grid(*lr_in, 3), fr.log_grid(*lr_out, 3)
    for i in range(3):
        for j in range(3):
            losses = fr.train_losses(p, rin[j].item(), rout[i].item(), 30, batch_size=5, batch_seed=2)
            assert grid[i, j].item() == pytest.approx(fr.convergence_measure(losses).item(), rel=1e-9)
    assert not torch.allclose(grid, fr.trainability_grid(p, lr_in, lr_out, resolution=3, steps=30))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_offset_grid_matches_one_network_at_a_time(nonlinearity):
    """Twin check of the offset phase space: column j starts from W₀ + o_j, row i trains both layers
    at η_i; and the offset really moves the start (the grid differs from offset 0)."""
    p = fr.make_problem(4, nonlinearity=nonlinearity, seed=3)
    offset, lr = (-1.0, 0.5), (-1.0, 1.5)
    grid = fr.offset_grid(p, offset, lr, resolution=3, steps=30)
    offsets, rates = fr.log_grid(*offset, 3), fr.log_grid(*lr, 3)
    for i in range(3):
        for j in range(3):
            shifted = dataclasses.replace(p, W0=p.W0 + offsets[j])
            losses = fr.train_losses(shifted, rates[i].item(), rates[i].item(), 30)
            assert grid[i, j].item() == pytest.approx(fr.convergence_measure(losses).item(), rel=1e-9)
    unshifted = fr.convergence_measure(fr.train_losses(p, rates[2].item(), rates[2].item(), 30))
    assert grid[2, 2].item() != pytest.approx(unshifted.item(), rel=1e-3)
    with pytest.raises(ValueError):
        fr.offset_grid(p, (1.0, 0.0), lr, resolution=3, steps=30)


def test_minibatches_are_seeded_uniform_draws_with_replacement():
    b = fr.minibatches(20, 5, 400, seed=2)
    assert b.shape == (400, 5) and b.min() == 0 and b.max() == 19
    assert torch.equal(b, fr.minibatches(20, 5, 400, seed=2))
    assert not torch.equal(b, fr.minibatches(20, 5, 400, seed=3))
    repeats = torch.tensor([len(set(row.tolist())) < 5 for row in b])
    assert 0.4 < repeats.double().mean() < 0.75  # with replacement: P(a repeat) = 1 − 20·19·18·17·16/20⁵ ≈ 0.58
    counts = torch.bincount(b.flatten(), minlength=20).double()
    assert ((counts - 100) / 100**0.5).abs().max() < 4.5  # uniform: 100 ± 10 draws per point
    with pytest.raises(ValueError):
        fr.minibatches(20, 0, 10)


def _output_layer_gd(H: torch.Tensor, W1: torch.Tensor, lr_out: float, Y: torch.Tensor,
                     steps: int) -> torch.Tensor:
    """GD on W₁ alone with fixed features H [n, width], one step at a time: the losses [steps]."""
    losses = []
    for _ in range(steps):
        r = H @ W1 / H.shape[1] - Y
        losses.append((r * r).mean())
        W1 = W1 - lr_out * H.T @ (2 * r / (H.shape[0] * H.shape[1]))
    return torch.stack(losses)


@pytest.mark.parametrize("n", [12, 3])
def test_saturated_losses_equal_output_layer_gd(n):
    """Closed form against the iteration, for rates that converge, oscillate, sit near the edge
    and diverge; n = 3 < width leaves null directions, and a repeated column makes M singular."""
    gen = torch.Generator().manual_seed(0)
    width, steps = 4, 60
    H = torch.randint(0, 2, (n, width, 6), generator=gen).double() * 2 - 1
    H[:, 3, 0] = H[:, 1, 0]  # rank-deficient features for network 0
    W1 = torch.randn(width, 6, generator=gen, dtype=torch.float64)
    Y = torch.randn(n, 1, generator=gen, dtype=torch.float64)
    lam_max = torch.linalg.eigvalsh((H / width).permute(2, 1, 0) @ (H / width).permute(2, 0, 1))[:, -1]
    lr_out = torch.tensor([0.1, 0.5, 0.99, 1.01, 1.5, 3.0], dtype=torch.float64) * n / lam_max
    got = fr.saturated_losses(H, W1, lr_out, Y, steps)
    assert got.shape == (steps, 6)
    for b in range(6):
        want = _output_layer_gd(H[:, :, b], W1[:, b:b + 1], lr_out[b].item(), Y, steps)
        assert torch.allclose(got[:, b], want, rtol=1e-9, atol=1e-14)
    assert got[-1, :2].max() < got[0, :2].min() and got[-1, 4:].min() > 1e6 * got[0, 4:].max()
    with pytest.raises(ValueError, match=r"W1 must be \[4, 6\]"):
        fr.saturated_losses(H, W1.T, lr_out, Y, steps)
    with pytest.raises(ValueError, match=r"Y must be"):
        fr.saturated_losses(H, W1, lr_out, Y[:, 0], steps)


@pytest.mark.parametrize("lr_in, lr_out", [((3.5, 5.5), (-1.0, 0.5)), ((3.5, 5.5), (-1.0, 1.5))])
def test_grid_finishes_saturated_networks_in_closed_form(monkeypatch, lr_in, lr_out):
    """Twin check where the hidden layer saturates (large input rates; the second window's top row
    diverges): the grid hands most networks to saturated_losses (spied on) and still equals
    train_losses pixel by pixel."""
    p = fr.make_problem(4, seed=3)
    finished = []

    def spy(H, *args):
        finished.append(H.shape[2])
        return saturated_losses(H, *args)

    saturated_losses = fr.saturated_losses
    monkeypatch.setattr(fr, "saturated_losses", spy)
    grid = fr.trainability_grid(p, lr_in, lr_out, resolution=3, steps=30, chunk=9)
    assert sum(finished) >= 6
    rin, rout = fr.log_grid(*lr_in, 3), fr.log_grid(*lr_out, 3)
    for i in range(3):
        for j in range(3):
            want = fr.convergence_measure(fr.train_losses(p, rin[j].item(), rout[i].item(), 30))
            assert grid[i, j].item() == pytest.approx(want.item(), rel=1e-9)
    assert (grid > 0).any() == (lr_out[1] > 0.5)


def test_grid_chunking_and_progress(problem8):
    seen = []

    def progress(iterable, **kwargs):
        seen.append(kwargs)
        return iterable

    whole = fr.trainability_grid(problem8, (-1.0, 0.5), (-1.0, 1.0), resolution=6, steps=25)
    parts = fr.trainability_grid(problem8, (-1.0, 0.5), (-1.0, 1.0), resolution=6, steps=25,
                                 chunk=5, progress=progress)
    assert whole.shape == (6, 6) and whole.dtype == torch.float64
    assert torch.allclose(whole, parts, rtol=1e-12)
    assert seen and seen[0]["total"] == 8


@pytest.mark.parametrize("kwargs", [dict(lr_in=(1.0, 1.0)), dict(lr_out=(2.0, -1.0)),
                                    dict(resolution=1), dict(resolution=0), dict(steps=20)])
def test_grid_rejects_bad_input(problem8, kwargs):
    with pytest.raises(ValueError):
        fr.trainability_grid(problem8, **{"resolution": 4, "steps": 25, **kwargs})


def test_small_input_rate_edge_is_two_over_lambda_max(problem8):
    """With lr_in → 0 only W₁ trains: a quadratic with Hessian 2 HᵀH / (n·width²); GD on it first
    diverges at lr_out = 2/λ_max. The first diverged row of the left column must sit there (±0.02)."""
    p = problem8
    H = fr.activation(p.X @ p.W0 / math.sqrt(p.width))
    lam = torch.linalg.eigvalsh(2 * H.T @ H / (p.n_points * p.width**2)).max().item()
    edge = math.log10(2 / lam)
    lo, hi, res = edge - 0.25, edge + 0.25, 41
    grid = fr.trainability_grid(p, (-3.0, -2.0), (lo, hi), resolution=res)
    first = int((grid[:, 0] >= 0).nonzero()[0])
    assert (grid[:first, 0] < 0).all()
    assert abs(lo + (hi - lo) * (first - 0.5) / (res - 1) - edge) < 0.02


def test_float32_agrees_with_float64_on_the_full_window(problem8, full_window):
    f32 = fr.trainability_grid(problem8, resolution=64, dtype=torch.float32)
    assert f32.dtype == torch.float32 and full_window.dtype == torch.float64
    assert ((full_window < 0) == (f32 < 0)).double().mean() >= 0.99


# ---------------------------------------------------------------- boundary and dimension

def test_boundary_mask_marks_sign_changes_in_2x2_blocks():
    values = torch.tensor([[-1.0, -1.0, 2.0],
                           [-1.0, -1.0, -1.0],
                           [-1.0, -1.0, -1.0]])
    assert fr.boundary_mask(values).tolist() == [[False, True], [False, False]]
    assert fr.boundary_mask(-values.abs()).sum() == 0
    with pytest.raises(ValueError):
        fr.boundary_mask(torch.ones(5))


@pytest.mark.parametrize("resolution", [256, 512, 1024])
def test_box_counting_dimension_of_sets_of_known_dimension(resolution):
    """Line and circle (1), Koch curve (1.262), Sierpinski triangle (1.585), filled disc (2), each
    rasterised as the pixels it touches: within 0.05 of the truth at 512² and 1024² (0.06 at 256²),
    and the log-log plot is straight (local slopes within 0.15 of each other)."""
    tolerance = 0.05 if resolution >= 512 else 0.06
    for name, (mask, truth) in fr.known_sets(resolution).items():
        bc = fr.box_count(mask)
        assert bc.dimension == pytest.approx(truth, abs=tolerance), (name, resolution, bc.dimension)
        assert bc.spread < 0.15, (name, resolution, bc.local)
        assert list(bc.sizes) == [2 ** k for k in range(1, len(bc.sizes) + 1)]
        assert bc.sizes[-1] * fr.BOXES_ACROSS <= resolution


def test_box_counts_of_a_line_and_the_fewest_over_shifted_grids():
    """A horizontal line crosses ceil(R / s) boxes; a shifted grid can only add boxes to a set that
    the unshifted one covers exactly, so the minimum over shifts is that exact count."""
    line = np.zeros((256, 256), bool)
    line[64, :] = True  # on a box edge for every s: rows 64..64+s−1 hold it
    sizes = fr.box_sizes(256)
    assert list(sizes) == [2, 4, 8]
    assert list(fr.box_counts(line, sizes)) == [-(-256 // s) for s in sizes]
    shifted = fr.box_counts(line, sizes, offset=2)
    assert all(c >= exact for c, exact in zip(shifted, fr.box_counts(line, sizes)))
    assert list(fr.box_count(line).counts) == [256 // s for s in sizes]
    with pytest.raises(ValueError, match="at least 255"):
        fr.box_count(np.ones((200, 200), bool))
    with pytest.raises(ValueError, match="empty"):
        fr.box_count(np.zeros((256, 256), bool))


def test_random_speckle_has_no_dimension_only_a_density():
    """The control the lecture shows next to every dimension. Speckle is not a set with a dimension:
    the boundary of i.i.d. pixels at density 0.5 hits every box (2.00 at every scale, the same as a
    filled area); at density 0.9 the local slopes bend from 1.4 to 2 (spread ≥ 0.4) and the
    estimate climbs with resolution (1.63 at 256², 1.78 at 512², 1.85 at 1024²); a straight boundary
    with 3 % of its pixels flipped reads 1.03 / 1.31 / 1.50 with a spread ≥ 0.29. A real curve
    keeps its value and a straight plot (the half-plane: 1.00, spread ≤ 0.03)."""
    rng = np.random.default_rng(0)
    by_resolution = {}
    for R in (256, 512, 1024):
        i, j = np.mgrid[:R, :R]
        half = np.where(i - 0.37 * j > 0.3 * R, -1.0, 1.0)
        flipped = half * np.where(rng.random((R, R)) < 0.03, -1, 1)
        dense = np.where(rng.random((R, R)) < 0.5, -1.0, 1.0)
        sparse = np.where(rng.random((R, R)) < 0.9, -1.0, 1.0)
        by_resolution[R] = {name: fr.box_count(fr.boundary_mask(torch.from_numpy(v)))
                            for name, v in [("half", half), ("flipped", flipped), ("dense", dense),
                                            ("sparse", sparse), ("shuffled", fr.shuffled(half))]}
    for R, bc in by_resolution.items():
        assert bc["half"].dimension == pytest.approx(1.0, abs=0.02) and bc["half"].spread < 0.05
        assert bc["dense"].dimension == pytest.approx(2.0, abs=0.01) and bc["dense"].spread < 0.02
        assert bc["shuffled"].dimension == pytest.approx(2.0, abs=0.01)
        assert bc["sparse"].spread > 0.4 and bc["flipped"].spread > 0.25
    for name in ("sparse", "flipped"):
        d = [by_resolution[R][name].dimension for R in (256, 512, 1024)]
        assert d[0] + 0.1 < d[1] < d[2] - 0.05, (name, d)


def test_shuffled_keeps_the_values_and_destroys_the_structure():
    values = np.arange(-50.0, 50.0).reshape(10, 10)
    out = fr.shuffled(values, seed=1)
    assert sorted(out.ravel()) == sorted(values.ravel()) and not np.array_equal(out, values)
    assert np.array_equal(out, fr.shuffled(values, seed=1))


def test_grid_does_not_depend_on_the_thread_count(problem8):
    """Bit for bit, in a chaotic window where rounding decides pixels: the chunks and the order of
    every operation are the same for 1 and 2 threads."""
    threads = torch.get_num_threads()
    grids = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            grids.append(fr.trainability_grid(problem8, (3.0, 4.0), (1.1, 1.5), resolution=40,
                                              steps=60, with_outcome=True))
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(grids[0][0], grids[1][0]) and torch.equal(grids[0][1], grids[1][1])


def test_outcome_tells_did_not_converge_from_diverged(problem8):
    t = torch.arange(30, dtype=torch.float64)
    curves = torch.stack([2.0 * 0.9**t, 2.0 * 1.1**t, torch.where(t < 10, 2.0 * 10.0**t, math.inf)])
    assert fr.outcome(curves).tolist() == [0, 1, 2]
    assert fr.OUTCOMES == ("trained", "did not converge", "diverged")
    values, codes = fr.trainability_grid(problem8, (-1.0, 1.0), (1.0, 5.0), resolution=5, steps=60,
                                         with_outcome=True)
    rin, rout = fr.log_grid(-1.0, 1.0, 5), fr.log_grid(1.0, 5.0, 5)
    for i in range(5):
        for j in range(5):
            losses = fr.train_losses(problem8, rin[j].item(), rout[i].item(), 60)
            assert codes[i, j] == fr.outcome(losses)
    assert ((codes == 0) == (values < 0)).all() and set(codes.unique().tolist()) == {0, 1, 2}


# ---------------------------------------------------------------- the benchmark runs

def _benchmark():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "fractal.py"
    spec = importlib.util.spec_from_file_location("bench_fractal", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_benchmark_smoke(capsys):
    result = _benchmark().main(["--resolution", "6", "--baseline-resolution", "4", "--width", "3",
                                "--steps", "21", "--repeats", "1", "--threads", "1",
                                "--baselines", "torch", "--floor"])
    assert result["ratio"] > 0 and result["agreement"] >= 0.75 and 0 < result["floor_fraction"]
    out = capsys.readouterr().out
    assert "ratio to the torch baseline" in out and "matmul + σ floor" in out


def test_the_jax_baseline_trains_the_same_networks():
    """The JAX version (the author's jit(vmap(step))) against the grid: same pixels trained."""
    pytest.importorskip("jax")
    bench = _benchmark()
    p = fr.make_problem(4, seed=3)
    want = fr.trainability_grid(p, (-1.0, 3.0), (-1.0, 2.0), resolution=6, steps=30)
    got = bench.jax_grid(p, (-1.0, 3.0), (-1.0, 2.0), 6, 30, torch.float64)
    assert ((want < 0) == (got < 0)).all()  # large rates amplify rounding: one value differs by 1e−5
    calm = fr.trainability_grid(p, (-1.0, 1.0), (-1.0, 0.5), resolution=6, steps=30)
    assert torch.allclose(bench.jax_grid(p, (-1.0, 1.0), (-1.0, 0.5), 6, 30, torch.float64), calm, rtol=1e-12)


def test_the_numba_kernel_trains_the_same_networks():
    """The fused numba kernel against the grid: same pixels trained, same measures where calm."""
    pytest.importorskip("numba")
    bench = _benchmark()
    p = fr.make_problem(4, seed=3)
    want = fr.trainability_grid(p, (-1.0, 3.0), (-1.0, 2.0), resolution=6, steps=30)
    assert ((want < 0) == (bench.numba_grid(p, (-1.0, 3.0), (-1.0, 2.0), 6, 30, 1) < 0)).all()
    calm = fr.trainability_grid(p, (-1.0, 1.0), (-1.0, 0.5), resolution=6, steps=30)
    assert torch.allclose(bench.numba_grid(p, (-1.0, 1.0), (-1.0, 0.5), 6, 30, 1), calm, rtol=1e-12)
    with pytest.raises(ValueError, match="tanh"):
        bench.numba_grid(fr.make_problem(4, nonlinearity="relu"), (-1.0, 1.0), (-1.0, 0.5), 6, 30, 1)


def test_restretch_is_the_authors_rank_colour_scale():
    """Trained values spread evenly over [−1, −0.25] by rank (the slowest at −1), the others over
    [0.25, 1] (the slowest to rise at 1); ranks can be taken against a reference image."""
    values = torch.tensor([[-5.0, -1.0, 3.0], [-100.0, 0.5, 2.0]])
    out = fr.restretch(values)
    assert np.array_equal(np.sign(out), np.sign(values.numpy()))
    assert sorted(out[out < 0]) == pytest.approx([-1.0, -0.625, -0.25])
    assert sorted(out[out > 0]) == pytest.approx([0.25, 0.625, 1.0])
    assert out[1, 0] == -1.0 and out[0, 2] == 1.0
    ref = np.array([-10.0, -1.0, 1.0, 10.0])
    assert fr.restretch(np.array([-5.5, 5.5]), ref) == pytest.approx([-0.625, 0.625])


# ---------------------------------------------------------------- the cached pictures

def _stride_for(resolution: int, largest: int = 16) -> tuple[int, int]:
    """A small grid whose rates are every k-th rate of the cached one: (its side r, the stride k)."""
    r = max(r for r in range(2, largest + 1) if (resolution - 1) % (r - 1) == 0)
    return r, (resolution - 1) // (r - 1)


def test_every_picture_is_cached_compactly_with_its_command():
    total = 0
    for name, picture in fr.PICTURES.items():
        r = fr.load(name)
        R = r.picture.resolution
        assert r.colour.shape == r.outcome.shape == (R, R)
        assert r.picture == dataclasses.replace(picture, resolution=R, steps=r.picture.steps)
        assert np.array_equal(r.colour < 0, r.trained) and set(np.unique(r.outcome)) <= {0, 1, 2}
        assert r.command.startswith(f"python -m mlcourse.fractal --render {name}") and r.seconds > 0
        for key in ("resolution", "steps"):  # the command names what differs from the picture's default
            assert (f"--{key} " in r.command) == (getattr(r.picture, key) != getattr(picture, key))
        total += picture.path().stat().st_size
    assert total < 3e6, f"{total / 1e6:.1f} MB of cached pictures"
    with pytest.raises(ValueError, match="unknown picture"):
        fr.load("mandelbrot")


@pytest.mark.parametrize("name", list(fr.PICTURES))
def test_recomputing_a_cached_picture_at_small_size_gives_its_pixels_and_statistics(name):
    """The recompute path (fr.render, what `python -m mlcourse.fractal --render` runs): on the
    cached picture's own rates (every k-th row and column) the same pixels train, but for a few
    chaotic ones whose rates round differently; and at 32² the trained share is the cached one's."""
    cached = fr.load(name)
    r, k = _stride_for(cached.picture.resolution)
    _, codes = fr.render(cached.picture, resolution=r)
    sub = cached.outcome[::k, ::k]
    assert (np.asarray(codes) == sub).mean() >= 0.85, (name, np.asarray(codes), sub)
    _, codes32 = fr.render(cached.picture, resolution=32)
    share, cached_share = (np.asarray(codes32) == 0).mean(), cached.trained.mean()
    assert share == pytest.approx(cached_share, abs=0.06), (name, share, cached_share)


def test_the_render_command_writes_a_picture_that_loads(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fr, "DATA_DIR", tmp_path)
    fr.main(["--render", "single_point", "--resolution", "12", "--steps", "25"])
    assert "single_point: 12² × 25 steps" in capsys.readouterr().out
    r = fr.load("single_point")
    assert r.picture.resolution == 12 and r.picture.steps == 25 and r.threads >= 1
    values, codes = fr.render(r.picture)
    assert np.array_equal(np.asarray(codes), r.outcome)
    assert np.abs(fr.restretch(values) - r.colour).max() <= 1 / (fr.LEVELS - 1) + 1e-12
    fr.main(["--list"])
    assert "single_point  12² 25 steps" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        fr.main(["--render", "nowhere"])


def test_dimension_check_reports_a_dimension_only_for_resolved_structure():
    """Pictures with a known border pass all three checks (a disc: its circle; a half-plane: a line);
    speckle (i.i.d. pixels, 90 % trained) has no dimension."""
    disc = fr.known_sets(512)["filled disc"][0]
    assert fr.dimension_check(disc).dimension == pytest.approx(1.0, abs=0.05)
    i, j = np.mgrid[:512, :512]
    assert fr.dimension_check(i - 0.37 * j > 100).dimension == pytest.approx(1.0, abs=0.05)
    speckle = np.random.default_rng(0).random((512, 512)) < 0.9
    check = fr.dimension_check(speckle)
    assert not check.resolved and check.dimension is None and check.half is not None


def test_the_zoom_frames_show_structure_not_speckle_at_every_level():
    """Lecture 08's zoom: every frame, from the full window down to 9e−10 decades, holds both
    outcomes, and its neighbouring pixels agree far more often than the same pixels shuffled."""
    for k in fr.ZOOM_LEVELS:
        trained = fr.load(f"zoom{k}").trained
        assert 0.1 < trained.mean() < 0.9, (k, trained.mean())
        assert fr.coherence(trained) > 0.9 > 0.6 > fr.coherence(fr.shuffled(trained)), k


def test_coherence_separates_regions_from_speckle():
    i, _ = np.mgrid[:64, :64]
    assert fr.coherence(i < 20) == pytest.approx(1 - 64 / (2 * 63 * 64))  # 64 of the 2·63·64 pairs differ
    speckle = np.random.default_rng(0).random((256, 256)) < 0.5
    assert fr.coherence(speckle) == pytest.approx(0.5, abs=0.01)
    with pytest.raises(ValueError, match="trained"):
        fr.coherence(np.ones(5, dtype=bool))


def test_find_zoom_centre_lands_on_a_coherent_border():
    """A short search (two levels, coarse frames): the level-2 window around the point it returns
    holds both outcomes, as its score asks, and the search is seeded."""
    kw = dict(resolution=24, probe=16, candidates=4)
    centre = fr.find_zoom_centre((1.0, 0.5), 2, **kw)
    assert centre == fr.find_zoom_centre((1.0, 0.5), 2, **kw)
    x, y = fr.zoom_window(centre, 2)
    _, codes = fr.trainability_grid(fr.make_problem(8), x, y, resolution=16, steps=100, with_outcome=True)
    assert 0.2 <= (np.asarray(codes) == 0).mean() <= 0.8


def test_the_deepest_zoom_frames_border_has_a_dimension():
    """The deepest frames are resolved, with a dimension between a curve and an area, well away
    from their shuffled pixels."""
    for k in fr.ZOOM_LEVELS[-2:]:
        check = fr.dimension_check(fr.load(f"zoom{k}").trained)
        assert check.resolved and 1.05 < check.dimension < 1.9, (k, check)
        assert check.contrast >= fr.MIN_CONTRAST


@pytest.mark.parametrize("name", ["tanh", "relu", "identity", "minibatch", "offset"])
def test_five_setups_borders_measure_above_a_curve(name):
    """Lecture 08: on its whole window (512²), five of the paper's six setups have a resolved border
    whose dimension is above 1 (a smooth curve) and below that of its shuffled pixels."""
    check = fr.dimension_check(fr.load(name).trained)
    assert check.resolved and 1.05 < check.dimension < check.control.dimension, check


def test_the_single_point_border_is_smooth_on_its_whole_window():
    """Lecture 08: trained on one point for 1000 steps, the border over the whole window measures
    as a smooth curve at 512² (the paper's 1.41 comes from its deep zooms)."""
    check = fr.dimension_check(fr.load("single_point").trained)
    assert check.resolved and check.dimension == pytest.approx(1.0, abs=0.05), check
