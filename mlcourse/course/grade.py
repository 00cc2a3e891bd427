"""``mlcourse grade``: score exercise notebooks — a student's self-check, or an instructor's grading
with the key.

**With a key** (``--key solutions/`` or one solution file) the questions, their points and their
checks come from the key alone, and the verdicts are reached in a process of the grader's where no
submitted code runs (:mod:`mlcourse.course.verdict`); the submission's code runs in a sandbox
(:mod:`mlcourse.course.sandbox`) on a throwaway copy of its folder and only hands back plain values.

**Without a key** the notebook's own cells run, in the same sandbox and limits, and its own check
cells are scored: the self-check a student runs on their work, with no guarantee against tampering
(a notebook can print any verdict it likes about itself).

Either way the graded file is only read, each cell has a time limit and the notebook one in all, a
crash or a timeout costs only the question(s) it hit, and every question ends with a verdict.
Several notebooks (a folder of submissions) are graded in parallel and written to a gradebook:
``grades.csv`` (one row per submission), ``questions.csv`` (one row per question) and a feedback
file per submission.
"""

from __future__ import annotations

import concurrent.futures as futures
import csv
import json
import os
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from mlcourse.course.notebooks import DETERMINISTIC_ENV, read
from mlcourse.grading import FAIL, PASS, RECORDED
from mlcourse.course.sandbox import Limits, Sandbox, deterministic_env

QUESTION_RE = re.compile(r"""\bcheck\(\s*(["'])(.+?)\1""")
GRACE = 60.0  # seconds on top of the notebook limit for the grader's own start and finish
MAX_NOTEBOOK = 50 * 1024 * 1024  # bytes: a larger .ipynb is not graded


@dataclass
class Result:
    question: str
    points: int
    passed: bool
    note: str
    recorded: bool = False  # a multiple-choice answer whose self-check only checks its form
    status: str = ""  # passed | failed | unanswered | timed out | crashed | recorded


@dataclass
class Graded:
    """One graded submission."""
    student: str
    assignment: str
    path: Path
    results: list[Result] = field(default_factory=list)
    error: str = ""  # why it could not be graded at all
    seconds: float = 0.0
    sandbox: str = ""
    warnings: list[str] = field(default_factory=list)
    keyed: bool = False

    @property
    def scored(self) -> list[Result]:
        return [r for r in self.results if not (r.recorded and r.passed)]

    @property
    def score(self) -> int:
        return sum(r.points for r in self.scored if r.passed)

    @property
    def max_score(self) -> int:
        return sum(r.points for r in self.scored)

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        bad = {r.status for r in self.results} & {"timed out", "crashed"}
        return "graded" + (f" ({', '.join(sorted(bad))})" if bad else "")


def questions(nb: nbformat.NotebookNode) -> dict[str, int]:
    """Question name → index of the cell that checks it, in notebook order."""
    return {m[2]: i for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for m in QUESTION_RE.finditer(c.source)}


def _read_submission(path: Path) -> nbformat.NotebookNode:
    if path.stat().st_size > MAX_NOTEBOOK:
        raise ValueError(f"{path.name} is over {MAX_NOTEBOOK >> 20} MB")
    return read(path)


def source_for(path: Path, key: Path | None, *, alone: bool = False) -> Path:
    """What the student's process gets a copy of: the notebook's folder — or the notebook alone when
    that folder holds the key or other notebooks (other students' work must stay out of reach)."""
    path = path.resolve()
    folder = path.parent
    if alone or _holds_other_notebooks(folder, path) or (key is not None and _overlap(folder, key.resolve())):
        return path
    return folder


def _holds_other_notebooks(folder: Path, path: Path, budget: int = 5000) -> bool:
    """Whether ``folder`` holds a notebook besides ``path`` (True too when it is too large to tell)."""
    seen = 0
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        seen += len(files) + len(dirs)
        if seen > budget or any(f.endswith(".ipynb") and Path(root, f) != path for f in files):
            return True
    return False


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


# --------------------------------------------------------------------------------- self-check

