"""Checks for graded exercises: one line per question, ✓ or ✗ with a hint, never the answer.

A check cell in a solution notebook reads::

    with check("Q1 log evidence", hint="Use PRML eq. 3.86; mind the N/2 ln 2π term."):
        assert abs(log_evidence(Phi, t, 5e-3, 11.1) - reference) < 1e-8

The block's assertions are plain Python. Whatever happens inside — a failed assertion, the
``NotImplementedError`` of an unanswered stub, a ``NameError`` because the answer cell never ran — the
block prints one line and the notebook carries on; the exception is swallowed. Answers to multiple
choice questions are compared through :func:`digest`, so the check cell a student sees does not
contain the answer.

Besides the line, each check emits a small JSON record (``CHECK_MIMETYPE``) that ``mlcourse grade``
reads to build its table.
"""

from __future__ import annotations

import hashlib
from types import TracebackType

CHECK_MIMETYPE = "application/vnd.mlcourse.check+json"
PASS, FAIL = "✓", "✗"


def digest(answer: object) -> str:
    """A short fingerprint of an answer, to compare without revealing it (case and outer spaces
    of strings are ignored)."""
    text = answer.strip().lower() if isinstance(answer, str) else repr(answer)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _why(exc: BaseException) -> str:
    """One line on what went wrong, naming the exception type but no expected value."""
    if isinstance(exc, NotImplementedError):
        return "not answered yet (the answer still raises NotImplementedError)"
    if isinstance(exc, NameError):
        return f"not answered yet ({exc}; run the answer cell first)"
    first = (str(exc).splitlines() or [""])[0][:120]
    return f"your code raised {type(exc).__name__}: {first}"


def _emit(line: str, record: dict) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: the line is all there is
        print(line)
        return
    if get_ipython() is None:
        print(line)
    else:
        display({"text/plain": line, CHECK_MIMETYPE: record}, raw=True)


class check:
    """Context manager that grades one question: ✓ if its block runs without an exception."""

    def __init__(self, question: str, *, hint: str, points: int = 1) -> None:
        if not question or not hint:
            raise ValueError("a check needs a question name and a hint")
        self.question, self.hint, self.points = question, hint, points
        self.passed: bool | None = None

    def __enter__(self) -> "check":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if exc is not None and not isinstance(exc, Exception):
            return False  # KeyboardInterrupt, SystemExit: let them through
        self.passed = exc is None
        if self.passed:
            line = f"{PASS} {self.question}"
        elif isinstance(exc, AssertionError):
            line = f"{FAIL} {self.question} — hint: {self.hint}"
        else:
            line = f"{FAIL} {self.question} — {_why(exc)}. Hint: {self.hint}"
        _emit(line, {"question": self.question, "passed": self.passed, "points": self.points})
        return True
