"""Speed of ``mlcourse.fractal.trainability_grid`` against straightforward batched versions.

All train resolution² one-hidden-layer networks (the author's setup, see ``mlcourse/fractal.py``)
with full-batch GD for ``steps`` steps and return the convergence measure. Three baselines:

- ``torch``: what one writes first in torch: every network's weights stacked into [G, ...] tensors,
  the data copied per network, one ``bmm`` chain forward per step and autograd for the backward
  pass, the whole grid at once;
- ``jax``: the author's way: one network's step written plainly, ``jax.vmap`` over the rates and
  ``jax.jit`` around it, called once per step (float64 via ``jax_enable_x64``; compiled once before
  the clock starts), on JAX's default device. Needs ``pip install -e ".[bench]"`` (on a GPU,
  ``pip install "jax[cuda12]"``);
- ``numba``: a fused CPU kernel, one network per parallel iteration with all its steps in local
  arrays (tanh, full batch, float64; ``pip install numba``).

The rate is networks·steps per second. Each version runs ``--repeats`` times, in turns, and the rates
and the ratios use the best run of each (as ``timeit`` does: on a shared machine the slower runs
measure the neighbours); the medians are printed beside them. On CPU the clock is CPU time (user +
system of this process, all threads), on an accelerator wall time.

    python benchmarks/fractal.py                      # 128 × 128, width 8, 100 steps, float64, 2 threads
    python benchmarks/fractal.py --baselines jax      # only the JAX baseline
    python benchmarks/fractal.py --baselines numba    # the fused numba kernel
    python benchmarks/fractal.py --device cuda --width 16 --steps 1000 --resolution 512
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import math
import statistics
import time

import numpy as np
import torch

from mlcourse import fractal, runtime


def straightforward_grid(problem: fractal.Problem, lr_in: tuple[float, float],
                         lr_out: tuple[float, float], resolution: int, steps: int,
                         device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """The baseline: [G, n, width] batches, ``bmm`` forward, autograd backward, no chunking."""
    rates_out, rates_in = torch.meshgrid(fractal.log_grid(*lr_out, resolution),
                                         fractal.log_grid(*lr_in, resolution), indexing="ij")
    G = resolution * resolution
    eta0 = rates_in.reshape(G, 1, 1).to(device, dtype)
    eta1 = rates_out.reshape(G, 1, 1).to(device, dtype)
    X, Y = (t.to(device, dtype) for t in (problem.X, problem.Y))
    n, width = X.shape
    Xb = X.expand(G, n, width)
    W0 = problem.W0.to(device, dtype).expand(G, width, width).clone().requires_grad_()
    W1 = problem.W1.to(device, dtype).expand(G, width, 1).clone().requires_grad_()
    losses = []
    for _ in range(steps):
        H = fractal.activation(torch.bmm(Xb, W0) / math.sqrt(width), problem.nonlinearity)
        loss = ((torch.bmm(H, W1) / width - Y) ** 2).mean((1, 2))
        g0, g1 = torch.autograd.grad(loss.sum(), (W0, W1))
        with torch.no_grad():
            W0 -= eta0 * g0
            W1 -= eta1 * g1
        losses.append(loss.detach())
    return fractal.convergence_measure(torch.stack(losses, -1)).view(resolution, resolution).cpu()


def jax_grid(problem: fractal.Problem, lr_in: tuple[float, float], lr_out: tuple[float, float],
             resolution: int, steps: int, dtype: torch.dtype) -> torch.Tensor:
    """The JAX baseline: ``jit(vmap(step))`` over all rate pairs, called once per step, as in the
    author's notebook. Returns the convergence measures [resolution, resolution]. ``jax.jit`` caches
    the compiled step by shape: call once beforehand to keep the compilation out of a timing."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", dtype == torch.float64)
    jdtype = jnp.float64 if dtype == torch.float64 else jnp.float32
    X, Y, W0, W1 = (jnp.asarray(t.numpy(), dtype=jdtype)
                    for t in (problem.X, problem.Y, problem.W0, problem.W1))
    width, phi = W0.shape[0], problem.nonlinearity

    def net(W0, W1, X):
        Z = X @ W0 / jnp.sqrt(width)
        H = {"tanh": lambda z: jnp.tanh(jnp.sqrt(2.0) * z), "relu": lambda z: jnp.sqrt(2.0) * jax.nn.relu(z),
             "identity": lambda z: z}[phi](Z)
        return H @ W1 / width

    def loss(params, X, Y):
        return jnp.mean((net(*params, X) - Y) ** 2)

    def step(params, rates):
        value, (g0, g1) = jax.value_and_grad(loss)(params, X, Y)
        return (params[0] - rates[0] * g0, params[1] - rates[1] * g1), value

    train_step = jax.jit(jax.vmap(step, in_axes=(0, 0)), donate_argnums=(0,))
    rates_out, rates_in = torch.meshgrid(fractal.log_grid(*lr_out, resolution),
                                         fractal.log_grid(*lr_in, resolution), indexing="ij")
    rates = (jnp.asarray(rates_in.reshape(-1).numpy(), dtype=jdtype),
             jnp.asarray(rates_out.reshape(-1).numpy(), dtype=jdtype))
    G = resolution * resolution
    params = (jnp.tile(W0, (G, 1, 1)), jnp.tile(W1, (G, 1, 1)))
    losses = []
    for _ in range(steps):
        params, value = train_step(params, rates)
        losses.append(value)
    losses = jnp.stack(losses, -1).block_until_ready()
    return fractal.convergence_measure(torch.from_numpy(np.array(losses))).view(resolution, resolution)


