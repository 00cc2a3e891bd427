"""The notebook pipeline: pairs in sync and executed, exercises fresh and answer-free, generation rules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mlcourse.course import notebooks as nbs

ROOT = nbs.repo_root(Path(__file__).parent)
TOPICS = nbs.topics(ROOT)
MAX_BYTES = 2_000_000


@pytest.mark.parametrize("name", TOPICS)
def test_sources_notebooks_and_exercises_in_sync(name: str) -> None:
    found = nbs.problems(ROOT, name)
    assert not found, "\n".join(found)


def _solution_lines(source: str) -> list[str]:
    lines = []
    for m in nbs.SOLUTION_RE.finditer(source):
        for line in m[0].splitlines()[1:-1]:
            text = line.strip()
            if len(text) >= 8 and not text.startswith("#"):
                lines.append(text)
    return lines


@pytest.mark.parametrize("name", [n for n in TOPICS if (ROOT / "solutions" / f"{n}.py").exists()])
def test_no_solution_line_in_exercise(name: str) -> None:
    answers = _solution_lines((ROOT / "solutions" / f"{name}.py").read_text())
    assert answers, f"solutions/{name}.py has no ### BEGIN SOLUTION regions"
    for suffix in (".py", ".ipynb"):
        text = "\n".join(c.source for c in nbs.read(ROOT / "exercises" / f"{name}{suffix}").cells)
        leaked = [a for a in answers if a in text]
        assert not leaked, f"exercises/{name}{suffix} contains solution lines: {leaked[:3]}"


@pytest.mark.parametrize("path", sorted(ROOT.glob("*/[0-9][0-9]_*.ipynb")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_small_and_has_kernelspec(path: Path) -> None:
    assert path.stat().st_size <= MAX_BYTES, f"{path.name} is {path.stat().st_size / 1e6:.1f} MB > 2 MB"
    assert nbformat.read(path, as_version=4).metadata["kernelspec"]["name"] == "python3"


SOLUTION_SOURCE = '''# %% [markdown]
# Intro.

# %%
def f(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION

# %%
### BEGIN SOLUTION
answer = "secret-answer"
### END SOLUTION

# %% tags=["check"]
with check("Q1", hint="h"):
    assert f(1) == 2
    ### BEGIN HIDDEN CHECKS
    assert f(2) == 4
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# The worked answer.
'''


def _solution_nb(text: str) -> nbformat.NotebookNode:
    import jupytext

    return jupytext.reads(text, fmt="py:percent")


def test_make_exercise_stubs_answers_and_drops_hidden_parts() -> None:
    ex = nbs.make_exercise(_solution_nb(SOLUTION_SOURCE), "99_demo")
    sources = [c.source for c in ex.cells]
    text = "\n".join(sources)
    assert "return 2 * x" not in text and "secret-answer" not in text
    assert "f(2) == 4" not in text and "HIDDEN" not in text and "worked answer" not in text
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()" in sources[2]
    assert sources[3].startswith("# YOUR CODE HERE: replace each ... with your answer\nanswer = ...\n")
    assert "assert f(1) == 2" in sources[4]
    assert "mlcourse grade work/99_demo.ipynb" in sources[0]
    assert ex.metadata["mlcourse"]["fingerprint"] == nbs.fingerprint(ex)


@pytest.mark.parametrize("broken, why", [
    (SOLUTION_SOURCE.replace("    ### END SOLUTION\n", "", 1), "unbalanced"),
    ('# %%\nwith check("Q", hint="h"):\n    ### BEGIN HIDDEN CHECKS\n    assert 1\n    ### END HIDDEN CHECKS\n',
     "not valid Python"),
])
def test_make_exercise_rejects_bad_markers(broken: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        nbs.make_exercise(_solution_nb(broken), "99_demo")


@pytest.fixture()
def course_copy(tmp_path: Path) -> Path:
    """A course checkout with only topic 00, built without execution (fast)."""
    for kind in ("lectures", "solutions"):
        (tmp_path / kind).mkdir()
        shutil.copy(ROOT / kind / "00_start_here.py", tmp_path / kind)
    nbs.build(tmp_path, "00_start_here", execute_notebooks=False, log=lambda *_: None)
    return tmp_path


def test_edited_solution_source_is_reported_with_the_fix(course_copy: Path) -> None:
    src = course_copy / "solutions" / "00_start_here.py"
    src.write_text(src.read_text().replace("eta_max = 2.0 / h", "eta_max = 2.0 / h  # edited"))
    found = nbs.problems(course_copy, "00_start_here")
    assert any("solutions/00_start_here.py and 00_start_here.ipynb are out of sync" in p for p in found), found
    assert not any(p.startswith("exercises/") for p in found)  # only an answer line changed
    assert all("mlcourse build 00" in p for p in found)


def test_unexecuted_notebook_is_reported(course_copy: Path) -> None:
    found = nbs.problems(course_copy, "00_start_here")  # built with execute_notebooks=False
    assert any("never executed" in p for p in found)


def test_stale_exercise_is_reported(course_copy: Path) -> None:
    src = course_copy / "solutions" / "00_start_here.py"
    src.write_text(src.read_text().replace("Three warm-up questions", "Three questions"))
    assert any(p.startswith("exercises/00_start_here.py is stale") for p in nbs.problems(course_copy, "00_start_here"))


def test_build_refuses_to_overwrite_an_edited_exercise(course_copy: Path) -> None:
    ex_path = course_copy / "exercises" / "00_start_here.ipynb"
    ex = nbformat.read(ex_path, as_version=4)
    ex.cells[3].source += "\neta_max = 0.5  # my answer"
    nbformat.write(ex, ex_path)
    before = ex_path.read_bytes()
    with pytest.raises(PermissionError, match="was edited after it was generated.*--force"):
        nbs.build(course_copy, "00_start_here", execute_notebooks=False, log=lambda *_: None)
    assert ex_path.read_bytes() == before
    nbs.build(course_copy, "00_start_here", execute_notebooks=False, force=True, log=lambda *_: None)
    assert "my answer" not in ex_path.read_text()


def test_start_copies_an_exercise_into_work_and_never_overwrites_it(course_copy: Path) -> None:
    path, created = nbs.start_exercise(course_copy, "00_start_here")
    assert created and path == course_copy / "work" / "00_start_here.ipynb"
    assert path.read_bytes() == (course_copy / "exercises" / "00_start_here.ipynb").read_bytes()
    assert 'formats = "ipynb"' in (course_copy / "work" / "jupytext.toml").read_text()  # no .py twin on save
    path.write_text(path.read_text().replace("eta_max = ...", "eta_max = 0.5  # my answer"))
    mine = path.read_bytes()
    assert nbs.start_exercise(course_copy, "00_start_here") == (path, False)
    assert path.read_bytes() == mine


def test_a_students_work_survives_build_force_byte_for_byte(course_copy: Path) -> None:
    path, _ = nbs.start_exercise(course_copy, "00_start_here")
    path.write_text(path.read_text().replace("eta_max = ...", "eta_max = 0.5  # my answer"))
    mine = path.read_bytes()
    nbs.build(course_copy, "00_start_here", execute_notebooks=False, force=True, log=lambda *_: None)
    assert path.read_bytes() == mine
    assert sorted(p.name for p in (course_copy / "work").iterdir()) == ["00_start_here.ipynb", "jupytext.toml"]


def test_the_workspace_is_ignored_by_git() -> None:
    assert "work/" in (ROOT / ".gitignore").read_text().split()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlcourse.course.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_start_cli_makes_the_copy_and_refuses_unknown_numbers(course_copy: Path) -> None:
    done = _cli("start", "00", "--no-lab", cwd=course_copy)
    assert done.returncode == 0 and "made your copy work/00_start_here.ipynb" in done.stdout
    again = _cli("start", "00", "--no-lab", cwd=course_copy)
    assert again.returncode == 0 and "(kept as it is)" in again.stdout
    bad = _cli("start", "42", "--no-lab", cwd=course_copy)
    assert bad.returncode == 2 and "no lecture '42'" in bad.stderr and "Traceback" not in bad.stderr
