"""``mlcourse site``: the course as a static website in ``build/site/``, readable without a kernel.

The site is built by Sphinx with MyST-NB and the Sphinx Book Theme (the engine of Jupyter Book 1)
from the executed notebooks already on disk: ``lectures/*.ipynb`` and the generated, answer-free
``exercises/*.ipynb``. Solutions are never read into it. ``docs/website.md`` says why this tool and
not Jupyter Book 2 / mystmd (whose theme is downloaded from the internet at build time).

Each notebook is first *staged* (copied and rewritten) into ``build/site-src/``:

* speaker notes (cells with slide type ``notes``), the Colab install cell and anything tagged
  ``remove-cell`` or ``solution-only`` are dropped; set-up code cells (slide type ``skip``) are
  collapsed behind a toggle;
* a live widget (``mlcourse.widgets.live``) keeps the static figure saved beside its view and gets
  a "run this live" box with Binder and Colab links; its widget view, which needs a kernel, is dropped;
* plotly figures become a ``<div>`` drawn by the plotly.js that ships with the plotly package, so
  they answer to hover and zoom without a kernel;
* external images (the Binder badge) are removed: the page's launch bar replaces them.

Everything the pages load is local (MathJax 3 from a pinned PyPI package, copied once into
``build/site-cache/``; plotly.js from the plotly package; the theme's own fonts and scripts), so
the built folder works offline and on GitHub Pages. :func:`leaks` scans the built site for any
solution or hidden check; the build fails if it finds one.
"""

from __future__ import annotations

import contextlib
import copy
import html
import io
import importlib.util
import re
import shutil
import tempfile
import time
import warnings as python_warnings
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import nbformat

REPOSITORY = "mlcourse/mlcourse"  # GitHub owner/name the launch links point at
BRANCH = "main"
BINDER_URL = "https://mybinder.org"
COLAB_URL = "https://colab.research.google.com"
TITLE = "Metaparameters and meta-optimization"
MATHJAX_PACKAGE = "sphinx-mathjax-offline"  # its static/mathjax is MathJax 3.2.2 (es5)
MATHJAX_KEEP = ("tex-chtml.js", "input/tex/extensions", "output/chtml", "ui", "a11y", "adaptors")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
CHECK_MIME = "application/vnd.mlcourse.check+json"
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
ASSET_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}

# Every lecture's first code cell, exactly (docs/authoring.md): on Colab it installs the course into
# the runtime; anywhere else it does nothing.
COLAB_CELL = '''# On Google Colab only: install the course into this runtime (Colab's GPU is used when present).
import os
import sys

if "google.colab" in sys.modules:
    import subprocess

    source = os.environ.get("MLCOURSE_SOURCE", "git+https://github.com/mlcourse/mlcourse@main")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"mlcourse @ {source}"], check=True)'''

LINKED_IMAGE_RE = re.compile(r"\[!\[([^\]]*)\]\((https?://[^)\s]+)\)\]\((https?://[^)\s]+)\)")
IMAGE_RE = re.compile(r"!\[([^\]]*)\]\((https?://[^)\s]+)\)")
LAUNCH_HOSTS = ("mybinder.org", "colab.research.google.com")


@dataclass
class Page:
    """One notebook page of the site."""

    kind: str  # "lectures" or "exercises"
    name: str  # NN_topic
    title: str
    colab: bool  # its first code cell is the Colab install cell (so it runs on Colab unchanged)
    figures: int = 0  # static figures (PNG, JPEG, SVG) it shows
    plotly: int = 0  # interactive plotly figures
    live: int = 0  # live widgets shown by their default figure

    @property
    def path(self) -> str:
        """The notebook's path in the repository (what the launch links open)."""
        return f"{self.kind}/{self.name}.ipynb"


@dataclass
class Site:
    """A built site: its folder, its notebook pages in reading order, build time, Sphinx's warnings."""

    out: Path
    pages: list[Page] = field(default_factory=list)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(p.stat().st_size for p in self.out.rglob("*") if p.is_file())


def launch_links(path: str, repository: str = REPOSITORY, branch: str = BRANCH) -> dict[str, str]:
    """Binder and Colab links that open ``path`` (a notebook's path in the repository)."""
    return {"binder": f"{BINDER_URL}/v2/gh/{repository}/{branch}?urlpath=lab/tree/{path}",
            "colab": f"{COLAB_URL}/github/{repository}/blob/{branch}/{path}"}


