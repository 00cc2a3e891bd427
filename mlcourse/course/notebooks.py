"""The notebook pipeline: percent-format sources → executed notebooks, solutions → exercises.

Sources of truth are ``lectures/NN_name.py`` and ``solutions/NN_name.py`` (jupytext percent format).
``build`` executes each on a fresh kernel into its paired ``.ipynb``, and generates
``exercises/NN_name.{py,ipynb}`` from the solution:

* code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes a stub that raises
  ``NotImplementedError`` (nbgrader's convention);
* code between ``### BEGIN HIDDEN CHECKS`` and ``### END HIDDEN CHECKS`` is removed;
* cells tagged ``solution-only`` (worked answers, discussion) are removed;
* each answer cell carries ``{"mlcourse": {"answer": <id>}}`` in its metadata, so that grading with
  the key finds it again in a student's notebook (:mod:`mlcourse.course.key`).

``problems`` lists everything stale: a pair whose cells differ, a code cell never executed, an exercise
that differs from a fresh generation. An exercise a student has edited (its cells no longer match the
fingerprint recorded when it was generated) is never overwritten unless forced.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import os
import re
from pathlib import Path

import jupytext
import nbformat
from jupytext.config import load_jupytext_config
from nbclient import NotebookClient

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
# What every execution sees, so that two runs (and the CI run) print the same thing.
DETERMINISTIC_ENV = {"PYTHONHASHSEED": "0", "MLCOURSE_THREADS": "1", "OMP_NUM_THREADS": "1",
                     "MKL_NUM_THREADS": "1", "TQDM_DISABLE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
SOLUTION_RE = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n(.*?)^[ \t]*### END SOLUTION[^\n]*(?:\n|$)",
                         re.M | re.S)
HIDDEN_RE = re.compile(r"^[ \t]*### BEGIN HIDDEN CHECKS[^\n]*\n.*?^[ \t]*### END HIDDEN CHECKS[^\n]*(?:\n|$)",
                       re.M | re.S)
MARKER_RE = re.compile(r"### (BEGIN|END) (SOLUTION|HIDDEN CHECKS)")
EXERCISE_INTRO = (
    "> **Exercises.** Replace each `...` and each `raise NotImplementedError()` with your answer, then run\n"
    "> the check cell below it: ✓, or ✗ with a hint. *Run All* runs every check, answered or not.\n"
    "> Work in your own copy (`mlcourse start {number}` makes one in `work/` and opens it), and grade the\n"
    "> whole notebook from a terminal with `mlcourse grade work/{name}.ipynb`."
)


def repo_root(start: Path | None = None) -> Path:
    """The course checkout: the first parent of ``start`` (default: cwd) holding lectures/ and solutions/."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "lectures").is_dir() and (d / "solutions").is_dir():
            return d
    raise FileNotFoundError(f"no course checkout (a folder with lectures/ and solutions/) above {here}")


def topics(root: Path, only: list[str] | None = None) -> list[str]:
    """Names ``NN_name`` of every lecture or solution source, filtered by number or name prefix."""
    names = sorted({p.stem for kind in ("lectures", "solutions") for p in (root / kind).glob("[0-9][0-9]_*.py")})
    if only:
        names = [n for n in names if any(n.startswith(o) for o in only)]
    return names


class BadNotebook(ValueError):
    """A notebook file that cannot be read or breaks the notebook format: one line that says where."""


def read(path: Path) -> nbformat.NotebookNode:
    """A notebook from a percent ``.py`` or an ``.ipynb``; :class:`BadNotebook` if the file is not one
    (unreadable JSON, or a cell that breaks the notebook schema, e.g. a number as its source)."""
    try:
        nb = jupytext.read(path, fmt="py:percent") if path.suffix == ".py" else nbformat.read(path, as_version=4)
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - nbformat and jupytext raise many kinds on a broken file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BadNotebook(f"{path} is not a readable notebook: {first}") from None
    from nbformat.validator import iter_validate

    error = next(iter(iter_validate(nb)), None)
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        shown = repr(error.instance)
        raise BadNotebook(f"{path} breaks the notebook format at {where or 'the top level'}: "
                          f"{shown if len(shown) <= 40 else type(error.instance).__name__} is not valid there")
    return nb


