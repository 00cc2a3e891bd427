"""The course website in a real browser, with the network cut off.

``mlcourse site`` builds the site from whatever executed notebooks are on disk; it is served on
loopback and Chromium opens the start page and every lecture and exercise page. Any request that
leaves the machine is blocked and fails the test, as do a failed request, an HTTP error and a
console error. What each page must show is counted from its notebook, not written down here:
its figures, its plotly figures (which must answer to hover), its live widgets (each with a "run
this live" box), its math (rendered by MathJax, no TeX errors); speaker notes must be absent, the
previous/next links must follow the reading order, and every launch link must open this page's
notebook on Binder or Colab. No solution text anywhere: ``mlcourse.course.site.leaks``.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlparse

import nbformat
import pytest
from playwright.sync_api import Page

from mlcourse.course import site

ROOT = Path(__file__).resolve().parents[2]
NOTES_MIN_CHARS = 20


def reading_order(root: Path) -> list[tuple[str, Path | None]]:
    """(page, notebook) in the order the previous/next links follow: the start page, then each
    lecture followed by its exercises."""
    pages: list[tuple[str, Path | None]] = [("index.html", None)]
    exercises = {p.stem: p for p in sorted((root / "exercises").glob("[0-9][0-9]_*.ipynb"))}
    for lecture in sorted((root / "lectures").glob("[0-9][0-9]_*.ipynb")):
        pages.append((f"lectures/{lecture.stem}.html", lecture))
        if lecture.stem in exercises:
            ex = exercises.pop(lecture.stem)
            pages.append((f"exercises/{ex.stem}.html", ex))
    return pages + [(f"exercises/{p.stem}.html", p) for p in exercises.values()]


PAGES = reading_order(ROOT)


def expected(nb_path: Path | None) -> dict:
    """What the page of a notebook must show, counted from the notebook itself."""
    if nb_path is None:
        return {"figures": 0, "plotly": 0, "live": 0, "math": False, "notes": [], "setup": 0, "colab": False}
    nb = nbformat.read(nb_path, as_version=4)
    kept = [c for c in nb.cells if c.get("metadata", {}).get("slideshow", {}).get("slide_type") != "notes"
            and not {"remove-cell", "colab"} & set(c.get("metadata", {}).get("tags", []))]
    outputs = [o.get("data", {}) for c in kept if c.cell_type == "code" for o in c.get("outputs", [])]
    first = next((c for c in nb.cells if c.cell_type == "code"), None)
    return {
        "figures": sum(any(k in d for k in site.IMAGE_MIMES) and site.PLOTLY_MIME not in d for d in outputs),
        "plotly": sum(site.PLOTLY_MIME in d for d in outputs),
        "live": sum(site.WIDGET_MIME in d for d in outputs),
        "math": any("$" in c.source for c in kept if c.cell_type == "markdown"),
        "notes": [c.source for c in nb.cells if c.cell_type == "markdown"
                  and c.get("metadata", {}).get("slideshow", {}).get("slide_type") == "notes"],
        "setup": sum(1 for c in kept if c.cell_type == "code" and c.source.strip()
                     and c.get("metadata", {}).get("slideshow", {}).get("slide_type") == "skip"
                     and not {"show-input", "remove-input"} & set(c.get("metadata", {}).get("tags", []))),
        "colab": bool(first is not None and site.is_colab_cell(first)),
    }


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(folder: Path):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    """The site as `mlcourse site` builds it, served on loopback: (base URL, folder)."""
    out = tmp_path_factory.mktemp("site") / "site"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mlcourse.course.cli", "site", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"mlcourse site: {time.perf_counter() - start:.1f} s, {size / 1e6:.1f} MB, {len(PAGES)} pages")
    httpd, base = serve(out)
    yield base, out
    httpd.shutdown()


class Watch:
    """Everything that went wrong while a page loaded: blocked external requests, failed requests,
    HTTP errors, console errors and uncaught exceptions."""

    def __init__(self, page: Page, base: str) -> None:
        self.problems: list[str] = []

        def route(r) -> None:
            url = r.request.url
            if url.startswith(base) or url.startswith(("data:", "blob:")):
                r.continue_()
            else:
                self.problems.append(f"request to the internet: {url}")
                r.abort()
        page.route("**/*", route)
        page.on("requestfailed", lambda r: self.problems.append(f"failed request: {r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))


def visit(page: Page, url: str) -> None:
    page.goto(url, wait_until="load", timeout=60_000)
    page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")


def resolve(page: Page, selector: str) -> str | None:
    link = page.locator(selector)
    if link.count() == 0:
        return None
    return urlparse(urljoin(page.url, link.first.get_attribute("href"))).path.lstrip("/")


def norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


BINDER_RE = re.compile(r"^https://mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/([\w./-]+)\?urlpath=lab/tree/([\w./-]+\.ipynb)$")
COLAB_RE = re.compile(r"^https://colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/blob/([\w.-]+)/([\w./-]+\.ipynb)$")


def check_launch_links(page: Page, nb_path: Path, colab: bool) -> None:
    rel = nb_path.relative_to(ROOT).as_posix()
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    binder = [h for h in hrefs if "mybinder.org" in h]
    colabs = [h for h in hrefs if "colab.research.google.com" in h]
    assert binder, f"{rel}: no Binder link"
    for href in binder:
        m = BINDER_RE.match(href)
        assert m and m.groups() == (site.REPOSITORY, site.BRANCH, rel), f"{rel}: malformed Binder link {href}"
    for href in colabs:
        m = COLAB_RE.match(href)
        assert m and m.groups() == (site.REPOSITORY, site.BRANCH, rel), f"{rel}: malformed Colab link {href}"
    assert bool(colabs) == colab, f"{rel}: a Colab link only where the notebook starts with the Colab cell"
    assert (ROOT / rel).exists()


def check_plotly_hover(page: Page, where: str) -> None:
    plots = page.locator(".js-plotly-plot")
    for i in range(plots.count()):
        plot = plots.nth(i)
        plot.scroll_into_view_if_needed()
        box = plot.locator(".nsewdrag").first.bounding_box()
        assert box, f"{where}: plotly figure {i} was not drawn"
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        try:
            plot.locator(".hoverlayer .hovertext").first.wait_for(state="attached", timeout=3000)
        except Exception:
            pytest.fail(f"{where}: plotly figure {i} shows no hover label")


@pytest.mark.parametrize("index", range(len(PAGES)), ids=[p for p, _ in PAGES])
def test_page(page: Page, built, index: int) -> None:
    base, out = built
    path, nb_path = PAGES[index]
    want = expected(nb_path)
    watch = Watch(page, base)
    visit(page, base + path)

    # previous/next follow the reading order (start page, lecture 00, its exercises, lecture 01, …)
    assert resolve(page, "a.left-prev") == (PAGES[index - 1][0] if index else None), f"{path}: previous link"
    assert resolve(page, "a.right-next") == (PAGES[index + 1][0] if index + 1 < len(PAGES) else None), \
        f"{path}: next link"

    figures = page.eval_on_selector_all(".cell_output img", "els => els.map(e => e.complete && e.naturalWidth)")
    assert len(figures) == want["figures"] and all(figures), f"{path}: figures {figures}, want {want['figures']}"
    assert page.locator(".js-plotly-plot").count() == want["plotly"], f"{path}: plotly figures"
    check_plotly_hover(page, path)
    assert page.locator(".mlcourse-run-live").count() == want["live"], f"{path}: one 'run this live' box per widget"
    assert page.locator(".mlcourse-run-live a.mlcourse-launch-binder").count() == want["live"]

    if want["math"]:
        assert page.locator("mjx-container").count() > 0, f"{path}: math not rendered"
    assert page.locator("mjx-merror").count() == 0, \
        f"{path}: TeX errors: {page.locator('mjx-merror').all_inner_texts()[:3]}"
    raw = page.evaluate("() => [...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container')).length")
    assert raw == 0, f"{path}: {raw} formulas left as TeX source"

    text = norm(page.locator("article").inner_text())
    for note in want["notes"]:
        assert len(norm(note)) < NOTES_MIN_CHARS or norm(note) not in text, f"{path}: speaker notes shown: {note[:60]!r}"
    assert "mlcoursesource" not in text, f"{path}: the Colab install cell is shown"
    collapsed = page.locator("details.hide.above-input").count()
    assert collapsed >= want["setup"], f"{path}: {want['setup']} set-up cells, {collapsed} collapsed"

    if nb_path is not None:
        check_launch_links(page, nb_path, want["colab"])
    assert not watch.problems, f"{path}: " + "; ".join(watch.problems[:5])


def test_next_and_previous_links_navigate(page: Page, built) -> None:
    base, _ = built
    watch = Watch(page, base)
    visit(page, base)
    page.locator("a.right-next").first.click()
    page.wait_for_load_state("load")
    assert urlparse(page.url).path.lstrip("/") == PAGES[1][0]
    page.locator("a.left-prev").first.click()
    page.wait_for_load_state("load")
    assert urlparse(page.url).path.lstrip("/") in ("", "index.html")
    assert not watch.problems, watch.problems


def test_search_finds_a_lecture(page: Page, built) -> None:
    base, _ = built
    path, nb_path = next(p for p in PAGES if p[0].startswith("lectures/") and not p[0].startswith("lectures/00"))
    title = site.notebook_title(nbformat.read(nb_path, as_version=4), nb_path.stem)
    word = max(re.findall(r"[A-Za-z]{4,}", title), key=len)
    watch = Watch(page, base)
    visit(page, base)
    page.locator(".search-button__button:visible").first.click()
    box = page.locator("input[name='q']:visible").first
    box.fill(word)
    box.press("Enter")
    page.wait_for_url(re.compile(r"search\.html\?q="))
    page.wait_for_selector("#search-results li a", timeout=15_000)
    hits = [urlparse(urljoin(page.url, h)).path.lstrip("/")
            for h in page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.getAttribute('href'))")]
    assert path in hits, f"searching {word!r} did not find {path}: {hits[:10]}"
    assert not watch.problems, watch.problems


def test_no_solution_anywhere_in_the_site(built) -> None:
    _, out = built
    assert site.leaks(out, ROOT) == []
    assert not list(out.rglob("*solution*")), "no file of the site is named after solutions"


# --- plotly without a kernel: a small site of its own (today's lectures may have no plotly figure) ---

def plotly_notebook() -> nbformat.NotebookNode:
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=list(range(40)), y=[(i % 7) * 0.5 for i in range(40)], mode="lines+markers"))
    fig.update_layout(title="a plotly figure", hovermode="x", xaxis_title="step", yaxis_title="loss")
    figure = json.loads(fig.to_json())  # what a notebook stores
    live = {site.WIDGET_MIME: {"model_id": "m", "version_major": 2, "version_minor": 0},
            site.PLOTLY_MIME: figure, "text/plain": "live f()"}
    cells = [nbformat.v4.new_markdown_cell("# 42 · Plotly pages\nWith math: $e^{i\\pi} + 1 = 0$."),
             nbformat.v4.new_code_cell(site.COLAB_CELL, metadata={"tags": ["colab", "remove-cell"]}),
             nbformat.v4.new_code_cell("fig.show()"), nbformat.v4.new_code_cell("live(f)")]
    cells[2].outputs = [nbformat.v4.new_output("display_data", data={site.PLOTLY_MIME: figure, "text/plain": "fig"})]
    cells[3].outputs = [nbformat.v4.new_output("display_data", data=live)]
    return nbformat.v4.new_notebook(cells=cells)


def test_plotly_figures_answer_to_hover_without_a_kernel(page: Page, tmp_path: Path) -> None:
    course = tmp_path / "course"
    for kind in ("lectures", "exercises", "solutions"):
        (course / kind).mkdir(parents=True)
    nbformat.write(plotly_notebook(), course / "lectures" / "42_plotly.ipynb")
    site.build_site(course, tmp_path / "site", cache=ROOT / "build" / "site-cache", log=lambda *_: None)
    httpd, base = serve(tmp_path / "site")
    try:
        watch = Watch(page, base)
        visit(page, base + "lectures/42_plotly.html")
        assert page.locator(".js-plotly-plot").count() == 2
        assert page.locator(".mlcourse-run-live").count() == 1
        check_plotly_hover(page, "42_plotly")
        assert not watch.problems, watch.problems
    finally:
        httpd.shutdown()
