"""Grading with a key cannot be forged, and the limits hold.

One batch of 22 submissions of a small synthetic exercise (so that changes to the course's own
exercises cannot break these tests) is graded with ``mlcourse grade submissions/ --key keys/`` on two
workers: the correct answers (three ways), wrong and unanswered ones, and every attack of the issue
— monkeypatched and shadowed ``check``, forged records, deleted and added check cells, lying dunders,
a thread that patches later, reading the key, writes outside the folder and to the graded file, the
network, SIGINT ignored in an endless loop, ``os._exit``, a memory hog, a function that never
returns. Each attack comes with all-wrong answers and must score 0; a limit hit costs only its own
question. The CSV must agree with grading each notebook on its own, nothing outside the sandbox may
change, and grading must end within its limits.
"""

from __future__ import annotations

import concurrent.futures as futures
import copy
import csv
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from mlcourse.course import notebooks as nbs
from mlcourse.course.grade import Submission, collect, grade_all, grade_with_key, source_for
from mlcourse.course.sandbox import Limits, bwrap_path
from mlcourse.grading import CHECK_MIMETYPE

ROOT = nbs.repo_root(Path(__file__).parent)
NAME = "90_synthetic"
KEY = '''# %%
import math

from mlcourse.grading import check, one_of

# %% [markdown]
# Q1: the area of a disc of radius 2.

# %%
### BEGIN SOLUTION
area = math.pi * 2.0 ** 2
### END SOLUTION

# %% tags=["check"]
with check("Q1 area", hint="pi r squared"):
    assert abs(area - math.pi * 4) < 1e-9
    ### BEGIN HIDDEN CHECKS
    assert isinstance(area, float)
    ### END HIDDEN CHECKS

# %%
def double(xs):
    ### BEGIN SOLUTION
    return [2 * x for x in xs]
    ### END SOLUTION


# %% tags=["check"]
with check("Q2 double", hint="each item twice as large", points=2):
    assert double([1, 2]) == [2, 4]
    ### BEGIN HIDDEN CHECKS
    assert double([]) == [] and double([0.5]) == [1.0]
    ### END HIDDEN CHECKS

# %%
### BEGIN SOLUTION
letter = "b"
### END SOLUTION

# %% tags=["check"]
with check("Q3 letter", hint="the middle one", recorded=True):
    one_of(letter, "abc")
    ### BEGIN HIDDEN CHECKS
    assert letter.strip().lower() == "b"
    ### END HIDDEN CHECKS
'''
CORRECT = {"area": "area = math.pi * 4.0",
           "double": "def double(xs):\n    return [x + x for x in xs]",
           "letter": 'letter = " B"'}
WRONG = {"area": "area = 2 * 3.14159 * 2.0",  # the circumference
         "double": "def double(xs):\n    return xs * 2",  # the list repeated
         "letter": 'letter = "a"'}
LIMITS = dict(cell_timeout=4.0, notebook_timeout=90.0, memory_mb=1024)

