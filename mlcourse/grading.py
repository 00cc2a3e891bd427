"""Checks for graded exercises: one line per question, ✓ or ✗ with a hint, never the answer.

A check cell in a solution notebook reads::

    with check("Q1 log evidence", hint="Use PRML eq. 3.86; mind the N/2 ln 2π term."):
        assert abs(log_evidence(Phi, t, 5e-3, 11.1) - reference) < 1e-8

The block's assertions are plain Python. Whatever happens inside — a failed assertion, the
``NotImplementedError`` of an unanswered stub, a ``NameError`` because the answer cell never ran — the
block prints one line and the notebook carries on; the exception is swallowed. An answer still set to
``...`` (what a generated exercise starts with) counts as "not answered yet".

**Multiple choice.** A self-check that says ✓ or ✗ for one of four letters tells the answer to anyone
who tries the four letters, however the expected letter is hidden. So a multiple-choice check is
declared with ``recorded=True``: its visible part only checks the form (:func:`one_of`), the line
says "recorded", and the correct letter lives in the solution's hidden checks, which only
``mlcourse grade --key`` runs::

    with check("Q4 temperature", hint="…", recorded=True):
        one_of(answer, "abcd")
        ### BEGIN HIDDEN CHECKS
        assert answer == "c"
        ### END HIDDEN CHECKS

Besides the line, each check emits a small JSON record (``CHECK_MIMETYPE``) that ``mlcourse grade``
reads to build its table.
"""

from __future__ import annotations

import ast
import linecache
import sys
from types import FrameType, TracebackType

CHECK_MIMETYPE = "application/vnd.mlcourse.check+json"
PASS, FAIL, RECORDED = "✓", "✗", "○"


class FormError(AssertionError):
    """An answer of the wrong form (not one of the letters offered): its message is shown, since it
    names only the allowed form, never the expected answer."""


def one_of(answer: object, options: str) -> str:
    """The visible check of a multiple-choice answer: one letter of ``options`` (case and spaces
    ignored). Returns the normalised letter; raises FormError on anything else."""
    if answer is Ellipsis:
        raise NotImplementedError("not answered yet")
    letter = answer.strip().lower() if isinstance(answer, str) else None
    if letter is None or len(letter) != 1 or letter not in options:
        raise FormError(f"the answer is one letter, one of {', '.join(options)} (as a string), got {answer!r}")
    return letter


def _why(exc: BaseException) -> str:
    """One line on what went wrong, naming the exception type but no expected value."""
    if isinstance(exc, NotImplementedError):
        return "not answered yet (the answer still raises NotImplementedError)"
    if isinstance(exc, NameError):
        return f"not answered yet ({exc}; run the answer cell first)"
    first = (str(exc).splitlines() or [""])[0][:120]
    return f"your code raised {type(exc).__name__}: {first}"


def _names_read(frame: FrameType, start_line: int) -> set[str]:
    """Names read by the ``with check(...)`` block that starts at ``start_line`` of ``frame``'s code
    (a notebook cell: IPython keeps its source in linecache). Empty when the source is unknown."""
    source = "".join(linecache.getlines(frame.f_code.co_filename))
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and node.lineno == start_line:
            return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return set()


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
    """Context manager that grades one question: ✓ if its block runs without an exception.

    ``recorded=True`` marks a question whose self-check only checks the form of the answer
    (multiple choice): a pass prints "○ … recorded", and only the instructor's key marks it."""

    def __init__(self, question: str, *, hint: str, points: int = 1, recorded: bool = False) -> None:
        if not question or not hint:
            raise ValueError("a check needs a question name and a hint")
        self.question, self.hint, self.points, self.recorded = question, hint, points, recorded
        self.passed: bool | None = None
        self._frame: FrameType | None = None
        self._line = 0

    def __enter__(self) -> "check":
        caller = sys._getframe(1)
        self._frame, self._line = caller, caller.f_lineno
        return self

    def _unanswered(self) -> list[str]:
        """Names the block reads that still hold the exercise's placeholder ``...``."""
        if self._frame is None:
            return []
        scope = {**self._frame.f_globals, **self._frame.f_locals}
        return sorted(n for n in _names_read(self._frame, self._line) if scope.get(n, None) is Ellipsis)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if exc is not None and not isinstance(exc, Exception):
            return False  # KeyboardInterrupt, SystemExit: let them through
        self.passed = exc is None
        blank = self._unanswered() if exc is not None else []
        self._frame = None  # no reference cycle through the notebook's frame
        if self.passed:
            line = (f"{RECORDED} {self.question} — answer recorded; multiple-choice answers are marked "
                    f"only when your instructor grades with the key" if self.recorded
                    else f"{PASS} {self.question}")
        elif blank:
            line = f"{FAIL} {self.question} — not answered yet (replace the ... of {', '.join(blank)})"
        elif isinstance(exc, FormError):
            line = f"{FAIL} {self.question} — {exc}"
        elif isinstance(exc, AssertionError):
            line = f"{FAIL} {self.question} — hint: {self.hint}"
        else:
            line = f"{FAIL} {self.question} — {_why(exc)}. Hint: {self.hint}"
        _emit(line, {"question": self.question, "passed": self.passed, "points": self.points,
                     "recorded": self.recorded})
        return True
