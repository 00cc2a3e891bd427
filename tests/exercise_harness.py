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
from typing import Any, Callable

import pytest

from mlcourse.course import notebooks as nbs
from mlcourse.grading import CHECK_MIMETYPE, FAIL, PASS, RECORDED

ROOT = nbs.repo_root(Path(__file__).parent)
__all__ = ["answer_tests", "check_lines", "PASS", "FAIL", "RECORDED"]


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


def answer_tests(name: str, wrong: dict[str, str], alternative: dict[str, str],
                 choices: tuple[str, ...] = ()) -> dict[str, Callable[..., Any]]:
    """The tests every topic's exercise gets, for its test module to take into its namespace
    (``globals().update(answer_tests(NAME, WRONG, ALTERNATIVE, CHOICES))``):

    - the visible check of every computed question in ``wrong`` rejects its plausible wrong answer
      (a failed check or an error it reports), with the hint;
    - a wrong letter for a multiple-choice question (``choices``) is recorded by the self-check and
      failed by the key;
    - every answer in ``alternative`` (correct, written differently) passes the visible check (a
      multiple-choice one is recorded) and passes the key.
    """
    computed = [q for q in wrong if q not in choices]
    tests: dict[str, Callable[..., Any]] = {}

    @pytest.fixture(scope="module")
    def wrong_lines() -> dict[str, str]:
        return check_lines(name, wrong)

    @pytest.mark.parametrize("question", computed)
    def test_the_visible_checks_reject_plausible_wrong_answers(wrong_lines: dict[str, str], question: str) -> None:
        line = wrong_lines[question]  # a failed check, or an error the check reports, with the hint
        assert line.startswith(f"{FAIL} {question} — ") and "hint" in line.lower(), line
        assert "not answered yet" not in line, line

    def test_the_visible_checks_accept_correct_answers_written_differently() -> None:
        lines = check_lines(name, alternative)
        for q in alternative:
            if q in choices:
                assert lines[q].startswith(f"{RECORDED} {q}"), lines[q]
            else:
                assert lines[q] == f"{PASS} {q}", lines[q]
        keyed = check_lines(name, alternative, key=True)
        assert all(keyed[q] == f"{PASS} {q}" for q in alternative), keyed

    tests.update(wrong_lines=wrong_lines,
                 test_the_visible_checks_reject_plausible_wrong_answers=test_the_visible_checks_reject_plausible_wrong_answers,
                 test_the_visible_checks_accept_correct_answers_written_differently=(
                     test_the_visible_checks_accept_correct_answers_written_differently))
    wrong_choices = [q for q in choices if q in wrong]
    if wrong_choices:
        @pytest.mark.parametrize("question", wrong_choices)
        def test_a_wrong_choice_is_recorded_by_the_self_check_and_failed_by_the_key(
                wrong_lines: dict[str, str], question: str) -> None:
            assert wrong_lines[question].startswith(f"{RECORDED} {question}"), wrong_lines[question]
            keyed = check_lines(name, {question: wrong[question]}, key=True)
            assert keyed[question] == f"{FAIL} {question}", keyed[question]

        tests[test_a_wrong_choice_is_recorded_by_the_self_check_and_failed_by_the_key.__name__] = (
            test_a_wrong_choice_is_recorded_by_the_self_check_and_failed_by_the_key)
    return tests
