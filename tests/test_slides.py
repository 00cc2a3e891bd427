"""Every lecture is a deck: slide metadata on every cell, and an offline reveal.js export with ≥ 5
slides (00 excepted), code hidden unless tagged, no network. The exported decks land in build/slides/
for the browser tests (tests/e2e/test_decks.py)."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from mlcourse.course import notebooks as nbs
from mlcourse.course.slides import export_all, export_deck, offline_markdown

ROOT = nbs.repo_root(Path(__file__).parent)
LECTURES = [p.stem for p in sorted((ROOT / "lectures").glob("[0-9][0-9]_*.py"))]
DECKS = ROOT / "build" / "slides"
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}


class _Slides(HTMLParser):
    """Counts top-level slides (sections directly under .slides) and external resources."""

    def __init__(self) -> None:
        super().__init__()
        self.depth, self.in_slides, self.slides, self.external = 0, False, 0, []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "div" and "slides" in (a.get("class") or "").split():
            self.in_slides = True
        if tag == "section" and self.in_slides:
            self.depth += 1
            self.slides += self.depth == 1
        url = a.get("src") if tag == "script" else a.get("href") if tag == "link" else None
        if url and url.startswith(("http:", "https:", "//")):
            self.external.append(url)

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self.in_slides:
            self.depth -= 1


def count_slides(html: str) -> _Slides:
    parser = _Slides()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("name", LECTURES)
def test_every_cell_has_slide_metadata(name: str) -> None:
    nb = nbs.read(ROOT / "lectures" / f"{name}.py")
    missing = [i for i, c in enumerate(nb.cells) if c.metadata.get("slideshow", {}).get("slide_type") not in SLIDE_TYPES]
    assert not missing, f"lectures/{name}.py: cells without slideshow.slide_type: {missing}"
    assert nb.cells[0].metadata["slideshow"]["slide_type"] == "slide", "the first cell is the title slide"


def test_every_lecture_exports_to_an_offline_deck() -> None:
    decks = export_all(ROOT, LECTURES, DECKS)
    assert [d.name for d in decks] == [f"{n}.slides.html" for n in LECTURES]
    for deck in decks:
        parsed = count_slides(deck.read_text())
        assert not parsed.external, f"{deck.name} loads {parsed.external} from the network"
        minimum = 1 if deck.name.startswith("00_") else 5
        assert parsed.slides >= minimum, f"{deck.name}: {parsed.slides} slides < {minimum}"
    for asset in ("reveal.js/dist/reveal.js", "reveal.js/dist/theme/white.css", "reveal.js/plugin/notes/notes.js",
                  "mathjax/MathJax.js", "mathjax/config/TeX-AMS-MML_HTMLorMML-full.js"):
        assert (DECKS / "assets" / asset).exists(), asset


def _code_cell(source: str, tags: list[str]) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": tags, "slideshow": {"slide_type": "slide"}})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="the output\n")]
    return cell


def test_a_deck_hides_code_unless_the_cell_is_tagged_show_input(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[_code_cell("hidden_marker = 1", []),
                                         _code_cell("shown_marker = 2", ["show-input"])])
    nbformat.write(nb, tmp_path / "demo.ipynb")
    html = export_deck(tmp_path / "demo.ipynb", tmp_path).read_text()
    assert "shown_marker" in html and "hidden_marker" not in html
    assert "the output" in html


def test_a_badge_image_becomes_a_text_link() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/a/b/HEAD)")])
    assert offline_markdown(nb).cells[0].source == "[open in Binder](https://mybinder.org/v2/gh/a/b/HEAD)"


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlcourse.course.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_slides_for_an_unknown_lecture_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    done = _cli("slides", "42", "--out", str(tmp_path / "decks"))
    assert done.returncode == 2 and "no lecture '42'" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "decks").exists()


def test_missing_assets_are_one_line_not_a_traceback(tmp_path: Path) -> None:
    # the slides extra is absent: its package cannot be found
    code = ("import sys, importlib.util as u; real = u.find_spec; "
            "u.find_spec = lambda n, *a: None if n == 'sphinx_revealjs' else real(n, *a); "
            "from mlcourse.course.cli import main; sys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", code, "slides", "00", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 and "pip install -e '.[slides]'" in done.stderr