def self_check(path: Path, limits: Limits, sandbox: Sandbox) -> Graded:
    """Run the notebook's own cells in the sandbox and score its own checks (no key)."""
    from mlcourse.course.verdict import Student

    start = time.monotonic()
    nb = _read_submission(path)  # an unreadable file raises here, before anything runs
    asked = questions(nb)
    origin = nb.metadata.get("mlcourse", {}).get("generated_from") if isinstance(nb.metadata.get("mlcourse"), dict) else None
    graded = Graded(path.stem, Path(origin).stem if isinstance(origin, str) else path.stem, path,
                    sandbox=sandbox.summary())
    student = Student(sandbox, source_for(path, None), path.name, limits, start + limits.notebook_timeout, [],
                      resolve=lambda name, payload: None, extension=lambda obj: None)
    cmds = {}
    try:
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and cell.source.strip():
                cmds[i] = student.exec(cell.source)
        for cmd in cmds.values():
            student.wait(cmd)
    finally:
        student.close()
    records: dict[str, dict] = {}
    for cmd in cmds.values():
        reply = cmd.reply or ()
        for rec in (reply[4] if len(reply) > 4 and isinstance(reply[4], list) else []):
            if isinstance(rec, dict) and isinstance(rec.get("question"), str):
                records[rec["question"]] = rec
    for q, i in asked.items():
        rec = records.get(q)
        if rec is not None:
            line = str(rec.get("line", ""))
            note = line.split("—", 1)[1].strip() if "—" in line else ""
            passed = rec.get("passed") is True
            recorded = rec.get("recorded") is True
            status = ("recorded" if recorded and passed else "passed" if passed else
                      "unanswered" if note.startswith("not answered") else "failed")
            graded.results.append(Result(q, int(rec.get("points", 1)), passed, note, recorded, status))
            continue
        cmd = cmds.get(i)
        status = cmd.status if cmd is not None else "not run"
        why = {"timed out": f"timed out: the cell ran over the {limits.cell_timeout:g} s limit",
               "crashed": "the notebook's Python process ended in this cell",
               "not run": "not run: the notebook's Python process had stopped"}.get(
            status, f"the check cell raised {cmd.detail[0]}" if cmd is not None and cmd.status == "error"
            else "the check did not run")
        graded.results.append(Result(q, 1, False, why, status=status if status in ("timed out", "crashed") else "failed"))
    graded.seconds = time.monotonic() - start
    return graded


# ------------------------------------------------------------------------------ grading with a key

def grader_env() -> dict[str, str]:
    """The environment of the grader's process: the deterministic one of every notebook run, CPU."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")}
    return {**keep, **DETERMINISTIC_ENV, "MPLBACKEND": "Agg", "MLCOURSE_DEVICE": "cpu", "CUDA_VISIBLE_DEVICES": "",
            "PYTHONDONTWRITEBYTECODE": "1"}


def grade_with_key(path: Path, key: Path, limits: Limits, sandbox: str = "auto", *, source: Path | None = None,
                   hidden: list[Path] = (), student: str | None = None) -> Graded:
    """Grade one submission against ``key`` (a solution notebook) — see :mod:`mlcourse.course.verdict`."""
    from mlcourse.course.key import Key

    start = time.monotonic()
    path = Path(path)
    graded = Graded(student or path.stem, Path(key).stem, path, keyed=True)
    k = Key.load(Path(key))
    try:
        submission = _read_submission(path)
    except Exception as exc:
        graded.error = f"cannot read {path.name}: {type(exc).__name__}: {exc}"
        return graded
    found, how = k.match(submission)
    missing = [a for a, h in how.items() if h == "missing"]
    if missing:
        graded.warnings.append(f"no answer cell found for: {', '.join(missing)}")
    cfg = {"steps": k.script(found), "submission": str(path.resolve()),
           "source": str(source or source_for(path, Path(key).parent)), "sandbox": sandbox,
           "limits": limits.__dict__, "hidden": [str(Path(key).resolve().parent), *map(str, hidden)],
           "env": deterministic_env()}
    proc = subprocess.Popen([sys.executable, "-I", "-m", "mlcourse.course.verdict"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=grader_env(),
                            start_new_session=True)
    proc.stdin.write(json.dumps(cfg).encode())
    proc.stdin.close()
    events = _read_events(proc, start + limits.notebook_timeout + GRACE)
    by_name: dict[str, Result] = {}
    for ev in events:
        kind = ev.get("event")
        if kind == "question" and isinstance(ev.get("question"), str):
            by_name[ev["question"]] = Result(ev["question"], int(ev.get("points", 1)), ev.get("passed") is True,
                                             str(ev.get("note", "")), status=str(ev.get("status", "")))
        elif kind == "sandbox":
            graded.sandbox = str(ev.get("summary", ""))
        elif kind in ("warning", "error"):
            graded.warnings.append(str(ev.get("text", "")))
    ended = any(ev.get("event") == "done" for ev in events)
    for q in k.questions:  # every question of the key gets a verdict, whatever happened
        r = by_name.get(q.name)
        if r is None:
            why = ("not graded: the grader stopped at the whole-notebook limit" if not ended else
                   "not graded: " + (graded.warnings[-1] if graded.warnings else "the grader could not run it"))
            r = Result(q.name, q.points, False, why, status="timed out" if not ended else "failed")
        r.points = q.points  # points come from the key
        graded.results.append(r)
    errors = [ev for ev in events if ev.get("event") == "error"]
    if errors and not by_name:
        graded.error = str(errors[0].get("text", "the grader failed"))
    graded.seconds = time.monotonic() - start
    return graded


def _read_events(proc: subprocess.Popen, deadline: float) -> list[dict]:
    """JSON events from the grader's process until it ends or ``deadline`` (then it is killed)."""
    fd, buf, events = proc.stdout.fileno(), b"", []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    pass
    finally:
        try:
            os.killpg(proc.pid, 9)
        except OSError:
            pass
        proc.wait()
        proc.stdout.close()
    return events


