"""mlcourse.grading: one line per check, no exception escapes, answers never printed."""

from __future__ import annotations

import pytest

from mlcourse.grading import FAIL, PASS, RECORDED, check, one_of


def test_passing_check_prints_a_tick(capsys: pytest.CaptureFixture) -> None:
    with check("Q1 demo", hint="think") as c:
        assert 1 + 1 == 2
    assert c.passed is True
    assert capsys.readouterr().out == f"{PASS} Q1 demo\n"


def test_failed_assertion_prints_the_hint_not_the_message(capsys: pytest.CaptureFixture) -> None:
    with check("Q2", hint="look at the sign") as c:
        assert 41 == 42, "expected 42"
    out = capsys.readouterr().out
    assert c.passed is False
    assert out == f"{FAIL} Q2 — hint: look at the sign\n" and "42" not in out


@pytest.mark.parametrize("exc, words", [
    (NotImplementedError(), "not answered yet"),
    (NameError("name 'answer' is not defined"), "run the answer cell first"),
    (TypeError("unsupported operand\nsecond line"), "raised TypeError: unsupported operand."),
])
def test_exceptions_become_one_line(capsys: pytest.CaptureFixture, exc: Exception, words: str) -> None:
    with check("Q3", hint="h"):
        raise exc
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith(f"{FAIL} Q3 — ") and words in out


def test_interrupts_are_not_swallowed() -> None:
    with pytest.raises(KeyboardInterrupt):
        with check("Q4", hint="h"):
            raise KeyboardInterrupt


def test_check_needs_a_hint() -> None:
    with pytest.raises(ValueError):
        check("Q5", hint="")


def test_a_placeholder_answer_reads_as_not_answered(capsys: pytest.CaptureFixture) -> None:
    answer = ...  # what a generated exercise starts with
    with check("Q6", hint="h") as c:
        assert answer + 1 == 3
    out = capsys.readouterr().out
    assert c.passed is False and out == f"{FAIL} Q6 — not answered yet (replace the ... of answer)\n"


def test_a_multiple_choice_self_check_records_but_never_judges(capsys: pytest.CaptureFixture) -> None:
    for letter in "abc":  # every valid letter gets the same line: trying them all reveals nothing
        with check("Q7", hint="h", recorded=True):
            one_of(f" {letter.upper()} ", "abc")
    lines = capsys.readouterr().out.splitlines()
    assert len(set(lines)) == 1 and lines[0].startswith(f"{RECORDED} Q7 — answer recorded")


@pytest.mark.parametrize("answer", ["d", "ab", 3, None])
def test_a_multiple_choice_answer_of_the_wrong_form_says_which_form(capsys: pytest.CaptureFixture, answer) -> None:
    with check("Q8", hint="h", recorded=True) as c:
        one_of(answer, "abc")
    assert c.passed is False
    assert capsys.readouterr().out.startswith(f"{FAIL} Q8 — the answer is one letter, one of a, b, c")
