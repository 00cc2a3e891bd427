"""``mlcourse release OUT``: what students receive — the lectures, the exercises and the package,
without ``solutions/``, hidden checks, tests or instructor notes — as a folder Binder can launch.

The course repository keeps the solutions beside everything else, so students cannot be given the
repository itself. The release copies only the student-facing parts (files git tracks, or would,
under ``lectures/``, ``exercises/``, ``mlcourse/`` and ``binder/``, plus the project files),
writes a student README, and then checks itself: :func:`leaks` looks for every line of every
solution's answers, hidden checks and solution-only cells in every file of the release, notebook
outputs included, and the release is refused if one is found.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from mlcourse.course import notebooks as nbs

INCLUDE = ("lectures", "exercises", "mlcourse", "binder", "pyproject.toml", "jupytext.toml", "course", "LICENSE")
MARKER = ".mlcourse-release"
BINDER_RE = re.compile(r"mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/[\w./-]+?(?=\?|\)|\s|$)")
TRIVIAL = re.compile(r"^(#.*|[\])}]*[,:]?|(else|try|finally|pass|continue|break|return|\.\.\.)\s*:?|"
                     r"return (True|False|None|out|result|total|area|count|[a-z_]\w{0,2})|"
                     r"### (BEGIN|END) (SOLUTION|HIDDEN CHECKS).*)$")
GENERIC = re.compile(r"^with (torch\.no_grad|torch\.enable_grad|warnings\.catch_warnings)\(\):$")
MIN_LENGTH = 8  # characters: shorter lines ("x = 0", "return w") say nothing about an answer

README = """# {title} — student edition

Interactive lectures and exercises on metaparameters and meta-optimization, on top of the small
PyTorch package `mlcourse/`.

{binder}

## Start

```bash
./course lab      # creates .venv on first use, then opens JupyterLab at lectures/00_start_here.ipynb
```

On a laptop without a GPU, get PyTorch's CPU build first
(`MLCOURSE_TORCH_INDEX=https://download.pytorch.org/whl/cpu ./course lab`).

## Exercises

`exercises/NN_*.ipynb` hold the graded questions. `mlcourse start NN` copies one into `work/` and
opens it; replace each `...` and each `raise NotImplementedError()`, and run the check cell under each
answer: ✓, or ✗ with a hint (multiple-choice answers are only *recorded*: your instructor marks
them). `mlcourse grade work/NN_….ipynb` runs a whole notebook's checks from a terminal. Your
instructor grades with a key of their own, which runs only your answer cells: keep helper code
inside them.
"""


def _files(root: Path) -> list[Path]:
    """Student-facing files: those git tracks (or would) under INCLUDE; a plain walk without git."""
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard", "--", *INCLUDE], capture_output=True, check=True).stdout
        names = sorted({n for n in out.decode().split("\0") if n})
        return [root / n for n in names if (root / n).is_file()]
    except (OSError, subprocess.CalledProcessError):
        found = []
        for item in INCLUDE:
            p = root / item
            if p.is_file():
                found.append(p)
            elif p.is_dir():
                found += [f for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts
                          and ".ipynb_checkpoints" not in f.parts]
        return sorted(found)


def secret_lines(root: Path) -> dict[str, tuple[str, str]]:
    """Every significant line of the solutions' answers, hidden checks and solution-only cells →
    (where it comes from, "answer" | "hidden" | "solution-only"). Lines that also appear in a
    solution's visible part (a hidden check repeating a visible one) are not secret."""
    lines: dict[str, tuple[str, str]] = {}
    public: set[str] = set()
    for src in sorted((root / "solutions").glob("[0-9][0-9]_*.py")):
        nb = nbs.read(src)
        for i, cell in enumerate(nb.cells):
            parts: list[tuple[str, str]] = []
            if "solution-only" in cell.get("metadata", {}).get("tags", ()):
                parts.append(("solution-only", cell.source))
            elif cell.cell_type == "code":
                parts += [("answer", m[2]) for m in nbs.SOLUTION_RE.finditer(cell.source)]
                parts += [("hidden", m[0]) for m in nbs.HIDDEN_RE.finditer(cell.source)]
                visible = nbs.HIDDEN_RE.sub("", nbs.SOLUTION_RE.sub("", cell.source))
                public |= {line.strip() for line in visible.splitlines()}
            for kind, part in parts:
                for line in part.splitlines():
                    s = line.strip().lstrip("#").strip() if cell.cell_type == "markdown" else line.strip()
                    if len(s) >= MIN_LENGTH and not TRIVIAL.match(s) and not GENERIC.match(s):
                        lines.setdefault(s, (f"{src.relative_to(root)} cell {i}", kind))
    return {s: v for s, v in lines.items() if s not in public}


