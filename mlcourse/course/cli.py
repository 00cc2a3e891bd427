"""The ``mlcourse`` command: open the course, build notebooks, check staleness, grade exercises."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

START_PAGE = "lectures/00_start_here.ipynb"


def cmd_lab(args: argparse.Namespace, extra: list[str]) -> int:
    """Start JupyterLab at the course root on the start-here notebook; print the URL to open."""
    from mlcourse.course.notebooks import repo_root

    root = repo_root()
    token = args.token if args.token is not None else secrets.token_hex(16)
    headless = args.headless or (sys.platform.startswith("linux") and not os.environ.get("DISPLAY"))
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}",
           f"--ServerApp.ip={args.ip}", f"--ServerApp.port={args.port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--LabApp.default_url=/lab/tree/{START_PAGE}"]
    if headless:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    query = f"?token={token}" if token else ""
    print(f"mlcourse: open http://{args.ip}:{args.port}/lab/tree/{START_PAGE}{query}", flush=True)
    os.execv(sys.executable, cmd + extra)  # replaced: Ctrl-C and signals reach JupyterLab directly
    return 0


def cmd_build(args: argparse.Namespace, _extra: list[str]) -> int:
    from mlcourse.course.notebooks import build, repo_root, topics

    root = repo_root()
    names = topics(root, args.topics)
    if not names:
        print(f"mlcourse build: no lecture or solution matches {args.topics}", file=sys.stderr)
        return 2
    for name in names:
        try:
            build(root, name, force=args.force, execute_notebooks=not args.no_execute)
        except PermissionError as exc:
            print(f"mlcourse build: {exc}", file=sys.stderr)
            return 1
    return 0


def cmd_check(args: argparse.Namespace, _extra: list[str]) -> int:
    from mlcourse.course.notebooks import problems, repo_root, topics

    root = repo_root()
    found = [p for name in topics(root, args.topics) for p in problems(root, name)]
    print("\n".join(found) if found else "all notebooks are in sync with their sources")
    return 1 if found else 0


def cmd_grade(args: argparse.Namespace, _extra: list[str]) -> int:
    from mlcourse.course.grade import grade, report

    try:
        results = grade(Path(args.notebook), timeout=args.timeout,
                        key=Path(args.key) if args.key else None)
    except Exception as exc:  # unreadable or missing notebook: the one non-zero exit
        print(f"mlcourse grade: cannot read {args.notebook}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(report(results))
    return 0


def cmd_slides(args: argparse.Namespace, _extra: list[str]) -> int:
    from mlcourse.course.notebooks import repo_root, topics
    from mlcourse.course.slides import export_all

    root = repo_root()
    out = Path(args.out) if args.out else root / "build" / "slides"
    try:
        decks = export_all(root, topics(root, args.topics), out)
    except RuntimeError as exc:
        print(f"mlcourse slides: {exc}", file=sys.stderr)
        return 1
    for deck in decks:
        print(f"wrote {deck}")
    return 0


def cmd_site(args: argparse.Namespace, _extra: list[str]) -> int:
    """Build the course website from the executed notebooks (``build/site`` by default)."""
    from mlcourse.course.notebooks import repo_root
    from mlcourse.course.site import build_site, serve

    root = repo_root()
    out = Path(args.out).resolve() if args.out else root / "build" / "site"
    try:
        site = build_site(root, out, repository=args.repository, branch=args.branch)
    except RuntimeError as exc:
        print(f"mlcourse site: {exc}", file=sys.stderr)
        return 1
    for warning in site.warnings:
        print(f"mlcourse site: {warning}", file=sys.stderr)
    if args.serve is not None:
        serve(out, args.serve)
    else:
        print(f"preview it with `mlcourse site --serve` (or any static file server on {out})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlcourse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    lab = sub.add_parser("lab", help="open the course in JupyterLab (extra arguments go to jupyter lab)")
    lab.add_argument("--ip", default="127.0.0.1")
    lab.add_argument("--port", type=int, default=8888)
    lab.add_argument("--token", default=None, help="access token ('' for none; default: random)")
    lab.add_argument("--headless", action="store_true", help="never try to open a browser")
    lab.set_defaults(func=cmd_lab)

    b = sub.add_parser("build", help="execute lectures/solutions into .ipynb and regenerate exercises")
    b.add_argument("topics", nargs="*", help="numbers or names, e.g. 00 01_hyper (default: all)")
    b.add_argument("--force", action="store_true", help="overwrite exercises even if edited by hand")
    b.add_argument("--no-execute", action="store_true", help="write notebooks without running them")
    b.set_defaults(func=cmd_build)

    c = sub.add_parser("check", help="list notebooks out of sync with their sources (exit 1 if any)")
    c.add_argument("topics", nargs="*")
    c.set_defaults(func=cmd_check)

    g = sub.add_parser("grade", help="run a copy of an exercise notebook and score its checks")
    g.add_argument("notebook")
    g.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    g.add_argument("--key", help="solution source whose check cells (hidden checks too) replace the notebook's")
    g.set_defaults(func=cmd_grade)

    sl = sub.add_parser("slides", help="export lectures to offline reveal.js decks in build/slides/")
    sl.add_argument("topics", nargs="*", help="numbers or names (default: every lecture)")
    sl.add_argument("--out", help="output folder (default: build/slides)")
    sl.set_defaults(func=cmd_slides)

    si = sub.add_parser("site", help="build the course website (static, offline) into build/site/")
    si.add_argument("--out", help="output folder (default: build/site)")
    si.add_argument("--repository", default=None,
                    help="GitHub owner/name the Binder and Colab links open (default: mlcourse/mlcourse)")
    si.add_argument("--branch", default=None, help="branch the launch links open (default: main)")
    si.add_argument("--serve", type=int, nargs="?", const=8000, default=None, metavar="PORT",
                    help="then serve it on http://127.0.0.1:PORT (default 8000) until Ctrl-C")
    si.set_defaults(func=cmd_site)

    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "lab":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args.func(args, extra)


if __name__ == "__main__":
    sys.exit(main())