ATTACKS = {  # each replaces the answer cell "area" unless it names another; all other answers wrong
    "monkeypatched_check": """
import builtins
import math
import mlcourse.grading as grading
grading.check.__exit__ = lambda self, *exc: True
grading.one_of = lambda *a, **k: "b"
builtins.abs = lambda x: 0.0
math.isclose = lambda *a, **k: True
area = 2 * 3.14159 * 2.0""",
    "shadowed_check": """
class check:
    def __init__(self, *args, **kwargs):
        pass
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        print("✓")
        return True
def one_of(answer, options):
    return "b"
area = 2 * 3.14159 * 2.0""",
    "forged_records": """
from IPython.display import display
for q in ("Q1 area", "Q2 double", "Q3 letter"):
    display({"text/plain": f"✓ {q}", "application/vnd.mlcourse.check+json":
             {"question": q, "passed": True, "points": 100, "recorded": False}}, raw=True)
area = 2 * 3.14159 * 2.0""",
    "lying_dunders": {
        "area": """
class Liar(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __le__(self, other): return True
    def __gt__(self, other): return True
    def __ge__(self, other): return True
    def __abs__(self): return 0.0
    def __sub__(self, other): return Liar(0.0)
    __rsub__ = __sub__
    def __float__(self): return 12.566370614359172
    __hash__ = float.__hash__
area = Liar(1.0)""",
        "double": """
class Always(list):
    def __eq__(self, other): return True
def double(xs):
    return Always([0])""",
        "letter": """
class Letter(str):
    def strip(self): return self
    def lower(self): return "b"
    def __eq__(self, other): return True
    __hash__ = str.__hash__
letter = Letter("a")"""},
    "patching_thread": """
import builtins, threading, time
from IPython.display import display
def meddle():
    import mlcourse.grading as grading
    while True:
        grading.check.__exit__ = lambda self, *exc: True
        builtins.abs = lambda x: 0.0
        display({"text/plain": "✓ Q1 area", "application/vnd.mlcourse.check+json":
                 {"question": "Q1 area", "passed": True, "points": 1}}, raw=True)
        time.sleep(0.01)
threading.Thread(target=meddle, daemon=True).start()
area = 2 * 3.14159 * 2.0""",
    "reads_the_key": """
exec(compile(open({key!r}).read(), "key", "exec"), globals())  # the key's own answers, if it were visible""",
    "writes_outside": """
import os, pathlib
for target in ({outside!r}, {orig_dir!r}, {key_dir!r}):
    try:
        pathlib.Path(target, "pwned.txt").write_text("pwned")
    except OSError:
        pass
for victim in ({canary!r}, {orig!r}):
    try:
        os.remove(victim)
    except OSError:
        pass
try:
    pathlib.Path({orig!r}).write_text("{{}}")
except OSError:
    pass
pathlib.Path("90_synthetic.ipynb").write_text("{{}}")  # its own throwaway copy: allowed, and harmless
area = 2 * 3.14159 * 2.0""",
    "network": """
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"hidden checks")
except OSError:
    pass
area = 2 * 3.14159 * 2.0""",
}
LIMIT_HITS = {  # (answer cell, source): the other answers are correct
    "sigint_ignored_loop": ("area", """
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
while True:
    pass"""),
    "os_exit": ("double", "import os\nos._exit(3)"),
    "memory_hog": ("area", "hog = [bytearray(64 << 20) for _ in range(4)]\nwhile True:\n    hog.append(bytearray(8 << 30))"),
    "function_never_returns": ("double", "def double(xs):\n    while True:\n        pass"),
    "function_exits": ("double", "def double(xs):\n    import os\n    os._exit(4)"),
}
EXPECTED = {  # score out of 4 (Q1: 1, Q2: 2, Q3: 1 point)
    "correct": 4, "correct_alternative": 4, "correct_without_ids": 4, "correct_split_cell": 4,
    "correct_reordered": 4, "wrong": 0, "stub": 0, "answer_cell_deleted": 2, "check_cells_deleted": 0,
    "bonus_check_added": 0, **{name: 0 for name in ATTACKS},
    "sigint_ignored_loop": 3, "os_exit": 2, "memory_hog": 3, "function_never_returns": 2,
    "function_exits": 2,
}
NEEDS_BWRAP = {"reads_the_key", "writes_outside", "network"}


def _answer_id(cell) -> str | None:
    return cell.get("metadata", {}).get("mlcourse", {}).get("answer")


def _with_answers(exercise, answers: dict[str, str]):
    nb = copy.deepcopy(exercise)
    for cell in nb.cells:
        if _answer_id(cell) in answers:
            cell.source = answers[_answer_id(cell)].strip()
    return nb


def _is_check(cell) -> bool:
    return cell.cell_type == "code" and "check(" in cell.source


