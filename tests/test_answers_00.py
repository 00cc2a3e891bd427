"""Exercise 00's checks as a student meets them: a plausible wrong answer fails the visible check,
a correct answer written differently passes it, and the wrong multiple-choice letter is caught only
by the key (the self-check records it)."""

from __future__ import annotations

import pytest

from exercise_harness import FAIL, PASS, RECORDED, check_lines

NAME = "00_start_here"

WRONG = {  # each a mistake a student could plausibly make
    "Q1 largest stable learning rate": "h = 4.0\neta_max = 1.0 / h  # confuses the edge with the optimum",
    "Q2 steps to tolerance": (  # counts one step too many (w checked before the update)
        "def steps_to_tolerance(eta, h, w0=1.0, tol=1e-6):\n"
        "    steps, w = 0, w0\n"
        "    while True:\n"
        "        w, steps = (1.0 - eta * h) * w, steps + 1\n"
        "        if abs(w) < tol:\n"
        "            return steps + 1\n"),
    "Q3 the grading command": 'answer = "c"',
}
ALTERNATIVE = {  # correct, written differently from the solution
    "Q1 largest stable learning rate": "h = 4.0\neta_max = 0.5",
    "Q2 steps to tolerance": (
        "import math\n"
        "def steps_to_tolerance(eta, h, w0=1.0, tol=1e-6):\n"
        "    t = 0\n"
        "    while abs(w0 * (1 - eta * h) ** t) >= tol:\n"
        "        t += 1\n"
        "    return t\n"),
    "Q3 the grading command": 'answer = " B "',
}


@pytest.fixture(scope="module")
def wrong() -> dict[str, str]:
    return check_lines(NAME, WRONG)


def test_the_visible_checks_reject_plausible_wrong_answers(wrong: dict[str, str]) -> None:
    for q in ("Q1 largest stable learning rate", "Q2 steps to tolerance"):
        assert wrong[q].startswith(f"{FAIL} {q} — hint:"), wrong[q]


def test_a_wrong_letter_is_recorded_by_the_self_check_and_failed_by_the_key(wrong: dict[str, str]) -> None:
    q = "Q3 the grading command"
    assert wrong[q].startswith(f"{RECORDED} {q}")
    assert check_lines(NAME, {q: WRONG[q]}, key=True)[q].startswith(f"{FAIL} {q}")


def test_the_visible_checks_accept_correct_answers_written_differently() -> None:
    lines = check_lines(NAME, ALTERNATIVE)
    assert lines["Q1 largest stable learning rate"] == f"{PASS} Q1 largest stable learning rate"
    assert lines["Q2 steps to tolerance"] == f"{PASS} Q2 steps to tolerance"
    assert lines["Q3 the grading command"].startswith(f"{RECORDED} Q3")
    assert check_lines(NAME, {"Q3 the grading command": ALTERNATIVE["Q3 the grading command"]},
                       key=True)["Q3 the grading command"].startswith(f"{PASS} Q3")
