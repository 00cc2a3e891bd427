"""The command line refuses bad arguments first, in one line, and never loses work while refusing:
unknown lecture numbers, no checkout, an edited or already-run exercise, a .py exercise without its
.ipynb, a notebook that breaks the format, missing offline assets, a port that is not one."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from mlcourse.course import cli
from mlcourse.course import notebooks as nbs

ROOT = nbs.repo_root(Path(__file__).parent)
NAME = "00_start_here"


def _cli(*args: str, cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlcourse.course.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.fixture()
def checkout(tmp_path: Path) -> Path:
    """A course checkout holding topic 00 as committed: executed lecture and solution, fresh exercise."""
    for kind in ("lectures", "solutions", "exercises"):
        (tmp_path / kind).mkdir()
        for suffix in (".py", ".ipynb"):
            shutil.copy(ROOT / kind / f"{NAME}{suffix}", tmp_path / kind)
    shutil.copy(ROOT / "jupytext.toml", tmp_path)
    return tmp_path


@pytest.mark.parametrize("args", [("build", "99"), ("check", "99"), ("slides", "42"), ("build", "00", "99"),
                                  ("check", "7")])
def test_unknown_lecture_numbers_exit_2_in_one_line_and_touch_nothing(checkout: Path, args: tuple) -> None:
    before = _digest(checkout)
    done = _cli(*args, cwd=checkout)
    assert done.returncode == 2
    assert _one_line(done.stderr).startswith(f"mlcourse {args[0]}: no lecture '")
    assert "the lectures are 00" in done.stderr
    assert _digest(checkout) == before


@pytest.mark.parametrize("args", [("build", "00"), ("check",), ("slides", "00"), ("lab",), ("site",),
                                  ("start", "00", "--no-lab"), ("release", "students")])
def test_outside_a_checkout_every_command_says_why(tmp_path: Path, args: tuple) -> None:
    done = _cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    line = _one_line(done.stderr)
    assert line.startswith(f"mlcourse {args[0]}: no course checkout") and "inside a clone of the course" in line
    assert not any(tmp_path.iterdir())


def _edit_exercise(checkout: Path) -> None:
    path = checkout / "exercises" / f"{NAME}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[3].source += "\neta_max = 0.5  # my answer"
    nbformat.write(nb, path)


def test_build_no_execute_refuses_before_stripping_any_output(checkout: Path) -> None:
    _edit_exercise(checkout)
    before = _digest(checkout)
    done = _cli("build", "00", "--no-execute", cwd=checkout)
    assert done.returncode == 1
    assert "refusing to overwrite: exercises/00_start_here.ipynb was edited" in _one_line(done.stderr)
    assert _digest(checkout) == before  # the executed lecture and solution keep their outputs
    lecture = nbformat.read(checkout / "lectures" / f"{NAME}.ipynb", as_version=4)
    assert any(c.get("outputs") for c in lecture.cells if c.cell_type == "code")


def test_build_never_overwrites_an_edited_exercise_py_without_its_ipynb(checkout: Path) -> None:
    (checkout / "exercises" / f"{NAME}.ipynb").unlink()
    py = checkout / "exercises" / f"{NAME}.py"
    py.write_text(py.read_text().replace("eta_max = ...", "eta_max = 0.5  # my answer"))
    before = _digest(checkout)
    with pytest.raises(PermissionError, match=r"exercises/00_start_here.py was edited after it was generated "
                                              r"\(and its 00_start_here.ipynb is missing\).*--force"):
        nbs.build(checkout, NAME, execute_notebooks=False, log=lambda *_: None)
    assert _digest(checkout) == before
    assert "my answer" in py.read_text()


def test_an_untouched_exercise_py_without_its_ipynb_is_regenerated(checkout: Path) -> None:
    (checkout / "exercises" / f"{NAME}.ipynb").unlink()
    nbs.build(checkout, NAME, execute_notebooks=False, log=lambda *_: None)
    assert (checkout / "exercises" / f"{NAME}.ipynb").exists()


def test_build_never_drops_the_outputs_of_an_exercise_someone_ran(checkout: Path) -> None:
    path = checkout / "exercises" / f"{NAME}.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells[code].outputs = [nbformat.v4.new_output("stream", name="stdout", text="my run\n")]
    nb.cells[code].execution_count = 1
    nbformat.write(nb, path)
    before = _digest(checkout)
    done = _cli("build", "00", "--no-execute", cwd=checkout)
    assert done.returncode == 1
    assert f"exercises/{NAME}.ipynb holds outputs (it was run; cells [{code}])" in _one_line(done.stderr)
    assert _digest(checkout) == before
    nbs.build(checkout, NAME, execute_notebooks=False, force=True, log=lambda *_: None)
    assert "my run" not in path.read_text()


def _break_schema(path: Path) -> None:
    nb = json.loads(path.read_text())
    nb["cells"][2]["source"] = 5
    path.write_text(json.dumps(nb))


@pytest.mark.parametrize("kind, args", [("lectures", ("check", "00")), ("exercises", ("check", "00")),
                                        ("exercises", ("build", "00", "--no-execute")),
                                        ("lectures", ("slides", "00"))])
def test_a_notebook_that_breaks_the_format_gets_one_line(checkout: Path, kind: str, args: tuple) -> None:
    _break_schema(checkout / kind / f"{NAME}.ipynb")
    before = _digest(checkout)
    done = _cli(*args, cwd=checkout)
    assert done.returncode == 1
    line = _one_line(done.stderr)
    assert line == (f"mlcourse {args[0]}: {checkout / kind / NAME}.ipynb breaks the notebook format at "
                    f"cells[2].source: 5 is not valid there"), line
    assert {k: v for k, v in _digest(checkout).items() if not k.startswith("build/")} == before


def test_unreadable_json_gets_one_line(checkout: Path) -> None:
    (checkout / "lectures" / f"{NAME}.ipynb").write_text("{ not json")
    done = _cli("check", "00", cwd=checkout)
    assert done.returncode == 1
    assert "is not a readable notebook" in _one_line(done.stderr)


def test_missing_offline_assets_fail_fast_in_one_line(checkout: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture) -> None:
    from mlcourse.course import slides

    monkeypatch.setattr(slides, "ASSETS", {"reveal.js": ("no_such_package_for_mlcourse", "static")})
    monkeypatch.chdir(checkout)
    start = time.perf_counter()
    assert cli.main(["slides", "00"]) == 1
    assert time.perf_counter() - start < 5
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("mlcourse slides: decks need reveal.js and MathJax from the slides extra")
    assert "no_such_package_for_mlcourse" in line
    assert not (checkout / "build" / "slides" / f"{NAME}.slides.html").exists()


def test_slides_of_an_unbuilt_lecture_say_so(checkout: Path) -> None:
    (checkout / "lectures" / f"{NAME}.ipynb").unlink()
    done = _cli("slides", "00", cwd=checkout)
    assert done.returncode == 1
    assert _one_line(done.stderr) == ("mlcourse slides: lectures/00_start_here.ipynb does not exist: build it "
                                      "first with `mlcourse build 00`")


@pytest.mark.parametrize("args", [("lab", "--port", "99999"), ("start", "00", "--port", "-1"),
                                  ("present", "00", "--port", "http")])
def test_a_port_that_is_not_one_is_refused_before_anything_starts(checkout: Path, args: tuple) -> None:
    done = _cli(*args, cwd=checkout)
    assert done.returncode == 2 and "is not a port number" in done.stderr and "Traceback" not in done.stderr
    assert not (checkout / "work").exists()
