"""mlcourse.grading: one line per check, no exception escapes, answers never printed."""

from __future__ import annotations

import pytest

from mlcourse.grading import FAIL, PASS, check, digest


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


def test_digest_ignores_case_and_spaces_but_not_content() -> None:
    assert digest(" B ") == digest("b") != digest("c")
    assert digest(3) == digest(3) != digest(3.0)
    assert len(digest("b")) == 16
