"""Speed of ``mlcourse.fractal.trainability_grid`` against a straightforward batched version.

Both train resolution² one-hidden-layer networks (the author's setup, see ``mlcourse/fractal.py``)
with full-batch GD for ``steps`` steps and return the convergence measure. The straightforward
version is what one writes first: every network's weights stacked into [G, ...] tensors, the data
copied per network, one ``bmm`` chain forward per step and autograd for the backward pass, the whole
grid at once. The rate is networks·steps per second. Each version runs ``--repeats`` times, in
turns, and the rates and the ratio use the best run of each (as ``timeit`` does: on a shared machine
the slower runs measure the neighbours); the medians are printed beside them. On CPU the clock is
CPU time (user + system of this process), on an accelerator wall time.

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


def timed(f) -> tuple[float, float, torch.Tensor]:
    """Run ``f`` once: its CPU seconds, wall seconds and result."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    c0, w0 = time.process_time(), time.perf_counter()
    out = f()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.process_time() - c0, time.perf_counter() - w0, out


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

    fast_cpu, fast_wall, base_cpu, base_wall = [], [], [], []
    for _ in range(args.repeats):  # in turns, so that a slow spell of the machine hits both
        cpu, wall, _ = timed(lambda: fractal.trainability_grid(
            problem, *window, resolution=args.resolution, steps=args.steps, device=device))
        fast_cpu.append(cpu)
        fast_wall.append(wall)
        cpu, wall, base = timed(lambda: straightforward_grid(
            problem, *window, args.baseline_resolution, args.steps, device, dtype))
        base_cpu.append(cpu)
        base_wall.append(wall)
    # the two implementations must agree on which networks trained (grids of the baseline's size)
    check = fractal.trainability_grid(problem, *window, resolution=args.baseline_resolution,
                                      steps=args.steps, device=device)
    agree = ((check < 0) == (base < 0)).double().mean().item()

    work_fast = args.resolution ** 2 * args.steps
    work_base = args.baseline_resolution ** 2 * args.steps
    on_cpu = device.type == "cpu"
    clock, base_clock = (fast_cpu, base_cpu) if on_cpu else (fast_wall, base_wall)
    result = {"fast_rate": work_fast / min(clock), "base_rate": work_base / min(base_clock),
              "fast_cpu_s": min(fast_cpu), "fast_wall_s": min(fast_wall),
              "base_cpu_s": min(base_cpu), "base_wall_s": min(base_wall),
              "median_ratio": (work_fast / statistics.median(clock))
              / (work_base / statistics.median(base_clock)),
              "agreement": agree}
    result["ratio"] = result["fast_rate"] / result["base_rate"]
    print(f"device {device}, {args.threads} threads, {args.dtype}, width {args.width} "
          f"({problem.n_points} points), {args.steps} steps, best (median) of {args.repeats}")
    for name, side, cpu, wall, rate in (
            ("trainability_grid", args.resolution, fast_cpu, fast_wall, result["fast_rate"]),
            ("straightforward  ", args.baseline_resolution, base_cpu, base_wall, result["base_rate"])):
        print(f"{name}  {side}²: CPU {min(cpu):.2f} ({statistics.median(cpu):.2f}) s, wall "
              f"{min(wall):.2f} ({statistics.median(wall):.2f}) s, {rate:.3g} networks·steps/s "
              f"({'CPU' if on_cpu else 'wall'})")
    print(f"ratio {result['ratio']:.1f}× ({result['median_ratio']:.1f}×)   "
          f"converged/diverged agreement {100 * agree:.2f} %")
    return result


if __name__ == "__main__":
    main()