@functools.cache
def _numba_kernel():
    """Compile (once) the fused kernel of :func:`numba_grid`."""
    import numba

    @numba.njit(parallel=True, fastmath=True)
    def train(Xg, Y, W0_init, W1_init, rates_in, rates_out, steps):
        n, width = Xg.shape
        losses = np.full((rates_in.shape[0], steps), np.inf)
        for b in numba.prange(rates_in.shape[0]):  # one network per iteration, all its steps
            W0, W1 = W0_init.copy(), W1_init.copy()
            H, r, G0 = np.empty((n, width)), np.empty(n), np.empty((width, width))
            acc, g1 = np.empty(width), np.empty(width)
            saturated = False  # every |√2 z| ≥ 19.0625: H is ±1 exactly and W₀ is frozen for good
            for t in range(steps):
                if not saturated:
                    saturated = True
                    for i in range(n):  # √2 z = Xg W₀, H = tanh(√2 z) = 2σ(2√2 z) − 1
                        acc[:] = 0.0
                        for k in range(width):
                            for j in range(width):
                                acc[j] += Xg[i, k] * W0[k, j]
                        for j in range(width):
                            saturated &= abs(acc[j]) >= 19.0625
                            H[i, j] = 2.0 / (1.0 + math.exp(-2.0 * acc[j])) - 1.0
                loss = 0.0
                for i in range(n):
                    y = 0.0
                    for j in range(width):
                        y += H[i, j] * W1[j]
                    r[i] = y / width - Y[i, 0]
                    loss += r[i] * r[i]
                losses[b, t] = loss / n
                if not math.isfinite(loss):
                    break
                g1[:] = 0.0
                G0[:] = 0.0
                for i in range(n):
                    d = 2.0 * r[i] / (n * width)
                    for j in range(width):
                        g1[j] += H[i, j] * d
                        acc[j] = d * W1[j] * (1.0 - H[i, j] * H[i, j])
                    if not saturated:
                        for k in range(width):
                            for j in range(width):
                                G0[k, j] += Xg[i, k] * acc[j]
                for j in range(width):
                    W1[j] -= rates_out[b] * g1[j]
                    for k in range(width):
                        W0[k, j] -= rates_in[b] * G0[k, j]
        return losses

    return train


