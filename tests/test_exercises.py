"""Every graded check fails on the generated stubs and passes on the solution; `mlcourse grade` as
a student meets it (0/N, N/N, file untouched, no traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlcourse.course import notebooks as nbs
from mlcourse.course.grade import grade, questions
from mlcourse.grading import CHECK_MIMETYPE

ROOT = nbs.repo_root(Path(__file__).parent)
SOLVED = [n for n in nbs.topics(ROOT) if (ROOT / "solutions" / f"{n}.py").exists()]


@pytest.mark.parametrize("name", SOLVED)
def test_run_all_on_a_fresh_exercise_reaches_every_check_and_none_passes(name: str) -> None:
    """What a student meets on "Run All": no cell raises (JupyterLab would stop there), and every
    check prints ✗ "not answered yet"."""
    ran = nbs.execute(nbs.read(ROOT / "exercises" / f"{name}.ipynb"), ROOT / "exercises", allow_errors=True)
    errors = [f"cell {i}: {o['ename']}: {o['evalue']}" for i, c in enumerate(ran.cells)
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"exercises/{name}: Run All would stop at {errors[0]}"
    lines = {o["data"][CHECK_MIMETYPE]["question"]: o["data"]["text/plain"] for c in ran.cells
             for o in c.get("outputs", []) if CHECK_MIMETYPE in o.get("data", {})}
    assert set(lines) == set(questions(nbs.read(ROOT / "solutions" / f"{name}.py")))
    answered = {q: line for q, line in lines.items() if "not answered yet" not in line}
    assert not answered, f"exercises/{name}: on the stub these checks do not say 'not answered yet': {answered}"


@pytest.mark.parametrize("name", SOLVED)
def test_every_check_passes_in_the_executed_solution(name: str) -> None:
    # nbval re-executes this notebook and compares these outputs, so they are the live result.
    nb = nbs.read(ROOT / "solutions" / f"{name}.ipynb")
    records = {o["data"][CHECK_MIMETYPE]["question"]: o["data"][CHECK_MIMETYPE]["passed"]
               for c in nb.cells for o in c.get("outputs", []) if CHECK_MIMETYPE in o.get("data", {})}
    assert records.keys() == questions(nb).keys()
    assert len(records) >= (2 if name.startswith("00") else 4), "too few graded questions"
    assert all(records.values()), f"failing in solutions/{name}: {[q for q, ok in records.items() if not ok]}"


def _grade_cli(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlcourse.course.cli", "grade", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.parametrize("kind, score", [("exercises", "score: 0/3"),
                                         ("solutions", "score: 2/2 (1 multiple-choice answer recorded")])
def test_grade_cli_scores_without_touching_the_file(kind: str, score: str) -> None:
    path = ROOT / kind / "00_start_here.ipynb"
    before = path.read_bytes()
    done = _grade_cli(path)
    print(done.stdout)
    assert done.returncode == 0, done.stderr
    assert score in done.stdout and "Traceback" not in done.stdout + done.stderr
    assert path.read_bytes() == before


def test_grade_cli_unreadable_notebook_exits_nonzero(tmp_path: Path) -> None:
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{ not json")
    done = _grade_cli(bad)
    assert done.returncode == 2 and "cannot read" in done.stderr


def test_grade_with_key_runs_the_hidden_checks(tmp_path: Path) -> None:
    # A student answer that passes the visible Q1 check but fails the hidden one (eta_max must be a float).
    ex = nbs.read(ROOT / "exercises" / "00_start_here.ipynb")
    i = next(i for i, c in enumerate(ex.cells) if "eta_max = ..." in c.source and "h = 4.0" in c.source)
    ex.cells[i].source = "h = 4.0\nfrom fractions import Fraction\neta_max = Fraction(1, 2)"
    student = tmp_path / "student.ipynb"
    nbs._write_ipynb(ex, student)
    visible = {r.question: r.passed for r in grade(student)}
    keyed = {r.question: r.passed for r in grade(student, key=ROOT / "solutions" / "00_start_here.py")}
    assert visible["Q1 largest stable learning rate"] and not keyed["Q1 largest stable learning rate"]
