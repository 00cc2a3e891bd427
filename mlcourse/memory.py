"""Memory of one call, on any device: how the course measures "memory grows with T".

Two measurements, because they answer different questions. :func:`peak_memory` counts the *tensor
storage* PyTorch allocates (what a GPU's memory must hold). :func:`heap_growth` counts what the
whole process grows by while a result is alive: on a small problem an autograd graph costs far more
in bookkeeping (one C++ node per operation, its saved shapes and references) than in tensors.
Used by the MAML and long-horizon HPO lectures (reverse-mode differentiation through an inner loop
keeps every step alive; forward mode and first-order methods do not).
"""

from __future__ import annotations

import contextlib
import gc
import os
from typing import Callable, Iterator

import numpy as np
import torch

from mlcourse.inputs import checked


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


@checked
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


def heap_bytes() -> tuple[int, str]:
    """Bytes of memory the process has allocated and not freed, and how that was read.

    With glibc (Linux): ``mallinfo2()``, the allocator's own count of bytes in use (small blocks and
    mmapped ones), exact and unaffected by memory the allocator keeps cached. Elsewhere: the resident
    set size (psutil), which moves in pages and can hide growth behind reused memory.
    """
    try:
        import ctypes

        class _Mallinfo2(ctypes.Structure):
            _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                             "usmblks", "fsmblks", "uordblks", "fordblks",
                                                             "keepcost")]

        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _Mallinfo2
        info = libc.mallinfo2()
        return int(info.uordblks + info.hblkhd), "malloc"
    except (OSError, AttributeError):
        import psutil

        return int(psutil.Process().memory_info().rss), "rss"


def heap_growth(fn: Callable[[], object]) -> int:
    """Bytes the process allocates for the result of ``fn()`` and keeps while it is alive (CPU).

    The result (e.g. a loss that still holds its autograd graph: one C++ node per operation, the
    tensors it saved, their metadata) is kept until the second reading, then freed. This is what a
    student's machine pays, bookkeeping included, not only tensor storage (:func:`peak_memory`).
    """
    gc.collect()
    before, _ = heap_bytes()
    result = fn()
    after, _ = heap_bytes()
    del result
    gc.collect()
    return after - before