def numba_grid(problem: fractal.Problem, lr_in: tuple[float, float], lr_out: tuple[float, float],
               resolution: int, steps: int, threads: int) -> torch.Tensor:
    """A fused CPU kernel (numba, float64, tanh, full batch): each network keeps its weights in
    local arrays for all its steps, every elementwise operation is fused into the loops, and a
    network whose units have all saturated skips W₀'s products. Returns the convergence measures
    [resolution, resolution]. numba's float64 exp is a scalar call: the PyPI build of llvmlite has
    no SVML. ``pip install numba``; call once beforehand to keep the compilation out of a timing."""
    import numba

    if problem.nonlinearity != "tanh":
        raise ValueError(f"the numba kernel is written for tanh, got {problem.nonlinearity!r}")
    numba.set_num_threads(threads)
    width = problem.width
    rates_out, rates_in = torch.meshgrid(fractal.log_grid(*lr_out, resolution),
                                         fractal.log_grid(*lr_in, resolution), indexing="ij")
    Xg = (problem.X * math.sqrt(2.0 / width)).double().numpy()
    losses = _numba_kernel()(Xg, problem.Y.double().numpy(), problem.W0.double().numpy(),
                             problem.W1[:, 0].double().numpy(), rates_in.reshape(-1).numpy(),
                             rates_out.reshape(-1).numpy(), steps)
    return fractal.convergence_measure(torch.from_numpy(losses)).view(resolution, resolution)


