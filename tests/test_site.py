"""The course website's pieces that need no browser, and the Colab install cell.

- staging: speaker notes and the Colab cell go, set-up code collapses, a live widget keeps its
  static figure and gains a "run this live" box, a plotly figure becomes a div that plotly.js
  draws, external images go (the site must load nothing from the internet);
- the leak scan finds a solution line planted in a page and nothing in a clean one;
- every lecture's first code cell is exactly the Colab cell, which does nothing off Colab and, in a
  fresh virtual environment standing in for a Colab runtime, installs the course from this
  repository and imports it without touching the preinstalled torch.
The built site itself is tested in a real browser: tests/e2e/test_site_browser.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import jupytext
import nbformat
import pytest

from mlcourse.course import site

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "lectures").glob("[0-9][0-9]_*.py"))


def _code(source: str, outputs=(), **meta) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, metadata=meta)
    cell.outputs, cell.execution_count = list(outputs), 1
    return cell


def _md(source: str, **meta) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(source, metadata=meta)


def _display(data: dict) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data=data)


PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
WIDGET = {"model_id": "abc", "version_major": 2, "version_minor": 0}
PLOTLY = {"data": [{"type": "scatter", "x": [0, 1, 2], "y": [1, 0, 1]}], "layout": {"title": {"text": "t"}}}


def sample_lecture() -> nbformat.NotebookNode:
    skip, notes = {"slideshow": {"slide_type": "skip"}}, {"slideshow": {"slide_type": "notes"}}
    return nbformat.v4.new_notebook(cells=[
        _md("# 42 · A lecture\n[![Binder](https://mybinder.org/badge_logo.svg)]"
            "(https://mybinder.org/v2/gh/mlcourse/mlcourse/HEAD?urlpath=lab/tree/lectures/42_x.ipynb)\n\n"
            "Some $x^2$ and ![a logo](https://example.org/logo.png)."),
        _code(site.COLAB_CELL, tags=["colab", "remove-cell"], **skip),
        _code("import mlcourse", **skip),
        _md("Only the instructor reads this.", **notes),
        _code("plt.show()", [_display({"image/png": PNG, "text/plain": "<Figure>"})]),
        _code("live(f, a=slider('a', 0, 1, 0.1))",
              [_display({site.WIDGET_MIME: WIDGET, "image/png": PNG, "text/plain": "live f(a=0.5)"})]),
        _code("live(g, b=slider('b', 0, 1, 0.1))",
              [_display({site.WIDGET_MIME: WIDGET, site.PLOTLY_MIME: PLOTLY, "text/plain": "live g(b=0.5)"})]),
        _code("fig.show()", [_display({site.PLOTLY_MIME: PLOTLY, "text/html": "<script src='https://cdn.plot.ly/x.js'>"})]),
        _code("print('hello')", [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]),
    ])


def test_staging_a_lecture() -> None:
    nb = sample_lecture()
    page = site.Page("lectures", "42_x", "42 · A lecture", colab=True)
    staged = site.stage_notebook(nb, page, "someone/course", "main")
    sources = [c.source for c in staged.cells]
    text = json.dumps(staged.cells)

    assert not any("instructor" in s for s in sources), "speaker notes must not reach the site"
    assert not any("google.colab" in s for s in sources), "the Colab cell is for Colab, not the page"
    assert "badge_logo" not in text and "example.org" not in text and "cdn.plot.ly" not in text
    assert "[a logo]" not in sources[0] and "a logo" in sources[0]  # the alt text stays, as text
    setup = next(c for c in staged.cells if c.source == "import mlcourse")
    assert "hide-input" in setup.metadata["tags"]

    links = site.launch_links("lectures/42_x.ipynb", "someone/course", "main")
    assert links == {
        "binder": "https://mybinder.org/v2/gh/someone/course/main?urlpath=lab/tree/lectures/42_x.ipynb",
        "colab": "https://colab.research.google.com/github/someone/course/blob/main/lectures/42_x.ipynb"}
    assert staged.cells[1].source.count('href="') == 2 and links["colab"] in staged.cells[1].source

    outputs = [o for c in staged.cells if c.cell_type == "code" for o in c.outputs]
    assert not any(site.WIDGET_MIME in o.get("data", {}) for o in outputs), "widget views need a kernel"
    boxes = [o for o in outputs if "mlcourse-run-live" in o.get("data", {}).get("text/html", "")]
    assert len(boxes) == 2 and all(links["binder"] in b.data["text/html"] for b in boxes)
    plots = [o for o in outputs if "Plotly.newPlot" in o.get("data", {}).get("text/html", "")]
    assert len(plots) == 2 and not any(site.PLOTLY_MIME in o.get("data", {}) for o in outputs)
    assert (page.figures, page.plotly, page.live) == (2, 2, 2)
    # the widget's static figure comes first, then its box: the box says "the figure above"
    live_cell = next(c for c in staged.cells if c.source.startswith("live(f"))
    assert list(live_cell.outputs[0].data) == ["image/png", "text/plain"]
    assert "figure above" in live_cell.outputs[1].data["text/html"]


def test_staging_without_colab_cell_offers_no_colab_link() -> None:
    """Exercises (generated from solutions) have no Colab install cell: Colab could not import the
    course, so their page links to Binder only."""
    nb = nbformat.v4.new_notebook(cells=[_md("> Instructions first."), _md("# 42 · A lecture — exercises"),
                                         _code("x = ...")])
    page = site.Page("exercises", "42_x", "t", colab=False)
    staged = site.stage_notebook(nb, page)
    assert staged.cells[0].source.startswith("# 42"), "the page's title comes first"
    assert "mybinder.org" in staged.cells[1].source and "colab" not in staged.cells[1].source


def _fake_site(tmp_path: Path, body: str) -> Path:
    out = tmp_path / "site"
    (out / "lectures").mkdir(parents=True)
    (out / "lectures" / "01_x.html").write_text(f"<html><body><div class='highlight'>{body}</div></body></html>")
    return out


def test_leak_scan_finds_a_planted_solution_line(tmp_path: Path) -> None:
    fragments = site.solution_fragments(ROOT)
    assert len(fragments) >= 10, "every topic's solutions hold answers"
    # plant one answer line of a real solution, syntax-highlighted the way Pygments splits it
    solution = jupytext.read(sorted((ROOT / "solutions").glob("[0-9][0-9]_*.py"))[1])
    from mlcourse.course.notebooks import SOLUTION_RE

    block = next(m[2] for c in solution.cells if c.cell_type == "code" for m in SOLUTION_RE.finditer(c.source))
    line = max(block.splitlines(), key=lambda l: len(site._norm(l.split("#")[0])))
    assert site._norm(line.split("#")[0]) in fragments
    highlighted = "".join(f"<span class='n'>{tok}</span>" for tok in re.split(r"(\W)", line))
    assert site.leaks(_fake_site(tmp_path / "a", highlighted), ROOT)
    assert site.leaks(_fake_site(tmp_path / "b", "nothing secret here"), ROOT) == []
    bad = _fake_site(tmp_path / "c", "")
    (bad / "solutions").mkdir()
    (bad / "solutions" / "01_x.html").write_text("")
    assert site.leaks(bad, ROOT) == ["solutions/01_x.html: a solutions file"]


def test_the_publishing_workflow_builds_with_the_course_command() -> None:
    import yaml

    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "site.yml").read_text())
    steps = [s for job in flow["jobs"].values() for s in job["steps"]]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "./course site" in runs
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-pages-artifact")]
    assert uploads and uploads[0]["with"]["path"] == "build/site"
    assert any(str(s.get("uses", "")).startswith("actions/deploy-pages") for s in steps)
    assert flow["permissions"]["pages"] == "write" and flow["permissions"]["id-token"] == "write"


# --- the Colab install cell ----------------------------------------------------------------------

@pytest.mark.parametrize("src", LECTURES, ids=[p.stem[:2] for p in LECTURES])
def test_every_lecture_starts_with_the_colab_cell(src: Path) -> None:
    nb = jupytext.read(src)
    first = site.first_code_cell(nb)
    assert first is not None and first.source.strip() == site.COLAB_CELL.strip(), \
        f"{src.name}: the first code cell must be the Colab cell of docs/authoring.md, exactly"
    assert {"colab", "remove-cell"} <= set(first.metadata.get("tags", []))
    assert site.COLAB_CELL in (ROOT / "docs" / "authoring.md").read_text()


def test_colab_cell_does_nothing_off_colab(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    probe = (f"import subprocess, sys\n"
             f"subprocess.run = lambda *a, **k: open({str(marker)!r}, 'w').write(repr(a))\n"
             f"exec({site.COLAB_CELL!r})\n"
             f"print('google.colab' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False" and not marker.exists(), "off Colab the cell must not install"


def _hardlink_tree(src: Path, dst: Path) -> None:
    try:
        shutil.copytree(src, dst, copy_function=os.link, symlinks=True)
    except OSError:  # another file system: copy (slower, same result)
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, symlinks=True)


def _colab_runtime(where: Path) -> tuple[Path, Path]:
    """A fresh venv standing in for a Colab runtime: this environment's packages (torch included)
    preinstalled in a folder of its own (hard links: nothing pip does there reaches our venv), a
    ``google.colab`` module, no mlcourse. Returns (python, the preinstalled folder)."""
    ours = Path(next(p for p in sys.path if p.endswith("site-packages") and Path(p, "torch").is_dir()))
    pre = where / "preinstalled"
    pre.mkdir(parents=True)
    skip = re.compile(r"^(pip|setuptools|_distutils_hack|mlcourse|__editable__|_?_?pycache)|\.pth$", re.I)
    for entry in ours.iterdir():
        if skip.search(entry.name) or entry.name.startswith("__editable__"):
            continue
        if entry.is_dir():
            _hardlink_tree(entry, pre / entry.name)
        else:
            shutil.copy2(entry, pre / entry.name)
    fake = where / "colab-module" / "google" / "colab"
    fake.mkdir(parents=True)
    (fake.parent / "__init__.py").write_text("")
    (fake / "__init__.py").write_text('"""Stands in for Colab\'s google.colab."""\n')
    venv.create(where / "venv", with_pip=True)
    python = where / "venv" / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "colab-preinstalled.pth").write_text(f"import site; site.addsitedir({str(pre)!r})\n")
    return python, pre


