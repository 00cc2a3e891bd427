"""Decks as an instructor presents them, in Chromium at 1280×720.

- Offline deck (`mlcourse slides`): opened from disk with every network request blocked, every slide
  of every lecture fits the 1280×720 slide (with all its fragments shown), nothing is clipped, no
  request leaves the machine, and the math is typeset.
- Live deck (`mlcourse present`): Voilà runs the lecture and serves it as slides; moving a slider on the
  widget's slide redraws its figure.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page

from mlcourse.course import notebooks as nbs
from mlcourse.course.slides import HEIGHT, PRESENT_PATH, WIDTH, copy_assets, export_all, export_deck, voila_command

ROOT = Path(__file__).resolve().parents[2]
LECTURES = [p.stem for p in sorted((ROOT / "lectures").glob("[0-9][0-9]_*.ipynb"))]

MATH_RE = re.compile(r"\$\$.+?\$\$|(?<![\\$])\$[^$\n]+?\$", re.S)  # display and inline formulas
SLIDES_JS = "() => Reveal.getSlides().map(s => { const i = Reveal.getIndices(s); return [i.h, i.v || 0]; })"
MEASURE_JS = """([h, v]) => {
  Reveal.slide(h, v, 1000);  // every fragment shown: the fullest state of the slide
  const box = document.querySelector('.reveal .slides').getBoundingClientRect();
  const scale = Reveal.getScale(), slide = Reveal.getCurrentSlide();
  let bottom = 0, right = 0;
  slide.querySelectorAll('*').forEach(e => {
    if (e.closest('aside.notes')) return;
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) { bottom = Math.max(bottom, r.bottom); right = Math.max(right, r.right); }
  });
  const clipped = [...slide.querySelectorAll('pre, .jp-OutputArea-output, table, .MathJax_Display')]
    .filter(e => e.scrollWidth > e.clientWidth + 2).map(e => e.tagName + ': ' + e.textContent.slice(0, 60));
  return {height: (bottom - box.top) / scale, width: (right - box.left) / scale, clipped,
          title: (slide.querySelector('h1, h2, h3') || {textContent: slide.textContent}).textContent.trim().slice(0, 60)};
}"""


def _open_offline(page: Page, deck: Path) -> list[str]:
    """Open a deck from disk with every network request refused; returns the refused URLs."""
    refused: list[str] = []

    def route(r):
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    page.goto(deck.as_uri())
    page.wait_for_selector(".reveal.ready", timeout=60_000)
    page.wait_for_selector("body.mathjax-typeset", state="attached", timeout=60_000)  # the first pass is done
    return refused


def overflowing_slides(page: Page) -> list[str]:
    """Every slide of the open deck that does not fit WIDTH × HEIGHT or clips content."""
    bad = []
    for h, v in page.evaluate(SLIDES_JS):
        m = page.evaluate(MEASURE_JS, [h, v])
        if m["height"] > HEIGHT + 2 or m["width"] > WIDTH + 2 or m["clipped"]:
            bad.append(f"slide {h}.{v} ({m['title']!r}): {m['width']:.0f}×{m['height']:.0f} px"
                       + (f", clipped {m['clipped']}" if m["clipped"] else ""))
    return bad


@pytest.fixture(scope="module")
def decks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("decks")
    return {d.name.removesuffix(".slides.html"): d for d in export_all(ROOT, LECTURES, out)}


@pytest.mark.parametrize("name", LECTURES)
def test_every_slide_fits_offline_with_math_typeset(page: Page, decks: dict[str, Path], name: str) -> None:
    refused = _open_offline(page, decks[name])
    formulas = sum(len(MATH_RE.findall(c.source)) for c in nbs.read(ROOT / "lectures" / f"{name}.ipynb").cells
                   if c.cell_type == "markdown" and "notes" != c.metadata.get("slideshow", {}).get("slide_type"))
    typeset = page.evaluate("() => document.querySelectorAll('.reveal .slides .MathJax, .reveal .slides .MathJax_Display').length")
    errors = page.evaluate("() => document.querySelectorAll('.MathJax_Error, merror').length")
    assert errors == 0 and typeset >= formulas, f"deck {name}: {typeset} of ≥ {formulas} formulas typeset, {errors} errors"
    bad = overflowing_slides(page)
    assert not bad, f"deck {name}: {len(bad)} slide(s) do not fit {WIDTH}×{HEIGHT}:\n" + "\n".join(bad)
    assert not refused, f"deck {name} asked the network for {refused}"


def test_the_fit_check_finds_an_overflowing_slide(page: Page, tmp_path: Path) -> None:
    long = "\n".join(f"- point {i}: a sentence long enough to take a line of its own" for i in range(40))
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Fits", metadata={"slideshow": {"slide_type": "slide"}}),
        nbformat.v4.new_markdown_cell(f"## Too long\n{long}", metadata={"slideshow": {"slide_type": "slide"}})])
    nbformat.write(nb, tmp_path / "long.ipynb")
    copy_assets(tmp_path)
    _open_offline(page, export_deck(tmp_path / "long.ipynb", tmp_path))
    bad = overflowing_slides(page)
    assert len(bad) == 1 and "Too long" in bad[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PLOT_HASH_JS = """(el) => { const img = el.querySelector('img'); const s = img ? img.src : el.innerText;
  let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return h; }"""


def test_a_slider_on_a_live_slide_redraws_its_figure(page: Page, tmp_path: Path) -> None:
    name = "00_start_here"
    copy_assets(ROOT / "build" / "slides")
    port = _free_port()
    cmd, env = voila_command(ROOT, name, port=port)
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    log = (tmp_path / "voila.log").open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/", timeout=5)  # Voilà's file tree: the server is up
                break
            except urllib.error.HTTPError:
                break  # the server answers
            except OSError:
                assert proc.poll() is None and time.time() < deadline, (tmp_path / "voila.log").read_text()[-3000:]
                time.sleep(0.3)
        external: list[str] = []
        page.on("request", lambda r: external.append(r.url)
                if not r.url.startswith((base, "data:", "blob:")) else None)
        page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
        page.goto(f"{base}/voila/render/{PRESENT_PATH.format(name=name)}", timeout=180_000)
        page.wait_for_function("() => { const r = document.querySelector('#rendered_cells');"
                               " return r && getComputedStyle(r).display !== 'none'"
                               " && document.querySelector('.reveal.ready') !== null; }", timeout=180_000)
        live = "section.present:not(.stack) .mlcourse-live"
        for _ in range(60):  # the presenter's way: space until the widget's slide
            if page.locator(live).count():
                break
            page.keyboard.press("Space")
            time.sleep(0.3)
        view = page.locator(live).first
        handle = view.locator(".noUi-handle").first
        assert handle.get_attribute("aria-label") == "learning rate η"
        where, before = page.evaluate("location.hash"), view.evaluate(PLOT_HASH_JS)
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"(el) => ({PLOT_HASH_JS})(el) !== {before}", arg=view.element_handle(),
                               timeout=10_000)
        assert page.evaluate("location.hash") == where, "the arrow key moved the slide, not the slider"
        assert not external, f"the live deck asked the network for {external}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