def _submissions(exercise, ctx: dict) -> dict[str, nbformat.NotebookNode]:
    subs = {"correct": _with_answers(exercise, CORRECT), "wrong": _with_answers(exercise, WRONG),
            "stub": copy.deepcopy(exercise),
            "correct_alternative": _with_answers(exercise, {"area": "import math\narea = 4 * math.acos(-1.0)",
                                                            "double": "def double(xs):\n    return list(map(lambda x: 2 * x, xs))",
                                                            "letter": "letter = 'b'"})}
    nb = _with_answers(exercise, CORRECT)  # a notebook saved by a tool that drops cell metadata
    for cell in nb.cells:
        cell.metadata.pop("mlcourse", None)
    subs["correct_without_ids"] = nb
    nb = _with_answers(exercise, CORRECT)  # the answer written over two cells (a copied cell keeps its id)
    i = next(i for i, c in enumerate(nb.cells) if _answer_id(c) == "double")
    helper = copy.deepcopy(nb.cells[i])
    helper.source = "def twice(x):\n    return 2 * x"
    nb.cells[i].source = "def double(xs):\n    return [twice(x) for x in xs]"
    nb.cells.insert(i, helper)
    subs["correct_split_cell"] = nb
    nb = _with_answers(exercise, CORRECT)  # the last answer moved to the top: ids, not positions
    i = next(i for i, c in enumerate(nb.cells) if _answer_id(c) == "letter")
    nb.cells.insert(0, nb.cells.pop(i))
    subs["correct_reordered"] = nb
    nb = _with_answers(exercise, CORRECT)
    nb.cells = [c for c in nb.cells if _answer_id(c) != "double"]
    subs["answer_cell_deleted"] = nb
    nb = _with_answers(exercise, WRONG)
    nb.cells = [c for c in nb.cells if not _is_check(c)]
    subs["check_cells_deleted"] = nb
    nb = _with_answers(exercise, WRONG)
    nb.cells.append(nbformat.v4.new_code_cell('with check("Q9 bonus", hint="free", points=100):\n    pass'))
    nb.cells.append(nbformat.v4.new_code_cell('with check("Q1 area", hint="again"):\n    pass'))
    subs["bonus_check_added"] = nb
    for name, attack in ATTACKS.items():
        answers = attack if isinstance(attack, dict) else {"area": attack}
        if name in NEEDS_BWRAP:  # these name the paths and the port they go for
            answers = {k: v.format(**ctx, orig=str(ctx["subs"] / name / f"{NAME}.ipynb"),
                                   orig_dir=str(ctx["subs"] / name)) for k, v in answers.items()}
        nb = _with_answers(exercise, {**WRONG, **answers})
        if name == "forged_records":  # and the saved outputs of its check cells say ✓ with 100 points
            for cell in nb.cells:
                if _is_check(cell):
                    q = nbs_question(cell.source)
                    cell.outputs = [nbformat.v4.new_output("display_data", data={
                        "text/plain": f"✓ {q}", CHECK_MIMETYPE: {"question": q, "passed": True, "points": 100}})]
        subs[name] = nb
    for name, (answer, source) in LIMIT_HITS.items():
        subs[name] = _with_answers(exercise, {**CORRECT, answer: source})
    return subs


def nbs_question(source: str) -> str:
    from mlcourse.course.grade import QUESTION_RE

    return QUESTION_RE.search(source)[2]