def test_colab_cell_installs_the_course_on_a_colab_runtime(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is needed to install the course from the repository as Colab does")
    python, pre = _colab_runtime(tmp_path / "colab")
    torch_init = pre / "torch" / "__init__.py"
    before = torch_init.stat().st_ino
    run_cell = (f"import sys\nsys.path.insert(0, {str(tmp_path / 'colab' / 'colab-module')!r})\n"
                f"import google.colab  # Colab's kernel has imported it before the first cell runs\n"
                f"exec({site.COLAB_CELL!r})\n")
    # Colab installs from GitHub; here from this repository (its committed HEAD), through git the same way
    env = {**os.environ, "MLCOURSE_SOURCE": f"git+file://localhost{ROOT}", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run([str(python), "-c", run_cell], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=900)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    probe = ("import mlcourse, torch\nfrom mlcourse.runtime import get_device\n"
             "print(mlcourse.__file__, torch.__file__, torch.__version__, get_device(), sep='\\n')")
    shown = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert shown.returncode == 0, shown.stderr[-3000:]
    mlcourse_file, torch_file, torch_version, device = shown.stdout.split()
    assert Path(mlcourse_file).is_relative_to(tmp_path / "colab" / "venv"), "installed into the runtime"
    assert Path(torch_file) == torch_init and torch_init.stat().st_ino == before, \
        "the preinstalled torch (Colab's CUDA build) must be kept, not replaced"
    import torch

    assert torch_version == torch.__version__ and device in ("cpu", "cuda")


def test_colab_keeps_a_newer_preinstalled_torch() -> None:
    """pip keeps a preinstalled package only when it satisfies the requirement: the course's own
    torch requirement has no upper bound (the tested range lives in constraints.txt and the test extra)."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    torch_req = next(Requirement(r) for r in requires("mlcourse") if Requirement(r).name == "torch"
                     and Requirement(r).marker is None)
    assert torch_req.specifier.contains("2.14.1") and torch_req.specifier.contains("2.20.0")


def test_staging_copies_images_that_markdown_shows(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "lectures" / "fig").mkdir(parents=True)
    (course / "exercises").mkdir()
    (course / "lectures" / "fig" / "diagram.png").write_bytes(b"png")
    nbformat.write(nbformat.v4.new_notebook(cells=[_md("# 42 · X\n![a diagram](fig/diagram.png)")]),
                   course / "lectures" / "42_x.ipynb")
    cache = tmp_path / "cache" / "mathjax"
    cache.mkdir(parents=True)
    (cache / "tex-chtml.js").write_text("")  # no download: staging only
    pages = site.stage(course, tmp_path / "src", tmp_path / "cache")
    assert [p.name for p in pages] == ["42_x"]
    assert (tmp_path / "src" / "lectures" / "fig" / "diagram.png").read_bytes() == b"png"
    assert "lectures/42_x" in (tmp_path / "src" / "index.md").read_text()