def py_text(nb: nbformat.NotebookNode, root: Path) -> str:
    """The percent-format text jupytext (and so JupyterLab) derives from ``nb`` with the repo's config.

    JupyterLab refuses to open a pair whose .ipynb is newer than its .py unless the .py is exactly
    this text, and a fresh clone has arbitrary file times: so every .py is kept in this form."""
    return jupytext.writes(nb, fmt="py:percent", config=load_jupytext_config(str(root)))


def cell_key(cell: dict) -> tuple:
    """What must agree between the two files of a pair: type, source, tags and slide type."""
    meta = cell.get("metadata", {})
    return (cell["cell_type"], cell["source"].strip(), tuple(meta.get("tags", ())),
            meta.get("slideshow", {}).get("slide_type"))


def fingerprint(nb: nbformat.NotebookNode) -> str:
    """A digest of a notebook's cells (not outputs): detects hand edits of a generated exercise."""
    blob = json.dumps([cell_key(c) for c in nb.cells], ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _stores(node: ast.AST) -> list[str]:
    """Names a statement binds in its own scope (not inside comprehensions, lambdas or defs)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)):
        return []
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        return [node.id]
    return [name for child in ast.iter_child_nodes(node) for name in _stores(child)]


def _bound_names(code: str) -> list[str]:
    """Names a top-level block of code binds (assignments, loops, defs), in order of first binding."""
    names: list[str] = []
    for node in ast.parse(code).body:
        names += [t for t in _stores(node) if t not in names]
    return names


def _loaded_names(code: str) -> set[str]:
    try:
        tree = ast.parse("\n".join(l for l in code.splitlines() if not l.lstrip().startswith(("%", "!"))))
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _stub(match: re.Match, where: str, read_later: set[str]) -> str:
    """The stub of one solution block. Inside a function: ``raise NotImplementedError()`` (raised
    only when the check calls it). At top level: ``name = ...`` for each answer the later cells read,
    so that "Run All" on a fresh exercise never stops before the check cells."""
    indent, block = match[1], match[2]
    if indent:
        return f"{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError()\n"
    try:
        bound = _bound_names(block)
    except SyntaxError as exc:
        raise ValueError(f"{where}: the solution block is not valid Python on its own ({exc.msg})") from exc
    answers = [n for n in bound if n in read_later] or bound
    if not answers:
        raise ValueError(f"{where}: a top-level solution block must assign its answer (e.g. `answer = ...`)")
    return "# YOUR CODE HERE: replace each ... with your answer\n" + "".join(f"{n} = ...\n" for n in answers)


def _strip_solutions(source: str, where: str, read_later: set[str] = frozenset()) -> str:
    out = SOLUTION_RE.sub(lambda m: _stub(m, where, read_later), source)
    out = HIDDEN_RE.sub("", out)
    if MARKER_RE.search(out):
        raise ValueError(f"{where}: unbalanced '### BEGIN/END SOLUTION' or 'HIDDEN CHECKS' markers")
    return out


def _stable_ids(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Cell ids from positions, not random: rebuilding an unchanged notebook changes no byte."""
    nb.nbformat, nb.nbformat_minor = 4, 5
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
    return nb


def make_exercise(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The exercise notebook of a solution: answers stubbed, hidden checks and solution-only cells gone."""
    from mlcourse.course.key import ANSWER_META, answer_ids

    cells = [nbformat.v4.new_markdown_cell(EXERCISE_INTRO.format(name=name, number=name[:2]))]
    code = [c.source if c.cell_type == "code" else "" for c in solution.cells]
    ids = answer_ids(solution)  # kept in each answer cell's metadata: grading with the key finds it
    for i, cell in enumerate(solution.cells):
        if "solution-only" in cell.get("metadata", {}).get("tags", ()):
            continue
        new = copy.deepcopy(cell)
        if i in ids:
            new.setdefault("metadata", {})[ANSWER_META] = {"answer": ids[i]}
        if new["cell_type"] == "code":
            read_later = set().union(*(_loaded_names(c) for c in code[i + 1:]))
            new["source"] = _strip_solutions(new["source"], f"solutions/{name}.py cell {i}", read_later)
            new["outputs"], new["execution_count"] = [], None
            try:
                compile("\n".join(l for l in new["source"].splitlines() if not l.lstrip().startswith(("%", "!"))),
                        f"exercise cell {i}", "exec")
            except SyntaxError as exc:
                raise ValueError(f"solutions/{name}.py cell {i}: the generated stub is not valid Python "
                                 f"({exc.msg}); keep a visible statement outside the markers") from exc
        cells.append(new)
    nb = _stable_ids(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC,
                                                                     "language_info": {"name": "python"}}))
    nb.metadata["mlcourse"] = {"generated_from": f"solutions/{name}.py", "fingerprint": fingerprint(nb)}
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path, *, timeout: int = 300,
            allow_errors: bool = False) -> nbformat.NotebookNode:
    """Run every cell on a fresh python3 kernel in ``cwd`` with the deterministic environment."""
    os.environ.update(DETERMINISTIC_ENV)
    nb = copy.deepcopy(nb)
    nb.metadata["kernelspec"] = KERNELSPEC
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            interrupt_on_timeout=True, record_timing=False, store_widget_state=False,
                            resources={"metadata": {"path": str(cwd)}},
                            # the kernel app's own log (e.g. "running over TCP") is noise in a grade
                            # report; warnings raised by the notebook's code are cell outputs, unaffected
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    client.execute()
    return nb


WORK = "work"
"""The students' workspace: ignored by git, never written by ``build`` or ``grade``."""
WORK_JUPYTEXT = "# Your own copies of the exercises: plain notebooks, no .py twin.\nformats = \"ipynb\"\n"


def start_exercise(root: Path, name: str) -> tuple[Path, bool]:
    """Copy ``exercises/name.ipynb`` to ``work/name.ipynb`` unless a copy is already there.

    Returns the path and whether it was created. An existing copy (a student's work) is never
    touched."""
    source = root / "exercises" / f"{name}.ipynb"
    if not source.exists():
        raise FileNotFoundError(f"{source.relative_to(root)} does not exist")
    work = root / WORK
    work.mkdir(exist_ok=True)
    if not (work / "jupytext.toml").exists():
        (work / "jupytext.toml").write_text(WORK_JUPYTEXT)
    target = work / f"{name}.ipynb"
    if target.exists():
        return target, False
    with open(target, "xb") as out:  # exclusive: never replaces a file that appeared meanwhile
        out.write(source.read_bytes())
    return target, True


def _write_ipynb(nb: nbformat.NotebookNode, path: Path) -> None:
    nbformat.write(_stable_ids(nb), path)


def exercise_edited(root: Path, name: str, fresh: nbformat.NotebookNode | None = None) -> str | None:
    """Why ``exercises/name`` looks hand-edited (so must not be overwritten), or None.

    Edited: its cells differ from the fingerprint recorded when it was generated, or its code cells
    hold outputs (someone ran it). A ``.py`` without its ``.ipynb`` has no fingerprint: it counts as
    edited unless it equals ``fresh`` (the exercise the solution generates now)."""
    ipynb, py = root / "exercises" / f"{name}.ipynb", root / "exercises" / f"{name}.py"
    recorded = None
    if ipynb.exists():
        nb = read(ipynb)
        recorded = nb.metadata.get("mlcourse", {}).get("fingerprint")
        if recorded != fingerprint(nb):
            return f"{ipynb.relative_to(root)} was edited after it was generated"
        ran = [i for i, c in enumerate(nb.cells)
               if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
        if ran:
            return f"{ipynb.relative_to(root)} holds outputs (it was run; cells {ran[:5]})"
    if py.exists():
        if recorded is None and fresh is not None:
            recorded = fingerprint(fresh)
        if recorded is None or fingerprint(read(py)) != recorded:
            alone = "" if ipynb.exists() else f" (and its {ipynb.name} is missing)"
            return f"{py.relative_to(root)} was edited after it was generated{alone}"
    return None


def build(root: Path, name: str, *, force: bool = False, execute_notebooks: bool = True,
          log=print) -> None:
    """Execute lecture and solution ``name`` into their .ipynb and regenerate its exercise.

    Everything that can refuse is checked before anything is written: every source must read, the
    exercise must generate, and an edited exercise (:func:`exercise_edited`) stops the build unless
    ``force`` — so a refused build leaves every file as it was."""
    sources = {kind: read(root / kind / f"{name}.py") for kind in ("lectures", "solutions")
               if (root / kind / f"{name}.py").exists()}
    ex = make_exercise(sources["solutions"], name) if "solutions" in sources else None
    if ex is not None:
        why = exercise_edited(root, name, fresh=ex)
        if why and not force:
            raise PermissionError(f"refusing to overwrite: {why}. Save your work elsewhere, or "
                                  f"regenerate anyway with `mlcourse build {name} --force`")
    for kind, nb in sources.items():
        src = root / kind / f"{name}.py"
        nb.metadata["kernelspec"] = KERNELSPEC
        if execute_notebooks:
            log(f"executing {src.relative_to(root)}")
            nb = execute(nb, src.parent)
        _write_ipynb(nb, src.with_suffix(".ipynb"))
        src.write_text(py_text(read(src.with_suffix(".ipynb")), root))  # jupytext's normal form
    if ex is not None:
        (root / "exercises").mkdir(exist_ok=True)
        _write_ipynb(ex, root / "exercises" / f"{name}.ipynb")
        (root / "exercises" / f"{name}.py").write_text(py_text(read(root / "exercises" / f"{name}.ipynb"), root))
        log(f"generated exercises/{name}.py and .ipynb")


def _first_difference(a: nbformat.NotebookNode, b: nbformat.NotebookNode) -> str | None:
    ka, kb = [cell_key(c) for c in a.cells], [cell_key(c) for c in b.cells]
    for i, (x, y) in enumerate(zip(ka, kb)):
        if x != y:
            snippet = (x[1].splitlines() or [""])[0][:60]
            return f"cell {i} differs (starts {snippet!r})"
    if len(ka) != len(kb):
        return f"{len(ka)} vs {len(kb)} cells"
    return None


def problems(root: Path, name: str) -> list[str]:
    """Everything stale about topic ``name``, each with the command that fixes it."""
    fix = f"regenerate with `mlcourse build {name[:2]}`"
    found = []
    for kind in ("lectures", "solutions"):
        src, nbp = root / kind / f"{name}.py", root / kind / f"{name}.ipynb"
        if not src.exists():
            continue
        if not nbp.exists():
            found.append(f"{nbp.relative_to(root)} is missing: {fix}")
            continue
        nb = read(nbp)
        diff = _first_difference(read(src), nb)
        if diff:
            found.append(f"{src.relative_to(root)} and {nbp.name} are out of sync ({diff}): {fix}")
        elif src.read_text() != py_text(nb, root):
            found.append(f"{src.relative_to(root)} is not in jupytext's normal form of {nbp.name} "
                         f"(JupyterLab would refuse the pair): {fix}")
        unexecuted = [i for i, c in enumerate(nb.cells)
                      if c.cell_type == "code" and c.source.strip() and c.execution_count is None]
        if unexecuted:
            found.append(f"{nbp.relative_to(root)} has code cells never executed ({unexecuted[:5]}): {fix}")
    sol = root / "solutions" / f"{name}.py"
    if sol.exists():
        fresh = make_exercise(read(sol), name)
        for suffix in (".py", ".ipynb"):
            ex = root / "exercises" / f"{name}{suffix}"
            if not ex.exists():
                found.append(f"{ex.relative_to(root)} is missing: {fix}")
                continue
            diff = _first_difference(fresh, read(ex))
            if diff:
                found.append(f"{ex.relative_to(root)} is stale against solutions/{name}.py ({diff}): {fix}")
    return found
