"""Peak tensor memory of one call, on any device: how the course measures "memory grows with T".

Used by the MAML and long-horizon HPO lectures (reverse-mode differentiation through an inner loop
keeps every step alive; forward mode and first-order methods do not).
"""

from __future__ import annotations

import contextlib
import os
from typing import Callable, Iterator

import numpy as np
import torch


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence the profiler's C++ start/stop lines on file descriptor 2 (they are not results)."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def peak_memory(fn: Callable[[], object], device: torch.device | str | None = None) -> int:
    """Peak bytes of tensor memory allocated while ``fn()`` runs (above what was live before).

    CUDA: the caching allocator's peak counter, after one untimed call of ``fn`` (the first matrix
    product on a device allocates cuBLAS's workspace, about 64 MB that stay alive). CPU (and MPS):
    the allocation (+) and free (−) records of ``torch.profiler`` (``profile_memory=True``), summed
    in time order.
    """
    device = torch.device(device if device is not None else "cpu")
    if device.type == "cuda":
        fn()
        torch.cuda.synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - base
    from torch.profiler import ProfilerActivity, profile

    with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    records = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
                     if e.name() == "[memory]")
    return int(max(np.cumsum([nbytes for _, nbytes in records]).max(), 0)) if records else 0