def is_colab_cell(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and cell.get("source", "").strip() == COLAB_CELL.strip()


def first_code_cell(nb: nbformat.NotebookNode) -> dict | None:
    return next((c for c in nb.cells if c.cell_type == "code"), None)


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if m:
                return m[1].strip()
    return fallback


def _slide_type(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _launch_html(links: dict[str, str], colab: bool, css: str, lead: str) -> str:
    buttons = [f'<a class="mlcourse-launch-binder" href="{html.escape(links["binder"])}">Run on Binder</a>']
    if colab:
        buttons.append(f'<a class="mlcourse-launch-colab" href="{html.escape(links["colab"])}">'
                       f'Open in Colab (free GPU)</a>')
    return f'<div class="{css}"><span>{lead}</span> {" ".join(buttons)}</div>'


def _live_box(links: dict[str, str], colab: bool, figure: bool = True) -> dict:
    text = ("▶ <strong>Run this live.</strong> " +
            ("The figure above is an interactive widget at its default setting; in a running notebook "
             "its controls redraw it." if figure else "An interactive widget: its controls need a running notebook."))
    return nbformat.v4.new_output("display_data", data={
        "text/html": _launch_html(links, colab, "mlcourse-run-live", text)})


def _plotly_html(figure: dict, div_id: str) -> str:
    import plotly.io as pio

    height = figure.get("layout", {}).get("height") or 450
    return pio.to_html(figure, include_plotlyjs=False, full_html=False, div_id=div_id, validate=False,
                       default_height=f"{height}px", default_width="100%",
                       config={"responsive": True, "displaylogo": False})


def _clean_markdown(source: str) -> str:
    """External images would be requests to the internet: launch badges go (the launch bar replaces
    them), any other linked image becomes a text link, a bare one its alt text."""
    def linked(m: re.Match) -> str:
        if any(host in m[3] for host in LAUNCH_HOSTS):
            return ""
        return f"[{m[1] or m[3]}]({m[3]})"
    source = LINKED_IMAGE_RE.sub(linked, source)
    return IMAGE_RE.sub(lambda m: m[1], source)


def stage_notebook(nb: nbformat.NotebookNode, page: Page, repository: str = REPOSITORY,
                   branch: str = BRANCH) -> nbformat.NotebookNode:
    """The notebook as the site shows it (see the module docstring); counts figures into ``page``."""
    nb = copy.deepcopy(nb)
    links = launch_links(page.path, repository, branch)
    cells = []
    for cell in nb.cells:
        tags = _tags(cell)
        if (_slide_type(cell) == "notes" or is_colab_cell(cell)
                or {"remove-cell", "solution-only", "colab"} & set(tags)):
            continue
        if cell.cell_type == "markdown":
            cell.source = _clean_markdown(cell.source)
        if cell.cell_type == "code":
            if _slide_type(cell) == "skip" and "show-input" not in tags and "hide-input" not in tags:
                cell.metadata["tags"] = [*tags, "hide-input"]  # set-up code: collapsed, one click away
            outputs = []
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                data.pop(CHECK_MIME, None)
                live = data.pop(WIDGET_MIME, None) is not None
                figure = PLOTLY_MIME in data or any(kind in data for kind in IMAGE_MIMES)
                if PLOTLY_MIME in data:
                    page.plotly += 1
                    plot = data.pop(PLOTLY_MIME)
                    data.pop("text/html", None)
                    data["text/html"] = _plotly_html(plot, f"plotly-{page.kind}-{page.name[:2]}-{page.plotly}")
                elif any(kind in data for kind in IMAGE_MIMES):
                    page.figures += 1
                if out.get("output_type") in ("display_data", "execute_result") and not data:
                    continue  # a view that only a kernel can draw
                outputs.append(out)
                if live:
                    page.live += 1
                    outputs.append(_live_box(links, page.colab, figure))
            cell.outputs = outputs
        cells.append(cell)
    if page.kind == "exercises":  # the exercise's own title goes first, its instructions below it
        heading = next((i for i, c in enumerate(cells)
                        if c.cell_type == "markdown" and re.match(r"#\s", c.source)), 0)
        cells.insert(0, cells.pop(heading))
    lead = ("Exercises are checked in a running notebook." if page.kind == "exercises"
            else "Run it yourself:")
    bar = nbformat.v4.new_markdown_cell(_launch_html(links, page.colab, "mlcourse-launch-bar", lead))
    first_md = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"), -1)
    cells.insert(first_md + 1, bar)
    nb.cells = cells
    return nb


def _toctree(entries: list[str], caption: str | None = None, hidden: bool = True) -> str:
    opts = (":hidden:\n" if hidden else "") + (f":caption: {caption}\n" if caption else "") + ":maxdepth: 1\n"
    return "```{toctree}\n" + opts + "\n" + "\n".join(entries) + "\n```\n"


def index_page(lectures: list[Page], exercises: dict[str, Page]) -> str:
    rows = []
    for p in lectures:
        ex = exercises.get(p.name)
        ex_link = f"[exercises]({ex.kind}/{ex.name}.ipynb)" if ex else ""
        rows.append(f"| [{p.title}]({p.kind}/{p.name}.ipynb) | {ex_link} |")
    return f"""# {TITLE}

An interactive course on the parameters that choose the parameters: learning rates, priors,
regularizers, optimizers, and the methods that tune them. Every claim is computed, every plot is
drawn from a small tested PyTorch package, and every lecture ends with graded exercises.

These pages show each lecture as it ran, with its figures. The figures of live widgets show their
default setting: to move the controls, run the lecture yourself.

- **Binder**: in the browser, nothing to install (a CPU, about 2 GB of memory).
- **Google Colab**: in the browser with a free GPU; the first cell installs the course.
- **Your own machine**: clone the repository and run `./course lab`.

Each page has these links at its top; the widgets' figures carry them too.

| Lecture | Exercises |
|---|---|
{chr(10).join(rows)}

{_toctree([f"{p.kind}/{p.name}" for p in lectures], caption="Lectures")}"""


CONF = '''# Generated by mlcourse.course.site: edit that module, not this file.
project = {title!r}
html_title = {title!r}
extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
nb_execution_mode = "off"            # the notebooks on disk are already executed
nb_ipywidgets_js = {{}}                # no widget manager from a CDN (the views were dropped)
nb_output_stderr = "show"
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_dmath_double_inline = True      # $$…$$ inside a paragraph, as Jupyter renders it
suppress_warnings = ["myst.header"]  # notebooks may jump from # to ### (exercise questions do)
html_context = {{"default_mode": "light"}}  # the theme logs an error without one
mathjax_path = "mathjax/tex-chtml.js"  # served from _static: no CDN
html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_css_files = ["mlcourse-site.css"]
html_copy_source = False
html_show_sourcelink = False
html_show_sphinx = False
html_last_updated_fmt = None
html_theme_options = {{
    "repository_url": "https://github.com/{repository}",
    "repository_branch": {branch!r},
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": False,
    "launch_buttons": {{"binderhub_url": {binder!r}, "colab_url": {colab!r},
                        "notebook_interface": "jupyterlab"}},
    "show_toc_level": 2,
    "footer_content_items": [],  # no "By <author>" line
}}
PLOTLY_PAGES = {plotly_pages!r}
NO_COLAB = {no_colab!r}


def _page(app, pagename, templatename, context, doctree):
    if pagename in PLOTLY_PAGES:
        app.add_js_file("plotly.min.js")
    if pagename in NO_COLAB:  # a notebook without the Colab install cell cannot run there unchanged
        for group in context.get("header_buttons", []):
            if isinstance(group.get("buttons"), list):
                group["buttons"] = [b for b in group["buttons"] if b.get("text") != "Colab"]


def setup(app):
    app.connect("html-page-context", _page, priority=900)
'''

CSS = """
.mlcourse-launch-bar, .mlcourse-run-live { display: flex; flex-wrap: wrap; gap: .5em; align-items: center;
  padding: .5em .75em; margin: .5em 0 1em; border-left: 4px solid var(--pst-color-primary);
  background: var(--pst-color-surface); border-radius: 4px; }
.mlcourse-run-live { margin-top: .25em; }
.mlcourse-launch-bar a, .mlcourse-run-live a { padding: .2em .7em; border-radius: 4px; font-weight: 600;
  border: 1px solid var(--pst-color-primary); text-decoration: none; white-space: nowrap; }
.mlcourse-launch-bar a:hover, .mlcourse-run-live a:hover { background: var(--pst-color-primary);
  color: var(--pst-color-background); }
.cell_output img { max-width: 100%; height: auto; }
"""


def fetch_mathjax(cache: Path) -> Path:
    """MathJax 3.2.2 from its pinned PyPI package (``sphinx-mathjax-offline``, in the site extra),
    copied once into ``cache`` (only what the site loads)."""
    dest = cache / "mathjax"
    if (dest / "tex-chtml.js").exists():
        return dest
    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the site needs MathJax from the site extra: pip install -e '.[site]' "
                           f"(missing Python package {MATHJAX_PACKAGE})")
    es5 = Path(spec.origin).parent / "static" / "mathjax"
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "mathjax"
        for keep in MATHJAX_KEEP:
            src, dst = es5 / keep, staging / keep
            dst.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
        cache.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.move(str(staging), dest)
    return dest


def stage(root: Path, src: Path, cache: Path, repository: str = REPOSITORY,
          branch: str = BRANCH) -> list[Page]:
    """Write the Sphinx project for the site into ``src``: pages, start page, conf.py, assets."""
    import plotly

    shutil.rmtree(src, ignore_errors=True)
    (src / "_static").mkdir(parents=True)
    exercises: dict[str, Page] = {}
    lectures: list[Page] = []
    order: list[Page] = []
    for kind in ("lectures", "exercises"):
        for path in sorted((root / kind).glob("[0-9][0-9]_*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            first = first_code_cell(nb)
            page = Page(kind, path.stem, notebook_title(nb, path.stem), colab=bool(first and is_colab_cell(first)))
            staged = stage_notebook(nb, page, repository, branch)
            if kind == "lectures":
                lectures.append(page)
            else:
                exercises[page.name] = page
            (src / kind).mkdir(exist_ok=True)
            nbformat.write(staged, src / kind / path.name)
        for asset in (root / kind).rglob("*"):  # images a notebook's markdown shows, e.g. ![](fig/x.png)
            if asset.suffix.lower() in ASSET_SUFFIXES and ".ipynb_checkpoints" not in asset.parts:
                dest = src / kind / asset.relative_to(root / kind)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(asset, dest)
    for lecture in lectures:  # each lecture's exercises hang below it: lecture NN, exercises NN, …
        order.append(lecture)
        ex = exercises.pop(lecture.name, None)
        if ex:
            order.append(ex)
            path = src / lecture.kind / f"{lecture.name}.ipynb"
            nb = nbformat.read(path, as_version=4)
            nb.cells.append(nbformat.v4.new_markdown_cell(
                f"---\n\n**Exercises:** [{ex.title}](../exercises/{ex.name}.ipynb) — graded questions "
                f"on this lecture, checked as you go.\n\n" + _toctree([f"../exercises/{ex.name}"])))
            nbformat.write(nb, path)
    order += exercises.values()  # exercises without a lecture (none today) come last
    (src / "index.md").write_text(index_page(lectures, {p.name: p for p in order if p.kind == "exercises"})
                                  + (_toctree([f"{p.kind}/{p.name}" for p in exercises.values()],
                                              caption="More exercises") if exercises else ""))
    (src / "conf.py").write_text(CONF.format(
        title=TITLE, repository=repository, branch=branch, binder=BINDER_URL, colab=COLAB_URL,
        plotly_pages=sorted(f"{p.kind}/{p.name}" for p in order if p.plotly),
        no_colab=sorted(f"{p.kind}/{p.name}" for p in order if not p.colab)))
    (src / "_static" / "mlcourse-site.css").write_text(CSS)
    if any(p.plotly for p in order):
        shutil.copy2(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", src / "_static")
    shutil.copytree(fetch_mathjax(cache), src / "_static" / "mathjax")
    return order


def build_site(root: Path, out: Path | None = None, *, repository: str | None = None,
               branch: str | None = None, cache: Path | None = None, log=print) -> Site:
    """Stage the notebooks and run Sphinx: the site in ``out`` (default ``build/site``).

    ``repository`` (GitHub owner/name) and ``branch`` are what the launch links open; ``cache``
    keeps the MathJax download (default ``build/site-cache``). Raises RuntimeError when Sphinx fails
    or the result shows any solution text."""
    from sphinx.cmd.build import build_main

    start = time.perf_counter()
    out = out or root / "build" / "site"
    src = out.parent / f"{out.name}-src"
    pages = stage(root, src, cache or root / "build" / "site-cache", repository or REPOSITORY, branch or BRANCH)
    shutil.rmtree(out, ignore_errors=True)
    doctrees = out.parent / f"{out.name}-doctrees"
    shutil.rmtree(doctrees, ignore_errors=True)
    warnings = out.parent / f"{out.name}-warnings.txt"
    stderr = io.StringIO()
    # Sphinx's warnings go to `warnings`, errors to `stderr`; its extensions' deprecation notices are
    # not the reader's business
    with contextlib.redirect_stderr(stderr), python_warnings.catch_warnings():
        python_warnings.simplefilter("ignore", DeprecationWarning)
        python_warnings.simplefilter("ignore", PendingDeprecationWarning)
        code = build_main(["-b", "html", "-q", "-d", str(doctrees), "-w", str(warnings), str(src), str(out)])
    if code:
        raise RuntimeError(f"sphinx failed (exit {code}): {stderr.getvalue()[-3000:]}")
    shutil.rmtree(doctrees, ignore_errors=True)
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve _static/ and _images/ as they are
    site = Site(out, pages, time.perf_counter() - start,
                [w for w in warnings.read_text().splitlines() if w.strip()])
    found = leaks(out, root)
    if found:
        raise RuntimeError("the site shows solution text:\n" + "\n".join(found[:20]))
    log(f"site: {len(pages) + 1} pages, {site.size / 1e6:.1f} MB in {out} ({site.seconds:.1f} s)")
    return site


def serve(site: Path, port: int = 8000) -> None:
    """Serve a built site on loopback until Ctrl-C (search needs http://, not file://)."""
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        print(f"serving {site} on http://127.0.0.1:{port}/ (Ctrl-C stops)", flush=True)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass


# --- no solution anywhere ----------------------------------------------------------------------

def _norm(text: str) -> str:
    """Letters and digits only, lower case: survives markup, syntax highlighting and escaping."""
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def solution_fragments(root: Path, min_chars: int = 16) -> list[str]:
    """Lines that only the solutions hold: answers, hidden checks, solution-only cells (normalized).

    A line that also appears in a lecture or exercise (a shared import, say) is not a secret."""
    import jupytext

    from mlcourse.course.notebooks import HIDDEN_RE, SOLUTION_RE

    public = "".join(_norm(p.read_text()) for kind in ("lectures", "exercises") for p in sorted((root / kind).glob("*.py")))
    found: list[str] = []
    for path in sorted((root / "solutions").glob("[0-9][0-9]_*.py")):
        for cell in jupytext.read(path).cells:
            secret = []
            if "solution-only" in cell.get("metadata", {}).get("tags", []):
                secret.append(cell.source)
            if cell.cell_type == "code":
                secret += [m[2] for m in SOLUTION_RE.finditer(cell.source)]
                secret += [m[0] for m in HIDDEN_RE.finditer(cell.source)]
            for block in secret:
                for line in block.splitlines():
                    n = _norm(line.split("#", 1)[0] if cell.cell_type == "code" else line)
                    if len(n) >= min_chars and n not in public and n not in found:
                        found.append(n)
    return found


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.parts.extend(v for k, v in attrs if v and k in ("title", "alt", "content", "href", "data-content"))


def _site_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    if path.suffix == ".html":
        parser = _Text()
        parser.feed(text)
        return " ".join(parser.parts)
    return text


def leaks(site: Path, root: Path) -> list[str]:
    """Every place the built site shows a solution: a solutions/ file, a graded-check result, or
    a line from an answer, a hidden check or a solution-only cell (empty list: none)."""
    fragments = solution_fragments(root)
    found = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site).as_posix()
        if re.search(r"(^|/)solutions?(/|$)", rel.lower()):
            found.append(f"{rel}: a solutions file")
        if path.suffix not in (".html", ".js", ".json", ".txt", ".ipynb", ".py", ".md", ".css") or \
                rel.startswith("_static/mathjax/") or rel.endswith("plotly.min.js"):
            continue
        text = _site_text(path)
        if CHECK_MIME in text:
            found.append(f"{rel}: a graded check's output")
        norm = _norm(text)
        found += [f"{rel}: solution line {frag[:50]!r}" for frag in fragments if frag in norm]
    return found
