"""Device choice, seeding and thread count: the three things every notebook sets first.

Results must be identical between two executions of a notebook and between the machine that
generated its outputs and the one that validates them. Torch's reductions change in the last digits
with the number of intra-op threads, so the thread count is pinned (default 1, which also respects
Binder's CPU quota); ``MLCOURSE_THREADS`` raises it for speed when reproducibility of the last digit
does not matter.
"""

from __future__ import annotations

import os
import random
from typing import Any, Callable, Iterable, TypeVar

import numpy as np
import torch

DEVICE_ENV = "MLCOURSE_DEVICE"
THREADS_ENV = "MLCOURSE_THREADS"
DEVICE_ORDER = ("cuda", "mps", "cpu")
T = TypeVar("T")


def _available(name: str) -> bool:
    if name == "cuda":
        return torch.cuda.is_available()
    if name == "mps":
        return hasattr(torch.backends, "mps") and torch.backends.mps.is_available()
    return name == "cpu"


Device = str | torch.device | None
"""What every ``device=`` argument of the course takes: a name, a torch.device, or None (choose)."""


def get_device(prefer: Device = None) -> torch.device:
    """Pick the compute device: ``prefer`` (a name such as "cuda:1", or a torch.device), else
    ``$MLCOURSE_DEVICE``, else cuda → mps → cpu.

    Raises ValueError when the requested name is unknown or not available on this machine, listing
    the names that would work here.
    """
    name = str(prefer) if prefer is not None else os.environ.get(DEVICE_ENV) or None
    if name is None:
        return torch.device(next(d for d in DEVICE_ORDER if _available(d)))
    usable = [d for d in DEVICE_ORDER if _available(d)]
    base = name.split(":")[0].lower()
    if base not in DEVICE_ORDER:
        raise ValueError(f"unknown device {name!r}: valid names are {', '.join(DEVICE_ORDER)} "
                         f"(available here: {', '.join(usable)})")
    if not _available(base):
        raise ValueError(f"device {name!r} is not available on this machine: "
                         f"use one of {', '.join(usable)}")
    return torch.device(name.lower())


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def set_threads(n: int | None = None) -> int:
    """Pin torch's intra-op thread count: ``n``, else ``$MLCOURSE_THREADS``, else 1. Returns it."""
    n = n if n is not None else int(os.environ.get(THREADS_ENV, "1"))
    if n < 1:
        raise ValueError(f"thread count must be >= 1, got {n}")
    torch.set_num_threads(n)
    return n


def track(iterable: Iterable[T], progress: bool | Callable[..., Iterable[T]] = False,
          **kwargs: Any) -> Iterable[T]:
    """Wrap a long loop in a progress bar: ``progress`` True → ``tqdm.auto``, a callable (as
    ``widgets.live`` passes) → that bar, False → the plain iterable (what nbval and tests see)."""
    if progress is False:
        return iterable
    if progress is True:
        from tqdm.auto import tqdm

        return tqdm(iterable, **kwargs)
    return progress(iterable, **kwargs)
