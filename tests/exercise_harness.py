"""Try answers on an exercise the way a student would, for the tests of each topic's checks.

``check_lines(name, answers)`` takes the generated exercise ``exercises/<name>.ipynb``, replaces the
answer cell of each question named in ``answers`` by the given source, runs the notebook once on a
fresh kernel and returns ``{question: the line its check printed}``. With ``key=True`` it does the
same on the solution, whose check cells include the hidden checks (what ``mlcourse grade --key``
runs), and returns each verdict as "✓ question" or "✗ question", so a test can show that a wrong
multiple-choice letter is only caught by the key.

The answer cell of a question is the last code cell before its check cell that holds a stub
(``# YOUR CODE HERE``) in the exercise, or a ``### BEGIN SOLUTION`` block in the solution.
"""

from __future__ import annotations

from pathlib import Path

from mlcourse.course import notebooks as nbs
from mlcourse.grading import CHECK_MIMETYPE, FAIL, PASS, RECORDED

ROOT = nbs.repo_root(Path(__file__).parent)
__all__ = ["check_lines", "PASS", "FAIL", "RECORDED"]


def _answer_cells(nb, marker: str) -> dict[str, int]:
    """Question → index of its answer cell (the last cell holding ``marker`` before the check)."""
    found, last = {}, None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if marker in cell.source:
            last = i
        for q in nbs_questions(cell.source):
            if last is None:
                raise ValueError(f"question {q!r} has no answer cell before its check")
            found[q] = last
    return found


def nbs_questions(source: str) -> list[str]:
    from mlcourse.course.grade import QUESTION_RE

    return [m[2] for m in QUESTION_RE.finditer(source)]


def check_lines(name: str, answers: dict[str, str], *, key: bool = False) -> dict[str, str]:
    """Run ``name``'s exercise (or, with ``key``, its solution) with ``answers`` in place of the
    answer cells; return every check's printed line by question."""
    if key:
        nb, marker = nbs.read(ROOT / "solutions" / f"{name}.py"), "### BEGIN SOLUTION"
    else:
        nb, marker = nbs.read(ROOT / "exercises" / f"{name}.ipynb"), "# YOUR CODE HERE"
    cells = _answer_cells(nb, marker)
    unknown = sorted(set(answers) - set(cells))
    if unknown:
        raise ValueError(f"{name}: no such question {unknown}; questions are {sorted(cells)}")
    for question, source in answers.items():
        nb.cells[cells[question]].source = source
    ran = nbs.execute(nb, ROOT / ("solutions" if key else "exercises"), allow_errors=True)
    records = [o["data"] for c in ran.cells for o in c.get("outputs", []) if CHECK_MIMETYPE in o.get("data", {})]
    if key:  # the key marks every question, multiple choice included: report its verdict
        return {d[CHECK_MIMETYPE]["question"]: f"{PASS if d[CHECK_MIMETYPE]['passed'] else FAIL} "
                f"{d[CHECK_MIMETYPE]['question']}" for d in records}
    return {d[CHECK_MIMETYPE]["question"]: d["text/plain"] for d in records}