def _tree(folder: Path, skip: Path) -> dict[str, str]:
    """Every file under ``folder`` (but ``skip``) with a digest of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and skip not in p.parents}


def _running(pid: int) -> bool:
    """A live process (not a zombie waiting to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _runners_left(marker: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "mlcourse.course.runner" in cmd and marker in cmd:
            found.append(pid)
    return found


class Listener:
    """A TCP server on the host's loopback that records whether anything connected to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections, self.stop = 0, False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    keys, subs, outside = base / "keys", base / "submissions", base / "outside"
    for d in (keys, subs, outside):
        d.mkdir()
    key = keys / f"{NAME}.py"
    key.write_text(KEY)
    canary = outside / "canary.txt"
    canary.write_text("untouched")
    listener = Listener()
    ctx = {"key": str(key), "key_dir": str(keys), "outside": str(outside), "canary": str(canary),
           "port": listener.port, "subs": subs}
    exercise = nbs.make_exercise(nbs.read(key), NAME)
    for name, nb in _submissions(exercise, ctx).items():
        (subs / name).mkdir()
        nbs._write_ipynb(nb, subs / name / f"{NAME}.ipynb")
    before = _tree(base, base / "grades")
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "mlcourse.course.cli", "grade", str(subs), "--key", str(keys), "--jobs", "2",
         "--timeout", str(LIMITS["cell_timeout"]), "--notebook-timeout", str(LIMITS["notebook_timeout"]),
         "--memory", str(LIMITS["memory_mb"]), "--out", str(base / "grades")],
        capture_output=True, text=True, cwd=base, timeout=900)
    wall = time.monotonic() - start
    listener.close()
    with (base / "grades" / "grades.csv").open() as f:
        grades = {row["student"]: row for row in csv.DictReader(f)}
    with (base / "grades" / "questions.csv").open() as f:
        questions = list(csv.DictReader(f))
    return {"base": base, "key": key, "subs": subs, "done": done, "wall": wall, "before": before,
            "after": _tree(base, base / "grades"), "grades": grades, "questions": questions,
            "listener": listener, "canary": canary, "outside": outside}


def _q(batch, student: str) -> dict[str, dict]:
    return {r["question"]: r for r in batch["questions"] if r["student"] == student}


def test_the_batch_grades_every_submission_into_a_gradebook(batch) -> None:
    done = batch["done"]
    print(done.stdout[-3000:], done.stderr[-3000:])
    assert done.returncode == 0 and "Traceback" not in done.stdout + done.stderr
    assert len(batch["grades"]) == len(EXPECTED) >= 20
    assert (batch["base"] / "grades" / "feedback" / f"correct__{NAME}.txt").read_text().count("score: 4/4") == 1
    assert f"90_synthetic: {len(EXPECTED)} graded" in done.stdout  # the summary table


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_submission_scores_what_its_answers_earn(batch, student: str) -> None:
    if student in NEEDS_BWRAP and bwrap_path() is None:
        pytest.skip("needs bubblewrap: without it student code can read the key and write files")
    row = batch["grades"][student]
    assert (int(row["score"]), int(row["max_score"])) == (EXPECTED[student], 4), _q(batch, student)


def test_questions_and_points_come_from_the_key_alone(batch) -> None:
    for student in ("bonus_check_added", "check_cells_deleted", "forged_records"):
        q = _q(batch, student)
        assert sorted(q) == ["Q1 area", "Q2 double", "Q3 letter"]
        assert [int(r["max_points"]) for r in q.values()] == [1, 2, 1]


def test_a_wrong_letter_is_failed_by_the_key_and_the_right_one_passes(batch) -> None:
    assert _q(batch, "wrong")["Q3 letter"]["result"] == "failed"
    assert _q(batch, "correct")["Q3 letter"]["result"] == "passed"


def test_a_missing_answer_cell_is_unanswered_and_the_rest_still_counts(batch) -> None:
    q = _q(batch, "answer_cell_deleted")
    assert q["Q2 double"]["result"] == "unanswered" and q["Q1 area"]["result"] == "passed"


def test_limits_cost_only_the_question_they_hit_and_say_why(batch) -> None:
    loop = _q(batch, "sigint_ignored_loop")["Q1 area"]
    assert loop["result"] == "timed out" and loop["note"].startswith("timed out")
    ended = _q(batch, "os_exit")["Q2 double"]
    assert ended["result"] == "crashed" and "ended the Python process" in ended["note"] and "3" in ended["note"]
    hog = _q(batch, "memory_hog")["Q1 area"]
    assert hog["result"] != "passed" and "MemoryError" in hog["note"]
    never = _q(batch, "function_never_returns")["Q2 double"]
    assert never["result"] == "timed out" and "timed out" in never["note"]
    exits = _q(batch, "function_exits")["Q2 double"]
    assert exits["result"] == "crashed" and "ended the Python process" in exits["note"] and "4" in exits["note"]


def test_grading_ends_within_its_limits(batch) -> None:
    for student, row in batch["grades"].items():  # no notebook near its whole-notebook limit
        assert float(row["seconds"]) < LIMITS["notebook_timeout"], student
    assert not _runners_left(str(batch["subs"])), "a sandboxed process outlived its grading"


def test_nothing_outside_the_sandbox_changes(batch) -> None:
    if bwrap_path() is None:
        pytest.skip("needs bubblewrap: without it student code can write the grading user's files")
    assert batch["after"] == batch["before"]  # the graded files, the key, the canary: byte for byte
    assert batch["canary"].read_text() == "untouched" and not (batch["outside"] / "pwned.txt").exists()
    assert batch["listener"].connections == 0


def test_the_csv_agrees_with_grading_each_notebook_alone(batch) -> None:
    """Totals of grades.csv equal the sum of questions.csv and a separate grading of each notebook."""
    per_q: dict[str, int] = {}
    for r in batch["questions"]:
        per_q[r["student"]] = per_q.get(r["student"], 0) + int(r["points"] or 0)
    assert {s: int(r["score"]) for s, r in batch["grades"].items()} == per_q
    subs, _ = collect([batch["subs"]], [batch["key"]])
    if bwrap_path() is None:  # without the sandbox these attacks changed their own files
        subs = [s for s in subs if s.student not in NEEDS_BWRAP]
        per_q = {k: v for k, v in per_q.items() if k not in NEEDS_BWRAP}
    limits = Limits(**LIMITS)
    with futures.ThreadPoolExecutor(2) as pool:
        alone = list(pool.map(lambda s: grade_with_key(s.path, s.key, limits, source=s.source,
                                                       hidden=[batch["subs"]], student=s.student), subs))
    assert {g.student: g.score for g in alone} == per_q
    for g in alone:
        q = _q(batch, g.student)
        assert {r.question: r.passed for r in g.results} == {n: r["result"] == "passed" for n, r in q.items()}


def test_without_bubblewrap_the_verdicts_still_hold(batch) -> None:
    """``--sandbox none`` (limits only, no namespaces): the file system and the network are open to
    student code, but its process still cannot reach the verdict, and the limits still hold."""
    names = ("correct", "monkeypatched_check", "patching_thread", "os_exit", "sigint_ignored_loop")
    subs = [Submission(n, batch["subs"] / n / f"{NAME}.ipynb", batch["subs"] / n, batch["key"]) for n in names]
    graded = grade_all(subs, Limits(**LIMITS), "none", jobs=2)
    assert {g.student: g.score for g in graded} == {n: EXPECTED[n] for n in names}
    assert all("NONE" in g.sandbox for g in graded)


def test_the_whole_notebook_has_a_time_limit(batch) -> None:
    """An answer cell that sleeps under the cell limit but past the notebook's: what was graded
    stays graded, the rest says "timed out", and grading stops at the notebook limit."""
    slow = batch["base"] / "slow"
    slow.mkdir()
    nb = _with_answers(nbs.make_exercise(nbs.read(batch["key"]), NAME),
                       {**CORRECT, "double": "import time\ntime.sleep(1000)\n" + CORRECT["double"]})
    nbs._write_ipynb(nb, slow / f"{NAME}.ipynb")
    start = time.monotonic()
    g = grade_with_key(slow / f"{NAME}.ipynb", batch["key"], Limits(cell_timeout=300, notebook_timeout=20))
    assert time.monotonic() - start < 20 + 15
    notes = {r.question: (r.passed, r.note) for r in g.results}
    assert notes["Q1 area"] == (True, "")
    for q in ("Q2 double", "Q3 letter"):
        assert notes[q] == (False, "timed out: the whole notebook ran over its 20 s limit"), notes


def test_collect_names_students_and_keeps_other_work_out_of_reach(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / f"{NAME}.py").write_text(KEY)
    (keys / "91_other.py").write_text(KEY)
    ex = nbs.make_exercise(nbs.read(keys / f"{NAME}.py"), NAME)  # its metadata names 90_synthetic
    flat, carol, lone = tmp_path / "flat", tmp_path / "nested" / "carol", tmp_path / "lone"
    for d in (flat, carol, lone):
        d.mkdir(parents=True)
    for stem in ("alice_90_synthetic", "bob-90_synthetic"):
        nbs._write_ipynb(ex, flat / f"{stem}.ipynb")
    mystery = copy.deepcopy(ex)
    mystery.metadata.pop("mlcourse")
    nbs._write_ipynb(mystery, flat / "mystery.ipynb")
    nbs._write_ipynb(ex, carol / "homework.ipynb")
    nbs._write_ipynb(ex, lone / "mine.ipynb")
    subs, errors = collect([flat, tmp_path / "nested"], sorted(keys.glob("*.py")))
    by = {s.student: s for s in subs}
    assert set(by) == {"alice", "bob", "carol"} and [e.path.name for e in errors] == ["mystery.ipynb"]
    assert all(s.key.name == f"{NAME}.py" for s in subs)
    assert by["alice"].source == (flat / "alice_90_synthetic.ipynb").resolve()  # not bob's folder
    assert by["carol"].source == carol.resolve()  # a student's own folder
    assert source_for(flat / "alice_90_synthetic.ipynb", keys / f"{NAME}.py") == (flat / "alice_90_synthetic.ipynb").resolve()
    assert source_for(lone / "mine.ipynb", keys / f"{NAME}.py") == lone.resolve()
    assert source_for(keys / "x.ipynb", keys / f"{NAME}.py") == (keys / "x.ipynb").resolve()  # never the key's folder


def test_a_self_check_survives_loops_and_exits(tmp_path: Path) -> None:
    """Without a key (a student's own run): the same sandbox and limits, one question per casualty."""
    from mlcourse.course.grade import self_check
    from mlcourse.course.sandbox import Sandbox

    cells = ["from mlcourse.grading import check",
             "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
             'with check("Q1 after a loop", hint="h"):\n    assert True',
             "import os\nos._exit(1)",
             'with check("Q2 after an exit", hint="h"):\n    assert True',
             'with check("Q3 in a loop", hint="h"):\n    while True:\n        pass']
    path = tmp_path / "mine.ipynb"
    nbs._write_ipynb(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), path)
    before = path.read_bytes()
    g = self_check(path, Limits(cell_timeout=3, notebook_timeout=60), Sandbox.choose())
    assert [(r.question, r.passed, r.status) for r in g.results] == [
        ("Q1 after a loop", True, "passed"), ("Q2 after an exit", True, "passed"), ("Q3 in a loop", False, "timed out")]
    assert g.results[2].note.startswith("timed out") and path.read_bytes() == before


def test_a_submission_cannot_start_more_processes_than_allowed(tmp_path: Path) -> None:
    """Where the grader may make a control group (as root, as in CI), all of a submission's processes
    share one limit, and all of them end with it (a bounded stand-in for a fork bomb)."""
    from mlcourse.course.sandbox import Cgroup, Sandbox
    from mlcourse.course.verdict import Student

    probe = Cgroup.create(Limits())
    if probe is None:
        pytest.skip("no control group here (not root, or no writable cgroup file system)")
    probe.close()
    path = tmp_path / "forks.ipynb"
    nbs._write_ipynb(nbformat.v4.new_notebook(), path)
    student = Student(Sandbox.choose(), path, path.name, Limits(cell_timeout=60, processes=16),
                      time.monotonic() + 120, [], None, None)
    try:
        cmd = student.wait(student.exec(
            "import os, time\nstarted = 0\nfor _ in range(40):\n    try:\n        pid = os.fork()\n"
            "    except OSError:\n        continue\n    if pid == 0:\n        time.sleep(30)\n        os._exit(0)\n"
            "    started += 1"))
        started = student.fetch(["started"])["started"]
        assert cmd.status == "ok" and 0 < started < 16
        alive = student.cgroup.pids()
    finally:
        student.close()
    assert alive and not [p for p in alive if _running(p)]  # the sleepers were ended


def test_timeout_must_be_positive(tmp_path: Path) -> None:
    for flag in ("--timeout", "--notebook-timeout", "--memory"):
        for bad in ("0", "-5"):
            done = subprocess.run([sys.executable, "-m", "mlcourse.course.cli", "grade", "x.ipynb", flag, bad],
                                  capture_output=True, text=True, cwd=tmp_path, timeout=120)
            assert done.returncode == 2 and "must be a positive number" in done.stderr, (flag, bad, done.stderr)
    with pytest.raises(ValueError):
        Limits(cell_timeout=0)


# ------------------------------------------------------------------------------------- exercise 00

WRONG_00 = {  # the plausible mistakes of tests/test_answers_00.py
    "eta_max": "h = 4.0\neta_max = 1.0 / h",
    "steps_to_tolerance": ("def steps_to_tolerance(eta, h, w0=1.0, tol=1e-6):\n    steps, w = 0, w0\n"
                           "    while True:\n        w, steps = (1.0 - eta * h) * w, steps + 1\n"
                           "        if abs(w) < tol:\n            return steps + 1\n"),
    "answer": 'answer = "c"',
}


def test_exercise_00_with_its_key(tmp_path: Path) -> None:
    """The course's own exercise: the executed solution earns 3/3, the stub and the wrong answers 0."""
    ex = nbs.read(ROOT / "exercises" / "00_start_here.ipynb")
    for name, nb in {"stub": ex, "wrong": _with_answers(ex, WRONG_00)}.items():
        (tmp_path / name).mkdir()
        nbs._write_ipynb(nb, tmp_path / name / "00_start_here.ipynb")
    (tmp_path / "solution").mkdir()
    (tmp_path / "solution" / "00_start_here.ipynb").write_bytes((ROOT / "solutions" / "00_start_here.ipynb").read_bytes())
    subs, errors = collect([tmp_path], [ROOT / "solutions" / "00_start_here.py"])
    graded = {g.student: g for g in grade_all(subs, Limits(cell_timeout=120, notebook_timeout=300), jobs=2)}
    assert not errors and {s: (g.score, g.max_score) for s, g in graded.items()} == \
        {"solution": (3, 3), "stub": (0, 3), "wrong": (0, 3)}, {s: g.results for s, g in graded.items()}
    assert all("not answered yet" in r.note for r in graded["stub"].results)


@pytest.mark.skipif(not os.environ.get("MLCOURSE_GRADE_ALL_SOLUTIONS"),
                    reason="grades every solution notebook with its key (minutes): set MLCOURSE_GRADE_ALL_SOLUTIONS=1")
def test_every_solution_earns_full_marks_under_its_key() -> None:
    subs, errors = collect(sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")),
                           sorted((ROOT / "solutions").glob("[0-9][0-9]_*.py")))
    graded = grade_all(subs, Limits(cell_timeout=300, notebook_timeout=900), jobs=2)
    assert not errors
    for g in graded:
        assert not g.error and g.score == g.max_score > 0, (g.assignment, g.results)