def timed(f) -> tuple[float, float, torch.Tensor]:
    """Run ``f`` once: its CPU seconds, wall seconds and result."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    c0, w0 = time.process_time(), time.perf_counter()
    out = f()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.process_time() - c0, time.perf_counter() - w0, out


def floor_seconds(problem: fractal.Problem, resolution: int, steps: int, device: torch.device,
                  repeats: int = 20) -> tuple[float, float]:
    """The matmul + σ floor of the grid's tanh path: (network·steps that were trained in full, CPU
    seconds that their two big products and their σ alone take, one thread). Counted by running the
    grid with ``torch.sigmoid_`` wrapped (one call per full step of a chunk); timed on one chunk of
    the grid's size. Saturated networks finished in closed form and dropped networks cost nothing."""
    elements = []
    sigmoid_ = torch.sigmoid_

    def counting(t):
        elements.append(t.numel())
        return sigmoid_(t)

    torch.sigmoid_ = counting
    try:
        fractal.trainability_grid(problem, resolution=resolution, steps=steps, device=device)
    finally:
        torch.sigmoid_ = sigmoid_
    n, width = problem.X.shape
    network_steps = sum(elements) / (n * width)
    B = fractal.chunk_size(problem, device)
    Xg, XgT = problem.X.clone(), problem.X.T.contiguous()
    W0 = torch.randn(width, width * B, dtype=problem.X.dtype)
    S, G = torch.empty(n, width * B, dtype=problem.X.dtype), torch.empty(width, width * B, dtype=problem.X.dtype)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        best = math.inf
        for _ in range(3):
            c0 = time.process_time()
            for _ in range(repeats):
                torch.mm(Xg, W0, out=S)
                torch.sigmoid_(S.clamp_(-40, 40))
                torch.mm(XgT, S, out=G)
            best = min(best, (time.process_time() - c0) / (repeats * B))
    finally:
        torch.set_num_threads(threads)
    return network_steps, network_steps * best


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=int, default=128)
    ap.add_argument("--baseline-resolution", type=int, default=None,
                    help="grid side for the baselines (default: --resolution; smaller is faster per "
                         "network for them, so a smaller side favours them)")
    ap.add_argument("--baselines", nargs="+", choices=("torch", "jax", "numba"), default=None,
                    help="default: torch, and jax when it is installed")
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--device", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--floor", action="store_true", help="also report the matmul + σ floor (CPU, tanh)")
    args = ap.parse_args(argv)
    args.baseline_resolution = args.baseline_resolution or args.resolution
    if args.baselines is None:
        args.baselines = ["torch"] + (["jax"] if importlib.util.find_spec("jax") else [])

    runtime.set_threads(args.threads)
    device = runtime.get_device(args.device)
    dtype = getattr(torch, args.dtype)
    problem = fractal.make_problem(args.width, dtype=dtype)
    window = ((-3.0, 6.0), (-3.0, 6.0))
    R, Rb = args.resolution, args.baseline_resolution
    versions = {"trainability_grid": (R, lambda: fractal.trainability_grid(
        problem, *window, resolution=R, steps=args.steps, device=device))}
    if "torch" in args.baselines:
        versions["torch baseline"] = (Rb, lambda: straightforward_grid(
            problem, *window, Rb, args.steps, device, dtype))
    if "jax" in args.baselines:
        versions["jax baseline"] = (Rb, lambda: jax_grid(problem, *window, Rb, args.steps, dtype))
        jax_grid(problem, *window, Rb, 21, dtype)  # compile for the grid's shapes outside the clock
    if "numba" in args.baselines:
        versions["numba kernel"] = (Rb, lambda: numba_grid(problem, *window, Rb, args.steps, args.threads))
        numba_grid(problem, *window, 2, 21, args.threads)  # compile outside the clock

    times = {name: ([], []) for name in versions}
    outputs = {}
    for _ in range(args.repeats):  # in turns, so that a slow spell of the machine hits all
        for name, (_, f) in versions.items():
            cpu, wall, outputs[name] = timed(f)
            times[name][0].append(cpu)
            times[name][1].append(wall)
    # every version must agree on which networks trained (grids of the baselines' size)
    check = outputs["trainability_grid"] if Rb == R else fractal.trainability_grid(
        problem, *window, resolution=Rb, steps=args.steps, device=device)

    on_cpu = device.type == "cpu"
    result: dict[str, float] = {}
    print(f"device {device}, {args.threads} threads, {args.dtype}, width {args.width} "
          f"({problem.n_points} points), {args.steps} steps, best (median) of {args.repeats}")
    rates = {}
    for name, (side, _) in versions.items():
        cpu, wall = times[name]
        clock = cpu if on_cpu else wall
        work = side ** 2 * args.steps
        rates[name] = (work / min(clock), work / statistics.median(clock))
        agree = ((check < 0) == (outputs[name] < 0)).double().mean().item() if name != "trainability_grid" else 1.0
        key = "fast" if name == "trainability_grid" else name.split()[0]
        result.update({f"{key}_rate": rates[name][0], f"{key}_cpu_s": min(cpu), f"{key}_wall_s": min(wall)})
        if name != "trainability_grid":
            result[f"{key}_agreement"] = agree
        print(f"{name:18s} {side}²: CPU {min(cpu):.2f} ({statistics.median(cpu):.2f}) s, wall "
              f"{min(wall):.2f} ({statistics.median(wall):.2f}) s, {rates[name][0]:.3g} networks·steps/s "
              f"({'CPU' if on_cpu else 'wall'})"
              + ("" if name == "trainability_grid" else f", agreement {100 * agree:.2f} %"))
    for name in versions:
        if name == "trainability_grid":
            continue
        key = name.split()[0]
        result[f"{key}_ratio"] = rates["trainability_grid"][0] / rates[name][0]
        result[f"{key}_median_ratio"] = rates["trainability_grid"][1] / rates[name][1]
        print(f"ratio to the {name}: {result[f'{key}_ratio']:.1f}× ({result[f'{key}_median_ratio']:.1f}×)")
    if "torch baseline" in versions:  # the names of earlier versions of this script
        result["ratio"], result["agreement"] = result["torch_ratio"], result["torch_agreement"]
    if args.floor and on_cpu and problem.nonlinearity == "tanh":
        network_steps, floor = floor_seconds(problem, R, args.steps, device)
        result["floor_fraction"] = floor / result["fast_cpu_s"]
        print(f"matmul + σ floor: {network_steps / (R * R * args.steps):.0%} of the network·steps train "
              f"in full; their products and σ alone take {floor:.2f} s CPU, "
              f"{100 * result['floor_fraction']:.0f} % of the grid's {result['fast_cpu_s']:.2f} s")
    return result


if __name__ == "__main__":
    main()