# ----------------------------------------------------------------------------- the compatible API

def grade(path: Path, *, timeout: float = 120, key: Path | None = None, notebook_timeout: float | None = None,
          memory_mb: int = 4096, sandbox: str = "auto") -> list[Result]:
    """Grade the notebook at ``path`` (with ``key``: from the key) and return one Result per question."""
    limits = Limits(cell_timeout=timeout, notebook_timeout=notebook_timeout or max(900.0, 5 * timeout),
                    memory_mb=memory_mb)
    if key is None:
        return self_check(Path(path), limits, Sandbox.choose(sandbox)).results
    graded = grade_with_key(Path(path), Path(key), limits, sandbox)
    if graded.error:
        raise RuntimeError(graded.error)
    return graded.results


def report(results: list[Result], *, keyed: bool = False) -> str:
    """The per-question table and the score, as printed by ``mlcourse grade``.

    Without the key, a multiple-choice answer of the right form is "recorded": it is not scored,
    since its self-check cannot tell right from wrong without giving the answer away."""
    width = max([len(r.question) for r in results] + [8])
    lines = [f"{'question':<{width}}  result  points  note", "-" * (width + 30)]
    for r in results:
        if r.recorded and r.passed and not keyed:
            lines.append(f"{r.question:<{width}}  {RECORDED:^6}  {'–':<6}  recorded; marked only with the key")
            continue
        got = r.points if r.passed else 0
        lines.append(f"{r.question:<{width}}  {PASS if r.passed else FAIL:^6}  {got}/{r.points:<4}  {r.note}")
    scored = [r for r in results if keyed or not (r.recorded and r.passed)]
    score = sum(r.points for r in scored if r.passed)
    line = f"score: {score}/{sum(r.points for r in scored)}"
    held = len(results) - len(scored)
    if held:
        line += f" ({held} multiple-choice answer{'s' * (held > 1)} recorded, marked only with the key)"
    lines.append(line)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- many notebooks

@dataclass
class Submission:
    student: str
    path: Path
    source: Path  # what its process gets a copy of
    key: Path | None


NOTEBOOK_GLOB = ("*.ipynb",)


def _notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.ipynb") if not any(part.startswith(".") for part in
                                                                 p.relative_to(folder).parts))


def _student_name(stem: str, key_name: str | None) -> str:
    name = stem
    if key_name:
        name = name.replace(key_name, "").replace(key_name[:2] + "_", "")
    name = name.strip("_- .")
    return name or stem


def collect(paths: list[Path], keys: list[Path] | None) -> tuple[list[Submission], list[Graded]]:
    """The submissions under ``paths`` (notebooks, or folders of them: a notebook directly inside a
    folder is one student's; a sub-folder is one student's, holding their notebooks), each with
    the key it answers. Notebooks that match no key come back as errors."""
    from mlcourse.course.key import Key, find_key

    loaded = [Key.load(k) for k in keys] if keys else []
    subs, errors = [], []

    def add(nb_path: Path, student: str | None, source: Path) -> None:
        key = None
        if loaded:
            try:
                found = find_key(loaded, _read_submission(nb_path), nb_path.name)
            except Exception as exc:
                errors.append(Graded(student or nb_path.stem, "?", nb_path, error=f"cannot read: {exc}"))
                return
            if found is None:
                errors.append(Graded(student or nb_path.stem, "?", nb_path,
                                     error="no key matches this notebook (name it after its exercise, e.g. 03_…)"))
                return
            key = found.path
        name = student or _student_name(nb_path.stem, key.stem if key else None)
        if key is not None and _overlap(source, key.parent.resolve()):
            source = nb_path.resolve()
        subs.append(Submission(name, nb_path, source, key))

    for p in paths:
        p = Path(p)
        if p.is_dir():
            for nb_path in sorted(p.glob("*.ipynb")):
                add(nb_path, None, nb_path.resolve())
            for d in sorted(x for x in p.iterdir() if x.is_dir() and not x.name.startswith(".")):
                for nb_path in _notebooks(d):
                    add(nb_path, d.name, d.resolve())
        else:
            add(p, None, source_for(p, keys[0].parent if keys else None))
    return subs, errors


