"""Speed of ``mlcourse.fractal.trainability_grid`` against a straightforward batched version.

Both train resolution² one-hidden-layer networks (the author's setup, see ``mlcourse/fractal.py``)
with full-batch GD for ``steps`` steps and return the convergence measure. The straightforward
version is what one writes first: every network's weights stacked into [G, ...] tensors, the data
copied per network, one ``bmm`` chain forward per step and autograd for the backward pass, the whole
grid at once. The rate is networks·steps per second; CPU time (user + system of this process) is
reported beside wall time because on a shared machine wall time measures the neighbours too.

    python benchmarks/fractal.py                      # 128 × 128, width 8, 100 steps, float64, 2 threads
    python benchmarks/fractal.py --threads 1          # on a shared machine: 1 thread, CPU time
    python benchmarks/fractal.py --device cuda --width 16 --steps 1000 --resolution 512
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

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


def timed(f, repeats: int) -> tuple[list[float], list[float], torch.Tensor]:
    """Run ``f`` ``repeats`` times; CPU seconds and wall seconds of each run, and the last result."""
    cpu, wall = [], []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        c0, w0 = time.process_time(), time.perf_counter()
        out = f()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return cpu, wall, out


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=int, default=128)
    ap.add_argument("--baseline-resolution", type=int, default=None,
                    help="grid side for the baseline (default: --resolution; smaller is faster per "
                         "network for the baseline, so a smaller side favours it)")
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--device", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    args.baseline_resolution = args.baseline_resolution or args.resolution

    runtime.set_threads(args.threads)
    device = runtime.get_device(args.device)
    dtype = getattr(torch, args.dtype)
    problem = fractal.make_problem(args.width, dtype=dtype)
    window = ((-3.0, 6.0), (-3.0, 6.0))

    fast_cpu, fast_wall, fast = timed(lambda: fractal.trainability_grid(
        problem, *window, resolution=args.resolution, steps=args.steps, device=device), args.repeats)
    base_cpu, base_wall, base = timed(lambda: straightforward_grid(
        problem, *window, args.baseline_resolution, args.steps, device, dtype), args.repeats)
    # the two implementations must agree on which networks trained (grids of the baseline's size)
    check = fractal.trainability_grid(problem, *window, resolution=args.baseline_resolution,
                                      steps=args.steps, device=device)
    agree = ((check < 0) == (base < 0)).double().mean().item()

    work_fast = args.resolution ** 2 * args.steps
    work_base = args.baseline_resolution ** 2 * args.steps
    clock = statistics.median(fast_wall) if device.type != "cpu" else statistics.median(fast_cpu)
    base_clock = statistics.median(base_wall) if device.type != "cpu" else statistics.median(base_cpu)
    result = {"fast_rate": work_fast / clock, "base_rate": work_base / base_clock,
              "fast_cpu_s": statistics.median(fast_cpu), "fast_wall_s": statistics.median(fast_wall),
              "base_cpu_s": statistics.median(base_cpu), "base_wall_s": statistics.median(base_wall),
              "agreement": agree}
    result["ratio"] = result["fast_rate"] / result["base_rate"]
    clock_name = "wall" if device.type != "cpu" else "CPU"
    print(f"device {device}, {args.threads} threads, {args.dtype}, width {args.width} "
          f"({problem.n_points} points), {args.steps} steps, median of {args.repeats}")
    print(f"trainability_grid  {args.resolution}²: CPU {result['fast_cpu_s']:.2f} s, "
          f"wall {result['fast_wall_s']:.2f} s, {result['fast_rate']:.3g} networks·steps/s ({clock_name})")
    print(f"straightforward    {args.baseline_resolution}²: CPU {result['base_cpu_s']:.2f} s, "
          f"wall {result['base_wall_s']:.2f} s, {result['base_rate']:.3g} networks·steps/s ({clock_name})")
    print(f"ratio {result['ratio']:.1f}×   converged/diverged agreement {100 * agree:.2f} %")
    return result


if __name__ == "__main__":
    main()
