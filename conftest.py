"""Session-wide test set-up: a deterministic environment for every kernel, and per-notebook budgets
measured in the nbval run itself — wall time (≤ 60 s on CI's 2 cores) and the kernel's peak memory
(≤ 1.5 GB, under mybinder's 2 GB limit)."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pytest
import torch

from mlcourse.course.notebooks import DETERMINISTIC_ENV

os.environ.update(DETERMINISTIC_ENV)  # inherited by every kernel nbval and the tests start

BUDGET_S = float(os.environ.get("MLCOURSE_NOTEBOOK_BUDGET", "60"))
BUDGET_MB = float(os.environ.get("MLCOURSE_NOTEBOOK_MEMORY_MB", "1536"))
_seconds: dict[str, float] = defaultdict(float)
_peak_mb: dict[str, float] = defaultdict(float)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Every test runs on one torch thread, as every notebook does (reproducible last digits);
    whatever a test sets is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _kernel_peak_mb(item: pytest.Item) -> float | None:
    """Peak resident memory of the nbval kernel running ``item``'s notebook (Linux /proc)."""
    kernel = getattr(item.parent, "kernel", None)
    try:
        pid = kernel.km.provisioner.pid
        status = Path(f"/proc/{pid}/status").read_text()
    except (AttributeError, OSError):
        return None
    line = next((l for l in status.splitlines() if l.startswith("VmHWM:")), None)
    return int(line.split()[1]) / 1024 if line else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    if call.when == "call" and str(item.fspath).endswith(".ipynb"):
        peak = _kernel_peak_mb(item)
        if peak is not None:
            outcome.get_result().user_properties.append(("kernel_peak_mb", peak))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration
        for key, value in report.user_properties:
            if key == "kernel_peak_mb":
                _peak_mb[path] = max(_peak_mb[path], value)


def _over_budget() -> list[str]:
    over = [f"{p} took {s:.1f} s > {BUDGET_S:.0f} s" for p, s in _seconds.items() if s > BUDGET_S]
    return over + [f"{p} peaked at {m:.0f} MB > {BUDGET_MB:.0f} MB" for p, m in _peak_mb.items() if m > BUDGET_MB]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _over_budget() and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not _seconds:
        return
    tr = terminalreporter
    tr.section(f"notebook budgets: ≤ {BUDGET_S:.0f} s and ≤ {BUDGET_MB:.0f} MB peak kernel memory each")
    for path in sorted(_seconds):
        mb = f"{_peak_mb[path]:6.0f} MB" if path in _peak_mb else "     ? MB"
        tr.write_line(f"{_seconds[path]:7.1f} s  {mb}  {path}")
    for problem in _over_budget():
        tr.write_line(f"FAILED budget: {problem}", red=True)
