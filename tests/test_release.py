"""``mlcourse release``: what students receive holds no solution — tested here independently of the
release's own check — and Binder can launch it.

The scan below reads every solution's answers (``### BEGIN/END SOLUTION``), hidden checks and
solution-only cells line by line and looks for each significant line in every file of the release,
notebook sources and outputs included. The one allowance: an answer line may appear in the package's
own Python source (``mlcourse/*.py``), which holds the reference implementations the visible checks
call — a student can read those whatever we ship. Hidden checks and solution-only lines may not
appear anywhere.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlcourse.course import notebooks as nbs
from mlcourse.course.release import MARKER, build_release

ROOT = nbs.repo_root(Path(__file__).parent)
BLOCK_RE = {"answer": re.compile(r"### BEGIN SOLUTION[^\n]*\n(.*?)### END SOLUTION", re.S),
            "hidden": re.compile(r"### BEGIN HIDDEN CHECKS[^\n]*\n(.*?)### END HIDDEN CHECKS", re.S)}


def _secrets() -> dict[str, str]:
    """Significant line → its kind, from every solution; lines also visible in a solution are public."""
    secret, public = {}, set()
    for src in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.py")):
        for cell in nbs.read(src).cells:
            text = cell.source
            if "solution-only" in cell.get("metadata", {}).get("tags", ()):
                found = [("solution-only", text)]
            else:
                found = [(kind, m) for kind, rx in BLOCK_RE.items() for m in rx.findall(text)]
                visible = text
                for rx in BLOCK_RE.values():
                    visible = rx.sub("", visible)
                public |= {line.strip() for line in visible.splitlines()}
            for kind, block in found:
                for line in block.splitlines():
                    s = line.strip().lstrip("#").strip()
                    if len(s) >= 12 and not s.startswith(("with torch.no_grad", "with warnings")):
                        secret.setdefault(s, kind)
    return {s: k for s, k in secret.items() if s not in public}


def _lines(path: Path) -> list[str]:
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        out = []
        for cell in nb["cells"]:
            out += "".join(cell["source"]).splitlines()
            for o in cell.get("outputs", []):
                for v in [o.get("text", "")] + list(o.get("data", {}).values()):
                    out += ("".join(v) if isinstance(v, list) else v if isinstance(v, str) else "").splitlines()
        return out
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return []


def _scan(release: Path, secrets: dict[str, str]) -> list[str]:
    found = []
    for f in sorted(p for p in release.rglob("*") if p.is_file() and ".git" not in p.parts):
        rel = f.relative_to(release)
        reference = rel.parts[0] == "mlcourse" and f.suffix == ".py"
        for line in _lines(f):
            s = line.strip().lstrip("#").strip()
            kind = secrets.get(s)
            if kind and not (kind == "answer" and reference):
                found.append(f"{rel}: {s!r} ({kind})")
    return found


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "students"
    build_release(out, ROOT, binder="myuni/mlcourse-students/main")
    return out


def test_the_release_holds_what_students_need_and_nothing_of_the_instructors(release: Path) -> None:
    top = {p.name for p in release.iterdir()}
    assert {"lectures", "exercises", "mlcourse", "binder", "pyproject.toml", "README.md", "course"} <= top
    assert not top & {"solutions", "tests", "benchmarks", "docs", ".ci", "conftest.py", ".git"}
    for kind in ("lectures", "exercises"):
        assert {p.name for p in (release / kind).iterdir()} == {p.name for p in (ROOT / kind).iterdir()
                                                               if p.suffix in (".py", ".ipynb")}
    for ex in (release / "exercises").iterdir():
        text = ex.read_text()
        assert "HIDDEN CHECKS" not in text and "BEGIN SOLUTION" not in text, ex.name


def test_no_line_of_a_solution_leaks_into_the_release(release: Path) -> None:
    secrets = _secrets()
    kinds = set(secrets.values())
    assert len(secrets) > 100 and {"answer", "hidden", "solution-only"} <= kinds  # the scan has teeth
    assert _scan(release, secrets) == []


def test_the_scan_and_the_release_catch_a_leak(tmp_path: Path, release: Path) -> None:
    secrets = _secrets()
    hidden = next(s for s, k in secrets.items() if k == "hidden")
    answer = next(s for s, k in secrets.items() if k == "answer")
    lecture = next((release / "lectures").glob("*.py"))
    original = lecture.read_text()
    try:
        lecture.write_text(original + f"\n# {answer}\n")
        assert _scan(release, secrets) == [f"lectures/{lecture.name}: {answer!r} (answer)"]
    finally:
        lecture.write_text(original)
    fake = tmp_path / "course"  # a course whose lecture shows a hidden check: the release is refused
    for part in ("lectures", "solutions", "exercises"):
        (fake / part).mkdir(parents=True)
    sol = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.py"))[0]
    (fake / "solutions" / sol.name).write_text(sol.read_text())
    (fake / "lectures" / "00_x.py").write_text(f"# %%\nx = 1\n{hidden}\n")
    with pytest.raises(ValueError, match="would show solution lines"):
        build_release(tmp_path / "out", fake)
    assert not (tmp_path / "out").exists()


def test_binder_can_launch_the_release(release: Path) -> None:
    reqs = (release / "binder" / "requirements.txt").read_text().splitlines()
    assert any(r.startswith(".") for r in reqs) and (release / "pyproject.toml").exists()  # the release itself
    links = re.findall(r"mybinder\.org/v2/gh/myuni/mlcourse-students/main\?urlpath=lab/tree/([\w./-]+)",
                       "\n".join(p.read_text() for p in sorted((release / "lectures").glob("*.py"))))
    assert links and all((release / link).exists() for link in links)
    assert "mlcourse/mlcourse/HEAD" not in (release / "lectures" / "00_start_here.py").read_text()
    plan = subprocess.run([sys.executable, "-m", "repo2docker", "--no-build", "--no-run", "--debug", str(release)],
                          capture_output=True, text=True, timeout=300)
    text = plan.stdout + plan.stderr
    assert plan.returncode == 0, text[-2000:]
    assert text.index("COPY --chown=0:0 src/ ${REPO_DIR}/") < text.index('pip install --no-cache-dir -r "binder/requirements.txt"')


def test_release_command(tmp_path: Path) -> None:
    out = tmp_path / "students"
    first = subprocess.run([sys.executable, "-m", "mlcourse.course.cli", "release", str(out), "--git"],
                           capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "no line of a solution's answers, hidden checks or solution-only cells" in first.stdout
    assert (out / MARKER).exists() and subprocess.run(["git", "-C", str(out), "log", "--oneline"],
                                                      capture_output=True, text=True).stdout.strip()
    with pytest.raises(FileExistsError, match="--force"):
        build_release(out, ROOT)
    build_release(out, ROOT, force=True)  # an earlier release is replaced
    other = tmp_path / "mine"
    other.mkdir()
    (other / "keep.txt").write_text("not a release")
    with pytest.raises(FileExistsError, match="not an earlier release"):
        build_release(other, ROOT, force=True)
    assert (other / "keep.txt").exists()
    with pytest.raises(ValueError, match="over the course checkout"):
        build_release(ROOT, ROOT, force=True)
