"""Session-wide test set-up: a deterministic environment for every kernel, and the per-notebook
CPU budget (nbval executes lectures/ and solutions/; each notebook's cells must add up to ≤ 60 s)."""

from __future__ import annotations

import os
from collections import defaultdict

import pytest

from mlcourse.course.notebooks import DETERMINISTIC_ENV

os.environ.update(DETERMINISTIC_ENV)  # inherited by every kernel nbval and the tests start

BUDGET_S = float(os.environ.get("MLCOURSE_NOTEBOOK_BUDGET", "60"))
_notebook_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def _over_budget() -> dict[str, float]:
    return {p: s for p, s in _notebook_seconds.items() if s > BUDGET_S}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _over_budget() and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not _notebook_seconds:
        return
    tr = terminalreporter
    tr.section(f"notebook execution times (budget {BUDGET_S:.0f} s each)")
    for path, seconds in sorted(_notebook_seconds.items()):
        flag = "OVER BUDGET" if seconds > BUDGET_S else "ok"
        tr.write_line(f"{seconds:7.1f} s  {flag:11s}  {path}")
    for path, seconds in _over_budget().items():
        tr.write_line(f"FAILED budget: {path} took {seconds:.1f} s > {BUDGET_S:.0f} s", red=True)
