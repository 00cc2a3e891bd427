"""``mlcourse grade``: run a copy of an exercise notebook and score its checks.

The student's file is only read. Its cells run, in memory, on a fresh kernel with a per-cell timeout;
errors do not stop the run (an unanswered question raises NotImplementedError, which its check turns
into a ✗). Every ``check("…")`` found in the notebook's cells is a question: one that emitted no
result (its cell timed out, the kernel died) scores 0 with the reason. With ``key=`` the check cells
are replaced by the solution's — hidden checks included — matched by question name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient.exceptions import DeadKernelError

from mlcourse.course.notebooks import execute, read
from mlcourse.grading import CHECK_MIMETYPE, FAIL, PASS, RECORDED

QUESTION_RE = re.compile(r"""\bcheck\(\s*(["'])(.+?)\1""")


@dataclass
class Result:
    question: str
    points: int
    passed: bool
    note: str
    recorded: bool = False  # a multiple-choice answer whose self-check only checks its form


def questions(nb: nbformat.NotebookNode) -> dict[str, int]:
    """Question name → index of the cell that checks it, in notebook order."""
    return {m[2]: i for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for m in QUESTION_RE.finditer(c.source)}


def _swap_in_key(nb: nbformat.NotebookNode, key: nbformat.NotebookNode) -> None:
    key_cells = {q: key.cells[i].source for q, i in questions(key).items()}
    for q, i in questions(nb).items():
        if q in key_cells:
            nb.cells[i].source = key_cells[q]


def grade(path: Path, *, timeout: int = 120, key: Path | None = None) -> list[Result]:
    """Execute a copy of the notebook at ``path`` and return one Result per question."""
    nb = read(path)  # an unreadable file raises here, before anything runs
    if key is not None:
        _swap_in_key(nb, read(key))
    asked = questions(nb)
    try:
        ran = execute(nb, path.resolve().parent, timeout=timeout, allow_errors=True)
        crashed = ""
    except DeadKernelError:
        ran, crashed = nb, "the kernel died before this check ran"
    records: dict[str, tuple[dict, str]] = {}
    for cell in ran.cells:
        for out in cell.get("outputs", []):
            rec = out.get("data", {}).get(CHECK_MIMETYPE)
            if rec:
                records[rec["question"]] = (rec, out["data"].get("text/plain", ""))
    results = []
    for q, i in asked.items():
        if q in records:
            rec, line = records[q]
            note = line.split("—", 1)[1].strip() if "—" in line else ""
            results.append(Result(q, rec["points"], rec["passed"], note,
                                  recorded=rec.get("recorded", False) and key is None))
        else:
            errors = [o for o in ran.cells[i].get("outputs", []) if o.get("output_type") == "error"]
            why = crashed or (f"the check cell raised {errors[0]['ename']}" if errors
                              else "the check did not run (timeout or earlier failure)")
            results.append(Result(q, 1, False, why))
    return results


def report(results: list[Result]) -> str:
    """The per-question table and the score, as printed by ``mlcourse grade``.

    Without the key, a multiple-choice answer of the right form is "recorded": it is not scored,
    since its self-check cannot tell right from wrong without giving the answer away."""
    width = max([len(r.question) for r in results] + [8])
    lines = [f"{'question':<{width}}  result  points  note", "-" * (width + 30)]
    for r in results:
        if r.recorded and r.passed:
            lines.append(f"{r.question:<{width}}  {RECORDED:^6}  {'–':<6}  recorded; marked only with the key")
            continue
        got = r.points if r.passed else 0
        lines.append(f"{r.question:<{width}}  {PASS if r.passed else FAIL:^6}  {got}/{r.points:<4}  {r.note}")
    scored = [r for r in results if not (r.recorded and r.passed)]
    score = sum(r.points for r in scored if r.passed)
    line = f"score: {score}/{sum(r.points for r in scored)}"
    held = len(results) - len(scored)
    if held:
        line += f" ({held} multiple-choice answer{'s' * (held > 1)} recorded, marked only with the key)"
    lines.append(line)
    return "\n".join(lines)
