"""mlcourse: metaparameters and meta-optimization, one small module per lecture.

Every notebook starts with ``device = mlcourse.setup()``: threads pinned, everything seeded, house
plot style on, and the compute device chosen (see :mod:`mlcourse.runtime`).
"""

from __future__ import annotations

__version__ = "0.1.0"


def setup(seed: int = 0, device: str | None = None):
    """Pin threads, seed every generator, apply the plot style; return the device to compute on."""
    from mlcourse import plots, runtime

    runtime.set_threads()
    runtime.seed_everything(seed)
    plots.use_style()
    return runtime.get_device(device)
