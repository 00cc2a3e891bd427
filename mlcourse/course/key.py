"""A grading key (a solution notebook) read as a plan, and a submission's cells matched to it.

Every code cell of a key is one of:

* an **answer** cell — it holds a ``### BEGIN SOLUTION`` block. The student's version of it is what
  gets graded; the grader itself only ever runs its *stub* (the generated exercise's version);
* a **check** cell — it holds ``with check("…")`` blocks (visible and hidden checks). Only the
  grader runs it;
* a **set-up** cell — anything else (imports, data, helpers). Both sides run it, from the key;
* a ``solution-only`` cell — skipped by both sides.

The questions, their points and their checks come from the key alone. A submission contributes only
its answer cells, found by the id that :func:`mlcourse.course.notebooks.make_exercise` writes into
each generated answer cell's metadata (JupyterLab keeps cell metadata when it saves), or, for a
notebook without those ids, by aligning its code cells with the exercise generated from the key.
Its check cells, outputs, added cells and metadata otherwise are ignored.
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nbformat


def _nbs():
    from mlcourse.course import notebooks  # jupytext and nbformat: not needed by the grader's process

    return notebooks

ANSWER_META = "mlcourse"
_QUESTION_RE = re.compile(r"""\bcheck\(\s*(["'])(.+?)\1""")  # cell metadata: {"mlcourse": {"answer": "<answer id>"}}


class KeyProblem(ValueError):
    """A key that cannot be graded from (names the cell and the rule it breaks)."""


@dataclass
class Question:
    name: str
    points: int
    recorded: bool
    cell: int  # index into Key.cells
    reads: frozenset[str] = frozenset()  # names the check cell reads


@dataclass
class Cell:
    index: int  # position among the key's cells
    kind: str  # "setup" | "answer" | "check" | "skip"
    source: str
    stub: str = ""  # answer cells: the exercise's version (what the grader runs)
    answer_id: str = ""
    answer_names: tuple[str, ...] = ()  # names the solution blocks bind
    loads: frozenset[str] = frozenset()
    binds: frozenset[str] = frozenset()
    plain: list[tuple[str, frozenset[str], frozenset[str]]] = field(default_factory=list)
    """check cells: the top-level statements outside ``with check`` that read no answer —
    (source, names bound, names read) — which the student's side runs too when a later cell needs them."""


def _code(source: str) -> str:
    """Source without IPython's line magics and shell escapes (so that ``ast`` can read it)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(_code(source))
    except SyntaxError:
        return None


def loaded_names(source: str) -> frozenset[str]:
    tree = _parse(source)
    if tree is None:
        return frozenset()
    return frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))


def _bound(stmt: ast.stmt) -> list[str]:
    return _nbs()._stores(stmt)


def _check_call(node: ast.AST) -> ast.Call | None:
    if isinstance(node, ast.Call):
        f = node.func
        if (isinstance(f, ast.Name) and f.id == "check") or (isinstance(f, ast.Attribute) and f.attr == "check"):
            return node
    return None


def _literal(node: ast.AST | None, default):
    if node is None:
        return default
    try:
        return ast.literal_eval(node)
    except ValueError:
        return default


def _questions_in(stmt: ast.stmt) -> list[tuple[str, int, bool]]:
    """(name, points, recorded) of each ``with check("…")`` in a statement, in order."""
    found = []
    for node in ast.walk(stmt):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                call = _check_call(item.context_expr)
                if call is None or not call.args or not isinstance(call.args[0], ast.Constant) \
                        or not isinstance(call.args[0].value, str):
                    continue
                kw = {k.arg: k.value for k in call.keywords}
                points = _literal(kw.get("points"), 1)
                found.append((call.args[0].value, points if isinstance(points, int) else 1,
                              bool(_literal(kw.get("recorded"), False))))
    return found


def _solution_spans(source: str) -> list[tuple[int, int]]:
    """1-based line ranges of each ``### BEGIN SOLUTION`` … ``### END SOLUTION`` block."""
    spans = []
    for m in _nbs().SOLUTION_RE.finditer(source):
        first = source.count("\n", 0, m.start()) + 1
        last = source.count("\n", 0, m.end() - 1) + 1
        spans.append((first, last))
    return spans


def answer_names(source: str) -> tuple[str, ...]:
    """Names bound by the top-level statements that hold (or lie inside) a solution block: the
    function whose body is the answer, or the variables a top-level answer assigns."""
    tree = _parse(source)
    spans = _solution_spans(source)
    if tree is None or not spans:
        return ()
    names: list[str] = []
    for stmt in tree.body:
        end = getattr(stmt, "end_lineno", stmt.lineno)
        if any(stmt.lineno <= b and end >= a for a, b in spans):
            names += [n for n in _bound(stmt) if n not in names]
    return tuple(names)


def answer_ids(nb: nbformat.NotebookNode) -> dict[int, str]:
    """Cell index → a stable id for every answer cell of a solution notebook: the names it answers
    (``"inner_step"``, ``"exact,relative_error"``), made unique by a ``#2`` suffix if repeated."""
    ids: dict[int, str] = {}
    seen: dict[str, int] = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not _nbs().SOLUTION_RE.search(cell.source):
            continue
        base = ",".join(answer_names(cell.source)) or f"answer{len(ids) + 1}"
        seen[base] = seen.get(base, 0) + 1
        ids[i] = base if seen[base] == 1 else f"{base}#{seen[base]}"
    return ids


def _segment(source: str, stmt: ast.stmt) -> str:
    """The full lines of a top-level statement, decorators included."""
    first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
    return "\n".join(_code(source).splitlines()[first - 1:stmt.end_lineno])


def _is_check_with(stmt: ast.stmt) -> bool:
    return isinstance(stmt, (ast.With, ast.AsyncWith)) and any(_check_call(i.context_expr) for i in stmt.items)


@dataclass
class Key:
    path: Path
    name: str
    cells: list[Cell]
    questions: list[Question]

    @property
    def answers(self) -> list[Cell]:
        return [c for c in self.cells if c.kind == "answer"]

    @property
    def all_answer_names(self) -> frozenset[str]:
        return frozenset(n for c in self.answers for n in c.answer_names)

    @classmethod
    def load(cls, path: Path) -> "Key":
        path = Path(path)
        nbs = _nbs()
        nb = nbs.read(path)
        name = path.stem
        ids = answer_ids(nb)
        cells: list[Cell] = []
        questions: list[Question] = []
        names_so_far: set[str] = set()
        code = [c.source if c.cell_type == "code" else "" for c in nb.cells]
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            src = cell.source
            where = f"{path.name} cell {i}"
            tags = cell.get("metadata", {}).get("tags", ())
            tree = _parse(src)
            if "solution-only" in tags:
                cells.append(Cell(i, "skip", src))
                continue
            loads = loaded_names(src)
            binds = frozenset(n for s in (tree.body if tree else []) for n in _bound(s))
            has_solution = bool(nbs.SOLUTION_RE.search(src))
            asked = [q for s in (tree.body if tree else []) for q in _questions_in(s)]
            if has_solution and asked:
                raise KeyProblem(f"{where}: a cell holds both an answer and a check; split it in two")
            if has_solution:
                read_later = set().union(*(loaded_names(c) for c in code[i + 1:]))
                stub = nbs._strip_solutions(src, where, read_later)
                names = answer_names(src)
                names_so_far |= set(names)
                cells.append(Cell(i, "answer", src, stub=stub, answer_id=ids[i], answer_names=names,
                                  loads=loads, binds=binds))
            elif asked:
                plain = []
                for stmt in tree.body:
                    if _is_check_with(stmt):
                        continue
                    seg = _segment(src, stmt)
                    s_loads = loaded_names(seg)
                    if s_loads & names_so_far:
                        continue  # it uses an answer: it belongs to the grader alone
                    plain.append((seg, frozenset(_bound(stmt)), s_loads))
                cells.append(Cell(i, "check", src, loads=loads, binds=binds, plain=plain))
                for qname, points, recorded in asked:
                    if any(q.name == qname for q in questions):
                        raise KeyProblem(f"{where}: question {qname!r} is checked twice")
                    questions.append(Question(qname, points, recorded, len(cells) - 1, loads))
            else:
                cells.append(Cell(i, "setup", src, loads=loads, binds=binds))
        if not questions:
            raise KeyProblem(f"{path}: no `with check(\"…\")` cell, so nothing to grade")
        return cls(path, name, cells, questions)

    # ------------------------------------------------------------------------------- the plan
    def script(self, found: dict[str, list[str]]) -> list[dict]:
        """What the grader's process does, cell by cell (plain JSON, so that it needs neither
        jupytext nor nbformat): ``grader`` — the source it runs itself (a set-up cell, an answer's
        stub, a check cell); ``student`` — the sources the student's process runs (set-up cells,
        the submission's answer cells or the stub where one is missing, and the statements of check
        cells outside the checks that a later cell of the student's side reads); ``fetch`` — the
        answer names a later cell of the grader's reads, asked for after an answer cell."""
        needed: set[str] = set()
        later: set[str] = set()
        steps: list[dict] = []
        for c in reversed(self.cells):
            if c.kind == "skip":
                continue
            if c.kind == "setup":
                student = [c.source]
            elif c.kind == "answer":
                student = found.get(c.answer_id) or [c.stub]
            else:
                student = [seg for seg, binds, _ in c.plain if binds & needed]
            for src in student:
                needed |= loaded_names(src)
            step = {"index": c.index, "kind": c.kind, "grader": c.stub if c.kind == "answer" else c.source,
                    "student": student, "answer_names": list(c.answer_names),
                    "fetch": [n for n in c.answer_names if n in later],
                    "questions": [{"name": q.name, "points": q.points, "recorded": q.recorded,
                                   "reads": sorted(q.reads)} for q in self.questions if self.cells[q.cell] is c]}
            later |= loaded_names(c.stub) if c.kind == "answer" else c.loads
            steps.append(step)
        return steps[::-1]

    # ------------------------------------------------------------------------ matching a submission

    def exercise_code(self) -> list[tuple[str, str]]:
        """(kind or answer id, source) of each code cell the generated exercise has, in order."""
        out = []
        for c in self.cells:
            if c.kind == "skip":
                continue
            out.append((c.answer_id if c.kind == "answer" else c.kind,
                        c.stub if c.kind == "answer" else _nbs().HIDDEN_RE.sub("", c.source)))
        return out

    def match(self, submission: nbformat.NotebookNode) -> tuple[dict[str, list[str]], dict[str, str]]:
        """The submission's source(s) for each answer id, and how each was found ("id", "position"
        or "missing"). Several cells carrying one id (a copied cell) all run, in their order."""
        student = [c for c in submission.cells if c.get("cell_type") == "code"]
        found: dict[str, list[str]] = {}
        how: dict[str, str] = {}
        wanted = {c.answer_id for c in self.answers}
        used: set[int] = set()
        for j, cell in enumerate(student):
            meta = cell.get("metadata", {}).get(ANSWER_META)
            aid = meta.get("answer") if isinstance(meta, dict) else None
            if isinstance(aid, str) and aid in wanted:
                found.setdefault(aid, []).append(str(cell.get("source", "")))
                how[aid] = "id"
                used.add(j)
        if wanted - set(found):
            for aid, j in self._align(student).items():
                if aid not in found and j not in used:
                    found[aid] = [str(student[j].get("source", ""))]
                    how[aid] = "position"
                    used.add(j)
        for a in wanted:
            how.setdefault(a, "missing")
        return found, how

    def _align(self, student: list) -> dict[str, int]:
        """Positional fallback for cells without ids: the order-preserving matching of the exercise's
        code cells to the submission's that maximises their similarity (same source; an answer cell
        binding the answer's names; a check cell checking the same questions)."""
        ex = [(c, c.stub if c.kind == "answer" else _nbs().HIDDEN_RE.sub("", c.source))
              for c in self.cells if c.kind != "skip"]
        theirs = []
        for cell in student:
            src = str(cell.get("source", ""))
            tree = _parse(src)
            binds = {n for st in (tree.body if tree else []) for n in _bound(st)}
            theirs.append((src.strip().splitlines(), binds, {m[2] for m in _QUESTION_RE.finditer(src)}))

        def score(c: Cell, text: str, other) -> float:
            lines, binds, asked = other
            ratio = difflib.SequenceMatcher(a=[l.strip() for l in text.strip().splitlines()],
                                            b=[l.strip() for l in lines], autojunk=False).ratio()
            if c.kind == "answer" and set(c.answer_names) & binds:
                return 1.0 + ratio
            if c.kind == "check" and asked and asked == {q.name for q in self.questions
                                                         if self.cells[q.cell] is c}:
                return 1.0 + ratio
            return ratio if c.kind != "answer" else 0.5 * ratio

        n, m = len(ex), len(theirs)
        best = [[0.0] * (m + 1) for _ in range(n + 1)]
        for i in range(1, n + 1):
            for j in range(1, m + 1):
                s = score(ex[i - 1][0], ex[i - 1][1], theirs[j - 1]) - 0.3
                best[i][j] = max(best[i - 1][j], best[i][j - 1], best[i - 1][j - 1] + s if s > 0 else -1.0)
        out: dict[str, int] = {}
        i, j = n, m
        while i and j:
            s = score(ex[i - 1][0], ex[i - 1][1], theirs[j - 1]) - 0.3
            if s > 0 and best[i][j] == best[i - 1][j - 1] + s:
                if ex[i - 1][0].kind == "answer":
                    out[ex[i - 1][0].answer_id] = j - 1
                i, j = i - 1, j - 1
            elif best[i][j] == best[i - 1][j]:
                i -= 1
            else:
                j -= 1
        return out


def find_key(keys: list["Key"], submission: nbformat.NotebookNode, filename: str) -> "Key | None":
    """The key a submission answers: named in its metadata (``generated_from``), else the key whose
    name (or number prefix ``NN_``) its file name contains; the only key if there is one."""
    meta = submission.get("metadata", {}).get("mlcourse", {})
    origin = meta.get("generated_from") if isinstance(meta, dict) else None
    if isinstance(origin, str):
        stem = Path(origin).stem
        for k in keys:
            if k.name == stem:
                return k
    for k in keys:
        if k.name in filename:
            return k
    numbered = [k for k in keys if re.search(rf"(^|[^0-9]){re.escape(k.name[:3])}", filename)]
    if len(numbered) == 1:
        return numbered[0]
    return keys[0] if len(keys) == 1 else None
