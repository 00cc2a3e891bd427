"""How fast is batched MAML? meta_train's vmapped step against a per-task Python loop, same run.

    python benchmarks/maml.py                       # CPU, 1 thread, meta-batch 25, 10-shot, 1 step
    python benchmarks/maml.py --threads 2 --repeats 7
    python benchmarks/maml.py --device cuda --meta-batch 25 1000

Both learners do the same work per meta-iteration: sample a meta-batch of sinusoid tasks, adapt
each task with one second-order inner step, average the query losses, backpropagate, Adam step.
The baseline loops over the tasks in Python with ``torch.autograd.grad(create_graph=True)`` (how
MAML is usually first written); ``mlcourse.maml.meta_train`` does all tasks in one
``vmap(grad(...))``. Each timing is repeated and the median reported; CPU time (``process_time``)
is the honest number on a shared machine, wall time is printed beside it. The last table is the
peak memory of one meta-gradient against the number of inner steps (it grows linearly).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch.func import functional_call

from mlcourse import maml, runtime


def loop_meta_loss(model: torch.nn.Module, tasks: maml.Tasks, inner_lr: float = 0.01) -> torch.Tensor:
    """Straightforward MAML meta-loss (one second-order inner step): a Python loop over tasks."""
    names, params = zip(*model.named_parameters())
    total = 0.0
    for xs, ys, xq, yq in zip(*tasks):
        support = (model(xs) - ys).pow(2).mean()
        grads = torch.autograd.grad(support, params, create_graph=True)
        adapted = {n: p - inner_lr * g for n, p, g in zip(names, params, grads)}
        total = total + (functional_call(model, adapted, (xq,)) - yq).pow(2).mean()
    return total / len(tasks[0])


def loop_meta_train(*, iterations: int, meta_batch: int = 25, k_shot: int = 10,
                    inner_lr: float = 0.01, meta_lr: float = 1e-3, seed: int = 0,
                    device: str = "cpu") -> torch.nn.Module:
    """The baseline learner: same tasks, same Adam, :func:`loop_meta_loss` for the gradient."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = maml.make_regressor().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=meta_lr)
    for _ in range(iterations):
        tasks = maml.sinusoid_tasks(meta_batch, k_shot, k_shot, generator=gen, device=device)
        opt.zero_grad()
        loop_meta_loss(model, tasks, inner_lr).backward()
        opt.step()
    return model


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def rate(train, iterations: int, device: str, repeats: int) -> tuple[float, float]:
    """Median meta-iterations per second of ``train(iterations)``: (by CPU time, by wall time)."""
    train(2)  # warm-up: first-call overheads, CUDA context
    cpu, wall = [], []
    for _ in range(repeats):
        _sync(device)
        c0, w0 = time.process_time(), time.perf_counter()
        train(iterations)
        _sync(device)
        cpu.append(iterations / max(time.process_time() - c0, 1e-9))
        wall.append(iterations / max(time.perf_counter() - w0, 1e-9))
    return statistics.median(cpu), statistics.median(wall)


def compare(meta_batch: int, iterations: int, repeats: int, device: str) -> dict[str, float]:
    """Rates of both learners and their ratios at one meta-batch size."""
    fast = rate(lambda n: maml.meta_train(iterations=n, meta_batch=meta_batch, device=device,
                                          progress=False), iterations, device, repeats)
    slow = rate(lambda n: loop_meta_train(iterations=n, meta_batch=meta_batch, device=device),
                iterations, device, repeats)
    return {"vmap_cpu": fast[0], "vmap_wall": fast[1], "loop_cpu": slow[0], "loop_wall": slow[1],
            "ratio_cpu": fast[0] / slow[0], "ratio_wall": fast[1] / slow[1]}


def memory_table(steps: list[int], device: str) -> list[tuple[int, int, int]]:
    """(inner steps, peak bytes second order, peak bytes first order) of one meta-gradient."""
    return [(s, maml.meta_gradient_memory(s, device=device),
             maml.meta_gradient_memory(s, first_order=True, device=device)) for s in steps]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--meta-batch", type=int, nargs="+", default=[25])
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-steps", type=int, nargs="*", default=[1, 2, 3, 4, 5, 6])
    args = parser.parse_args(argv)
    runtime.set_threads(args.threads)
    print(f"torch {torch.__version__}, device {args.device}, {args.threads} thread(s), "
          f"{args.iterations} iterations x {args.repeats} repeats (median)")
    print(f"{'meta-batch':>10} {'vmap it/s':>10} {'loop it/s':>10} {'ratio':>7}   (wall: vmap, loop, ratio)")
    for mb in args.meta_batch:
        r = compare(mb, args.iterations, args.repeats, args.device)
        print(f"{mb:>10} {r['vmap_cpu']:>10.1f} {r['loop_cpu']:>10.1f} {r['ratio_cpu']:>6.1f}x   "
              f"({r['vmap_wall']:.1f}, {r['loop_wall']:.1f}, {r['ratio_wall']:.1f}x)")
    if args.memory_steps:
        table = memory_table(args.memory_steps, args.device)
        steps, second, first = (np.array(c, dtype=float) for c in zip(*table))
        slope, icpt = np.polyfit(steps, second, 1)
        r2 = 1 - np.sum((second - (slope * steps + icpt)) ** 2) / np.sum((second - second.mean()) ** 2)
        print("inner steps   peak MB (second order)   peak MB (first order)")
        for s, a, b in table:
            print(f"{s:>11} {a / 1e6:>24.3f} {b / 1e6:>22.3f}")
        print(f"linear fit: {slope / 1e6:.3f} MB per inner step, R^2 = {r2:.4f}")


if __name__ == "__main__":
    main()
