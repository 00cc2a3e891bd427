"""Every lecture is a deck: slide metadata on every cell, and an offline reveal.js export with ≥ 5
slides (00 excepted). The exported decks land in build/slides/ for the browser tests."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from mlcourse.course import notebooks as nbs
from mlcourse.course.slides import export_all

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
        for asset in ("reveal.js/dist/reveal.js", "requirejs/require.js", "mathjax/MathJax.js"):
            assert (DECKS / "assets" / asset).exists(), asset