def grade_all(subs: list[Submission], limits: Limits, sandbox: str = "auto", *, jobs: int | None = None,
              hidden: list[Path] = (), progress=None) -> list[Graded]:
    """Grade every submission, ``jobs`` at a time (default: one per core)."""
    jobs = max(1, jobs or os.cpu_count() or 1)
    chosen = Sandbox.choose(sandbox)

    def one(sub: Submission) -> Graded:
        try:
            if sub.key is None:
                g = self_check(sub.path, limits, chosen)
                g.student = sub.student
            else:
                g = grade_with_key(sub.path, sub.key, limits, chosen.kind, source=sub.source,
                                   hidden=list(hidden), student=sub.student)
        except Exception as exc:
            g = Graded(sub.student, sub.key.stem if sub.key else sub.path.stem, sub.path,
                       error=f"{type(exc).__name__}: {exc}")
        if progress:
            progress(g)
        return g

    with futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, subs))


# ------------------------------------------------------------------------------------ the gradebook

def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "submission"


def feedback(g: Graded) -> str:
    """The text a student receives: their table and score, and what the grader could not do."""
    head = [f"{g.assignment} — {g.student}", f"file: {g.path.name}"]
    if g.error:
        return "\n".join(head + ["", f"not graded: {g.error}"]) + "\n"
    body = report(g.results, keyed=g.keyed)
    extra = [f"note: {w}" for w in g.warnings if w.startswith("no answer cell")]
    return "\n".join(head + ["", body, *extra, "", g.sandbox]) + "\n"


def write_gradebook(graded: list[Graded], out: Path) -> list[Path]:
    """``grades.csv``, ``questions.csv`` and ``feedback/<student>__<assignment>.txt`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    grades, per_q = out / "grades.csv", out / "questions.csv"
    with grades.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "score", "max_score", "percent", "status", "seconds", "file"])
        for g in graded:
            pct = f"{100 * g.score / g.max_score:.1f}" if g.max_score else ""
            w.writerow([g.student, g.assignment, g.score if not g.error else "", g.max_score if not g.error else "",
                        pct if not g.error else "", g.status, f"{g.seconds:.1f}", str(g.path)])
    with per_q.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "question", "points", "max_points", "result", "note"])
        for g in graded:
            for r in g.results:
                counted = g.keyed or not (r.recorded and r.passed)
                w.writerow([g.student, g.assignment, r.question, (r.points if r.passed else 0) if counted else "",
                            r.points if counted else "", r.status or ("passed" if r.passed else "failed"), r.note])
    written = [grades, per_q]
    fb = out / "feedback"
    fb.mkdir(exist_ok=True)
    for g in graded:
        p = fb / f"{_safe(g.student)}__{_safe(g.assignment)}.txt"
        p.write_text(feedback(g), encoding="utf-8")
        written.append(p)
    return written


def summary(graded: list[Graded]) -> str:
    """The table printed after a batch: one line per submission, then per assignment."""
    ws = max([len(g.student) for g in graded] + [7])
    wa = max([len(g.assignment) for g in graded] + [10])
    lines = [f"{'student':<{ws}}  {'assignment':<{wa}}  {'score':>7}  status", "-" * (ws + wa + 30)]
    for g in sorted(graded, key=lambda g: (g.assignment, g.student)):
        score = f"{g.score}/{g.max_score}" if not g.error else "–"
        lines.append(f"{g.student:<{ws}}  {g.assignment:<{wa}}  {score:>7}  {g.status}"
                     + (f": {g.error}" if g.error else ""))
    lines.append("")
    for a in sorted({g.assignment for g in graded}):
        ok = [g for g in graded if g.assignment == a and not g.error]
        if ok:
            pcts = [100 * g.score / g.max_score for g in ok if g.max_score]
            lines.append(f"{a}: {len(ok)} graded, mean {sum(pcts) / max(len(pcts), 1):.0f} %, "
                         f"min {min(pcts, default=0):.0f} %, max {max(pcts, default=0):.0f} %")
        failed = sum(1 for g in graded if g.assignment == a and g.error)
        if failed:
            lines.append(f"{a}: {failed} not graded")
    return "\n".join(lines)