def _texts(path: Path) -> list[str]:
    """The lines a file shows a reader: a notebook's cell sources and text outputs, else its text."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return []
    if path.suffix != ".ipynb":
        return raw.splitlines()
    try:
        nb = json.loads(raw)
    except ValueError:
        return raw.splitlines()
    out = []
    for cell in nb.get("cells", []):
        src = cell.get("source", "")
        out += ("".join(src) if isinstance(src, list) else src).splitlines()
        for o in cell.get("outputs", []):
            for value in [o.get("text", "")] + list(o.get("data", {}).values()):
                if isinstance(value, list):
                    value = "".join(v for v in value if isinstance(v, str))
                if isinstance(value, str) and not value.startswith("iVBOR"):  # skip base64 images
                    out += value.splitlines()
    return out


def _is_package_source(rel: Path) -> bool:
    return rel.parts[0] == "mlcourse" and rel.suffix == ".py"


def leaks(release: Path, root: Path) -> tuple[list[str], list[str]]:
    """(leaks, references): each line of a solution's answers, hidden checks or solution-only cells
    found in a file of ``release``. An answer line inside the package's own source is not a leak
    but a *reference* — the implementation the visible checks compare against — and is listed apart;
    hidden checks and solution-only lines count as leaks everywhere."""
    secrets = secret_lines(root)
    found, references = [], []
    for f in sorted(p for p in release.rglob("*") if p.is_file() and ".git" not in p.parts):
        rel = f.relative_to(release)
        for n, line in enumerate(_texts(f), 1):
            s = line.strip()
            hit = secrets.get(s) or secrets.get(s.lstrip("#").strip())
            if hit:
                where, kind = hit
                entry = f"{rel} line {n}: {s!r} ({kind} in {where})"
                (references if kind == "answer" and _is_package_source(rel) else found).append(entry)
    return found, references


def build_release(out: Path, root: Path | None = None, *, force: bool = False, binder: str | None = None,
                  git: bool = False) -> list[Path]:
    """Write the student release to ``out``; returns the files written. Raises ValueError if a
    line of a solution's answers or hidden checks would ship (nothing is left in ``out`` then)."""
    root = (root or nbs.repo_root()).resolve()
    out = out.resolve()
    if out == root or out in root.parents:
        raise ValueError(f"refusing to write the release over the course checkout ({out})")
    if out.exists():
        if not force:
            raise FileExistsError(f"{out} exists; pass --force to replace it")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise FileExistsError(f"{out} is not an earlier release (no {MARKER}); not replacing it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    written = []
    for f in _files(root):
        if out in f.parents:
            continue
        dest = out / f.relative_to(root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, dest)
        written.append(dest)
    link = f"https://mybinder.org/v2/gh/{binder}" if binder else None
    if link:  # point launch links at the release's own repository
        for f in written:
            if f.suffix in (".ipynb", ".py", ".md"):
                text = f.read_text(encoding="utf-8")
                new = BINDER_RE.sub(link.removeprefix("https://"), text)
                if new != text:
                    f.write_text(new, encoding="utf-8")
    badge = (f"[![Binder](https://mybinder.org/badge_logo.svg)]({link}?urlpath=lab/tree/lectures/00_start_here.ipynb)"
             if link else "Binder: push this folder to a repository of its own and open it on mybinder.org.")
    (out / "README.md").write_text(README.format(title="mlcourse", binder=badge), encoding="utf-8")
    (out / MARKER).write_text("built by `mlcourse release`; safe to replace with --force\n", encoding="utf-8")
    written += [out / "README.md", out / MARKER]
    found, _references = leaks(out, root)
    if found:
        shutil.rmtree(out)
        raise ValueError("the release would show solution lines:\n  " + "\n  ".join(found[:20]))
    if git:
        env = {**os.environ, "GIT_AUTHOR_NAME": "mlcourse", "GIT_AUTHOR_EMAIL": "mlcourse@localhost",
               "GIT_COMMITTER_NAME": "mlcourse", "GIT_COMMITTER_EMAIL": "mlcourse@localhost"}
        for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "student release"]):
            subprocess.run(["git", "-C", str(out), *cmd], check=True, env=env, capture_output=True)
    return written
