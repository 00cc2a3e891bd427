"""``mlcourse slides``: each executed lecture → a reveal.js deck that renders offline.

nbconvert's slides exporter loads reveal.js, require.js, jQuery and MathJax from CDNs. For a deck that
works on a projector without a network, those four packages are fetched once from the npm registry
(``npm pack``) into ``build/slides/assets/`` — never committed — and the deck refers to them by
relative paths. Live widgets have no state in an exported deck; each shows its static render (the PNG
that ``widgets.live`` puts beside the widget view).
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter

ASSETS = {  # npm package → the folder it is unpacked into under assets/
    "reveal.js@4.0.2": "reveal.js",
    "requirejs@2.3.8": "requirejs",
    "jquery@3.7.1": "jquery",
    "mathjax@2.7.7": "mathjax",
}
URLS = {
    "reveal_url_prefix": "assets/reveal.js",
    "require_js_url": "assets/requirejs/require.js",
    "jquery_url": "assets/jquery/dist/jquery.min.js",
    "mathjax_url": "assets/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
}


def fetch_assets(out_dir: Path) -> Path:
    """Unpack the deck's JavaScript packages from the npm registry into ``out_dir/assets`` (once)."""
    assets = out_dir / "assets"
    missing = {pkg: name for pkg, name in ASSETS.items() if not (assets / name / "package.json").exists()}
    if not missing:
        return assets
    if shutil.which("npm") is None:
        raise RuntimeError("offline decks need npm once, to fetch reveal.js, require.js, jQuery and "
                           "MathJax from the npm registry (install Node.js, or copy build/slides/assets "
                           "from a machine that has them)")
    assets.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", "--silent", *missing], cwd=tmp, check=True, capture_output=True)
        for tgz in Path(tmp).glob("*.tgz"):
            name = next(n for p, n in missing.items() if tgz.name.startswith(p.split("@")[0] + "-"))
            with tarfile.open(tgz) as tar:
                tar.extractall(Path(tmp) / name, filter="data")
            shutil.rmtree(assets / name, ignore_errors=True)
            shutil.move(str(Path(tmp) / name / "package"), assets / name)
    return assets


def export_deck(notebook: Path, out_dir: Path) -> Path:
    """Write ``out_dir/<name>.slides.html`` from an executed notebook; assets must be in ``out_dir``."""
    exporter = SlidesExporter(reveal_url_prefix=URLS["reveal_url_prefix"], reveal_scroll=True,
                              require_js_url=URLS["require_js_url"], jquery_url=URLS["jquery_url"],
                              mathjax_url=URLS["mathjax_url"])
    html, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    out = out_dir / f"{notebook.stem}.slides.html"
    out.write_text(html, encoding="utf-8")
    return out


def export_all(root: Path, names: list[str], out_dir: Path) -> list[Path]:
    """Fetch the assets if needed and export the deck of every lecture in ``names``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fetch_assets(out_dir)
    return [export_deck(root / "lectures" / f"{name}.ipynb", out_dir)
            for name in names if (root / "lectures" / f"{name}.ipynb").exists()]
