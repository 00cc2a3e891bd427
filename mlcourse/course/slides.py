"""Decks: each executed lecture as a 1280×720 reveal.js slideshow, offline, code hidden.

Two ways to present, both from the lecture notebook and its slide metadata:

* ``mlcourse slides NN`` writes ``build/slides/NN_*.slides.html``, a static deck (no kernel): every
  widget shows the figure of its default settings. nbconvert's reveal exporter with the template in
  ``share/nbconvert/templates/mlcourse-deck``.
* ``mlcourse present NN`` serves the lecture through Voilà's reveal template (a kernel runs the
  notebook first), so every widget on a slide is live. Template ``share/voila/templates/mlcourse-present``.

Both load reveal.js and MathJax from ``build/slides/assets``, copied there from two pinned PyPI
packages of the ``slides`` extra (``sphinx-revealjs`` vendors reveal.js 5.2, ``jupyter-server-mathjax``
MathJax 2.7): no CDN, no npm, nothing fetched at run time. Code input shows on a slide only in cells
tagged ``show-input``.
"""

from __future__ import annotations

import copy
import importlib.util
import re
import shutil
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor

SHARE = Path(__file__).parent / "share"
WIDTH, HEIGHT = 1280, 720
PRESENT_PATH = "lectures/{name}.ipynb"  # what `mlcourse present` opens, under /voila/render/
ASSETS = {  # folder under assets/ → (PyPI package of the slides extra, folder inside it)
    "reveal.js": ("sphinx_revealjs", "_static/revealjs"),
    "mathjax": ("jupyter_server_mathjax", "static"),
}
URLS = {
    "reveal_url_prefix": "assets/reveal.js",
    "mathjax_url": "assets/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe",
}


class MissingAssets(RuntimeError):
    """The slides extra is not installed: one line that says how to get it."""


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise MissingAssets(f"decks need reveal.js and MathJax from the slides extra: "
                            f"pip install -e '.[slides]' (missing Python package {module})")
    return Path(spec.origin).parent


def copy_assets(out_dir: Path) -> Path:
    """Copy reveal.js and MathJax from their installed packages into ``out_dir/assets`` (once)."""
    assets = out_dir / "assets"
    for name, (module, inside) in ASSETS.items():
        target = assets / name
        if (target / ".complete").exists():
            continue
        source = _package_dir(module) / inside
        if not source.is_dir():
            raise MissingAssets(f"{module} is installed but has no {inside}/: reinstall the slides extra")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.map", "*.esm.js"))
        (target / ".complete").write_text(f"copied from {source}\n")
    return assets


def _exporter():
    from nbconvert import SlidesExporter

    return SlidesExporter(template_name="mlcourse-deck", extra_template_basedirs=[str(SHARE / "nbconvert" / "templates")],
                          reveal_url_prefix=URLS["reveal_url_prefix"], mathjax_url=URLS["mathjax_url"],
                          reveal_width=str(WIDTH), reveal_height=str(HEIGHT), reveal_scroll=False,
                          reveal_theme="white")


BADGE_RE = re.compile(r"\[!\[([^\]]*)\]\(https?://[^)]*\)\]\((https?://[^)]*)\)")


def offline_markdown(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy whose badge images (``[![Binder](badge.svg)](link)``) are plain text links: a deck
    makes no request to the network."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = BADGE_RE.sub(lambda m: f"[open in {m[1]}]({m[2]})", cell.source)
    return nb


class OfflineMarkdown(Preprocessor):
    """:func:`offline_markdown` as an nbconvert preprocessor (both deck templates list it)."""

    def preprocess(self, nb, resources):
        return offline_markdown(nb), resources


def export_deck(notebook: Path, out_dir: Path) -> Path:
    """Write ``out_dir/<name>.slides.html`` from an executed notebook; assets must be in ``out_dir``."""
    from mlcourse.course.notebooks import read  # checks the notebook format: a broken file says where

    html, _ = _exporter().from_notebook_node(read(notebook))
    out = out_dir / f"{notebook.stem}.slides.html"
    out.write_text(html, encoding="utf-8")
    return out


def export_all(root: Path, names: list[str], out_dir: Path) -> list[Path]:
    """Copy the assets if needed and export the deck of every lecture in ``names``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_assets(out_dir)
    return [export_deck(root / "lectures" / f"{name}.ipynb", out_dir)
            for name in names if (root / "lectures" / f"{name}.ipynb").exists()]


def voila_command(root: Path, name: str, *, port: int, ip: str = "127.0.0.1",
                  browser: bool = False) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that present lecture ``name`` live through Voilà (run it
    from ``root``; the assets must be in ``build/slides/assets``)."""
    import json
    import os
    import sys

    config = root / "build" / "slides" / "voila-config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "voila.json").write_text(json.dumps({"VoilaConfiguration": {
        "template": "mlcourse-present",
        "file_allowlist": [r".*\.(png|jpg|gif|svg|css|js|woff|woff2|ttf|otf|eot)"],
        "resources": {"reveal": {"url_prefix": "/voila/files/build/slides/assets/reveal.js", "theme": "white",
                                 "width": WIDTH, "height": HEIGHT, "scroll": False, "transition": "none",
                                 "number": "c/t"}}}}, indent=1))
    cmd = [sys.executable, "-m", "voila", f"--Voila.root_dir={root}", f"--port={port}", f"--Voila.ip={ip}",
           "--Voila.port_retries=0", f"--Voila.default_url=/voila/render/{PRESENT_PATH.format(name=name)}"]
    if not browser:
        cmd.append("--no-browser")
    env = {**os.environ, "JUPYTER_PATH": os.pathsep.join(filter(None, [str(SHARE), os.environ.get("JUPYTER_PATH")])),
           "JUPYTER_CONFIG_DIR": str(config)}
    return cmd, env
