"""The ``mlcourse`` command: open the course, build notebooks, check staleness, grade exercises."""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import sys
from pathlib import Path
from typing import NoReturn

START_PAGE = "lectures/00_start_here.ipynb"
TOOLING = {"jupyterlab", "jupyter_server", "jupytext", "nbformat", "nbclient", "nbconvert", "ipykernel"}


# The .py twin of every lecture, solution and exercise notebook: hidden from JupyterLab's file browser
# (one entry per notebook; jupytext still keeps the pair in step on save).
HIDDEN_TWINS = "[0-9][0-9]_*.py"


def _lab_command(root: Path, args: argparse.Namespace, page: str) -> tuple[list[str], str]:
    token = args.token if args.token is not None else secrets.token_hex(16)
    headless = args.headless or (sys.platform.startswith("linux") and not os.environ.get("DISPLAY"))
    hide = ["__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~", "*.so", "*.dylib", ".ipynb_checkpoints",
            HIDDEN_TWINS]
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}",
           f"--ServerApp.ip={args.ip}", f"--ServerApp.port={args.port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--LabApp.default_url=/lab/tree/{page}",
           f"--ContentsManager.hide_globs={hide!r}"]
    if os.name != "nt":  # a terminal is a login shell (it would reset PATH): put this environment first again
        shell = shlex.quote(os.environ.get("SHELL") or "/bin/sh")
        bin_dir = shlex.quote(str(Path(sys.executable).parent))
        inner = shlex.quote(f'export PATH={bin_dir}:"$PATH"; exec {shell} -i')
        cmd.append(f"--ServerApp.terminado_settings=shell_command={shell} -l -c {inner}")
    if headless:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    query = f"?token={token}" if token else ""
    return cmd, f"http://{args.ip}:{args.port}/lab/tree/{page}{query}"


def _exec_lab(cmd: list[str]) -> None:
    """Replace this process by JupyterLab, with this environment's commands (``mlcourse``) first on
    the PATH of every terminal it opens."""
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    os.environ.setdefault("VIRTUAL_ENV", str(Path(sys.executable).parent.parent))
    os.execv(sys.executable, cmd)  # replaced: Ctrl-C and signals reach JupyterLab directly


def cmd_lab(args: argparse.Namespace, extra: list[str]) -> int:
    """Start JupyterLab at the course root on the start-here notebook; print the URL to open."""
    root = _checkout("lab")
    cmd, url = _lab_command(root, args, START_PAGE)
    print(f"mlcourse: open {url}", flush=True)
    _exec_lab(cmd + extra)
    return 0


def _checkout(command: str) -> Path:
    """The course checkout around the current folder, or exit 2 with one line saying so."""
    from mlcourse.course.notebooks import repo_root

    try:
        return repo_root()
    except FileNotFoundError as exc:
        _refuse(f"mlcourse {command}: {exc}; run it inside a clone of the course")


def _one_topic(root: Path, command: str, number: str) -> str:
    """The topic name for a lecture number (``01`` → ``01_hyperparameters_vs_metaparameters``), or exit 2."""
    from mlcourse.course.notebooks import topics

    names = topics(root, [number]) if number else []
    if len(names) != 1:
        known = ", ".join(n[:2] for n in topics(root))
        _refuse(f"mlcourse {command}: no lecture {number!r}; the lectures are {known}")
    return names[0]


def _refuse(message: str) -> NoReturn:
    """Bad arguments: one line on stderr, exit status 2, nothing done."""
    print(message, file=sys.stderr)
    raise SystemExit(2)


def _running_lab(root: Path) -> tuple[str, str] | None:
    """The base URL (with token) of a JupyterLab already serving this checkout, if any."""
    import json
    import subprocess

    try:
        listed = subprocess.run([sys.executable, "-m", "jupyter", "server", "list", "--json"],
                                capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in listed.splitlines():
        try:
            server = json.loads(line)
        except ValueError:
            continue
        if Path(server.get("root_dir", "")).resolve() == root.resolve():
            token = server.get("token", "")
            return server["url"].rstrip("/") + "/", token
    return None


def cmd_start(args: argparse.Namespace, extra: list[str]) -> int:
    """Copy exercise NN into work/ (never over an existing copy) and open it in JupyterLab."""
    from mlcourse.course.notebooks import start_exercise

    root = _checkout("start")
    name = _one_topic(root, "start", args.topic)
    try:
        path, created = start_exercise(root, name)
    except FileNotFoundError as exc:
        print(f"mlcourse start: {exc}", file=sys.stderr)
        return 2
    rel = path.relative_to(root).as_posix()
    print(f"mlcourse: {'made your copy' if created else 'your copy is'} {rel}"
          f"{'' if created else ' (kept as it is)'}; grade it with `mlcourse grade {rel}`", flush=True)
    if args.no_lab:
        return 0
    running = _running_lab(root)
    if running:
        base, token = running
        print(f"mlcourse: JupyterLab is running: open {base}lab/tree/{rel}{'?token=' + token if token else ''}")
        return 0
    cmd, url = _lab_command(root, args, rel)
    print(f"mlcourse: open {url}", flush=True)
    _exec_lab(cmd + extra)
    return 0


def _chosen(root: Path, command: str, wanted: list[str]) -> list[str]:
    """The topics named on the command line (each must name exactly one), or every topic; exit 2
    with one line before anything is done if one names none."""
    from mlcourse.course.notebooks import topics

    return [_one_topic(root, command, t) for t in wanted] if wanted else topics(root)


def cmd_build(args: argparse.Namespace, _extra: list[str]) -> int:
    from mlcourse.course.notebooks import BadNotebook, build

    root = _checkout("build")
    for name in _chosen(root, "build", args.topics):
        try:
            build(root, name, force=args.force, execute_notebooks=not args.no_execute)
        except (PermissionError, BadNotebook) as exc:
            print(f"mlcourse build: {exc}", file=sys.stderr)
            return 1
    return 0


def cmd_check(args: argparse.Namespace, _extra: list[str]) -> int:
    from mlcourse.course.notebooks import BadNotebook, problems

    root = _checkout("check")
    try:
        found = [p for name in _chosen(root, "check", args.topics) for p in problems(root, name)]
    except BadNotebook as exc:
        print(f"mlcourse check: {exc}", file=sys.stderr)
        return 1
    print("\n".join(found) if found else "all notebooks are in sync with their sources")
    return 1 if found else 0


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
        return value
    return parse


def cmd_grade(args: argparse.Namespace, _extra: list[str]) -> int:
    from mlcourse.course.grade import collect, grade_all, report, self_check, summary, write_gradebook
    from mlcourse.course.sandbox import Limits, Sandbox, SandboxError

    if os.name == "nt":
        print("mlcourse grade needs Linux or macOS (it runs notebooks in a separate, limited process); on "
              "Windows, run the check cells in the notebook itself, or use WSL", file=sys.stderr)
        return 2
    limits = Limits(cell_timeout=args.timeout, memory_mb=args.memory,
                    notebook_timeout=args.notebook_timeout or max(900.0, 5 * args.timeout))
    paths = [Path(p) for p in args.paths]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"mlcourse grade: cannot read {missing[0]}: no such file or folder", file=sys.stderr)
        return 2
    try:
        sandbox = Sandbox.choose(args.sandbox)
    except SandboxError as exc:
        print(f"mlcourse grade: {exc}", file=sys.stderr)
        return 2
    keys = None
    if args.key:
        key = Path(args.key)
        keys = sorted(key.glob("[0-9][0-9]_*.py")) or sorted(key.glob("[0-9][0-9]_*.ipynb")) if key.is_dir() else [key]
        if not keys or not all(k.exists() for k in keys):
            print(f"mlcourse grade: no key at {key} (a solution notebook, or a folder of them)", file=sys.stderr)
            return 2
    batch = len(paths) > 1 or paths[0].is_dir()
    if not batch and not args.key:  # a student's self-check: one table
        try:
            graded = self_check(paths[0], limits, sandbox)
        except Exception as exc:  # unreadable or missing notebook: the one non-zero exit
            print(f"mlcourse grade: cannot read {paths[0]}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
        print(report(graded.results))
        print(f"({sandbox.summary()}; self-check: the notebook's own checks, not the instructor's key)")
        return 0
    from mlcourse.course.key import KeyProblem

    try:
        subs, errors = collect(paths, keys)
    except KeyProblem as exc:
        print(f"mlcourse grade: {exc}", file=sys.stderr)
        return 2
    if not subs and not errors:
        print(f"mlcourse grade: no notebooks under {', '.join(map(str, paths))}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else (Path("grades") if batch else None)
    print(sandbox.summary(), flush=True)
    if not args.key:
        print("no --key: each notebook is scored by its own check cells — a self-check, not a grade", flush=True)
    hidden = [p for p in paths if p.is_dir()] + ([out] if out else [])
    done = []

    def progress(g) -> None:
        done.append(g)
        if batch:
            print(f"[{len(done)}/{len(subs)}] {g.student} {g.assignment}: "
                  f"{f'{g.score}/{g.max_score}' if not g.error else 'not graded'} ({g.seconds:.0f} s)", flush=True)

    graded = grade_all(subs, limits, args.sandbox if sandbox.kind == "bwrap" else "none", jobs=args.jobs,
                       hidden=hidden, progress=progress) + errors
    if not batch:
        g = graded[0]
        if g.error:
            print(f"mlcourse grade: {g.error}", file=sys.stderr)
            return 2
        print(report(g.results, keyed=g.keyed))
        for w in g.warnings:
            print(f"note: {w}")
    else:
        print(summary(graded))
    if out is not None:
        written = write_gradebook(graded, out)
        print(f"wrote {written[0]}, {written[1]} and {len(written) - 2} feedback files in {out / 'feedback'}")
    return 1 if any(g.error for g in graded) else 0


def cmd_release(args: argparse.Namespace, _extra: list[str]) -> int:
    from mlcourse.course.release import build_release, leaks

    root = _checkout("release")
    try:
        written = build_release(Path(args.out), root, force=args.force, binder=args.binder, git=args.git)
    except (ValueError, FileExistsError, OSError) as exc:
        print(f"mlcourse release: {exc}", file=sys.stderr)
        return 1
    _, references = leaks(Path(args.out), root)
    print(f"wrote {len(written)} files to {args.out}: lectures, exercises (no hidden checks), the mlcourse "
          f"package, binder/ — no solutions")
    print(f"checked: no line of a solution's answers, hidden checks or solution-only cells in it "
          f"({len(references)} answer lines coincide with the package's reference implementations, "
          f"which the visible checks call)")
    if args.git:
        print(f"{args.out} is a git repository with one commit: push it as the students' repository or branch")
    return 0


def cmd_slides(args: argparse.Namespace, _extra: list[str]) -> int:
    from mlcourse.course.notebooks import BadNotebook
    from mlcourse.course.slides import MissingAssets, export_all

    root = _checkout("slides")
    names = _chosen(root, "slides", args.topics)
    unbuilt = [n for n in names if not (root / "lectures" / f"{n}.ipynb").exists()]
    if unbuilt and args.topics:
        print(f"mlcourse slides: lectures/{unbuilt[0]}.ipynb does not exist: build it first with "
              f"`mlcourse build {unbuilt[0][:2]}`", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else root / "build" / "slides"
    try:
        decks = export_all(root, names, out)
    except (MissingAssets, BadNotebook) as exc:
        print(f"mlcourse slides: {exc}", file=sys.stderr)
        return 1
    for deck in decks:
        print(f"wrote {deck}")
    return 0


def cmd_present(args: argparse.Namespace, _extra: list[str]) -> int:
    """Serve lecture NN as a live slideshow (Voilà): the notebook runs, every widget stays live."""
    import importlib.util

    from mlcourse.course.slides import MissingAssets, PRESENT_PATH, copy_assets, voila_command

    root = _checkout("present")
    name = _one_topic(root, "present", args.topic)
    try:
        if importlib.util.find_spec("voila") is None:
            raise MissingAssets("live slides need Voilà from the slides extra: pip install -e '.[slides]'")
        copy_assets(root / "build" / "slides")
    except MissingAssets as exc:
        print(f"mlcourse present: {exc}", file=sys.stderr)
        return 1
    headless = args.headless or (sys.platform.startswith("linux") and not os.environ.get("DISPLAY"))
    cmd, env = voila_command(root, name, port=args.port, ip=args.ip, browser=not headless)
    print(f"mlcourse: the lecture runs first (up to a minute), then the slides appear at "
          f"http://{args.ip}:{args.port}/voila/render/{PRESENT_PATH.format(name=name)}  "
          f"(space: next slide; s: speaker notes; Ctrl-C here to stop)", flush=True)
    os.chdir(root)
    os.execve(sys.executable, cmd, env)

    return 0


def cmd_site(args: argparse.Namespace, _extra: list[str]) -> int:
    """Build the course website from the executed notebooks (``build/site`` by default)."""
    from mlcourse.course.site import build_site, serve

    root = _checkout("site")
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


def _port(text: str) -> int:
    """A TCP port number for --port: 1 … 65535 (argparse says so in one line otherwise)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1 … 65535)")
    return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlcourse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    lab = sub.add_parser("lab", help="open the course in JupyterLab (extra arguments go to jupyter lab)")
    lab.add_argument("--ip", default="127.0.0.1")
    lab.add_argument("--port", type=_port, default=8888)
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

    g = sub.add_parser("grade", help="grade notebooks: a self-check, or an instructor's grading with --key",
                       description="Grade exercise notebooks. Without --key: run one notebook's own checks "
                       "(a student's self-check). With --key: the questions, points and checks come from the "
                       "key only, verdicts are reached outside the student's code, which runs sandboxed; a "
                       "folder of submissions is graded in parallel into a gradebook (CSV + feedback files).")
    g.add_argument("paths", nargs="+", metavar="notebook-or-folder")
    g.add_argument("--key", help="solution notebook, or a folder of them (solutions/), that defines the questions")
    g.add_argument("--timeout", type=_positive(float), default=120.0, help="seconds per cell (default 120)")
    g.add_argument("--notebook-timeout", type=_positive(float), default=None,
                   help="seconds for a whole notebook (default: the larger of 900 and 5 × --timeout)")
    g.add_argument("--memory", type=_positive(int), default=4096, help="MB of memory for student code (default 4096)")
    g.add_argument("--jobs", type=_positive(int), default=None, help="notebooks graded at once (default: cores)")
    g.add_argument("--out", help="folder for grades.csv, questions.csv and feedback/ (default for folders: grades)")
    g.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto",
                   help="bwrap: require bubblewrap; auto: use it when it works (default); none: limits only")
    g.set_defaults(func=cmd_grade)

    r = sub.add_parser("release", help="build what students receive: lectures, exercises and the package, "
                       "without solutions or hidden checks (a folder Binder can launch)")
    r.add_argument("out", help="folder to write (e.g. build/release)")
    r.add_argument("--force", action="store_true", help="replace an earlier release in OUT")
    r.add_argument("--binder", metavar="OWNER/REPO/REF", help="point the Binder links at the release's own "
                   "repository (e.g. myuni/mlcourse-students/main)")
    r.add_argument("--git", action="store_true", help="make OUT a git repository with one commit")
    r.set_defaults(func=cmd_release)

    sl = sub.add_parser("slides", help="export lectures to offline reveal.js decks in build/slides/")
    sl.add_argument("topics", nargs="*", help="numbers or names (default: every lecture)")
    sl.add_argument("--out", help="output folder (default: build/slides)")
    sl.set_defaults(func=cmd_slides)

    pr = sub.add_parser("present", help="present a lecture as live slides (Voilà): widgets keep working")
    pr.add_argument("topic", help="lecture number, e.g. 03")
    pr.add_argument("--ip", default="127.0.0.1")
    pr.add_argument("--port", type=_port, default=8866)
    pr.add_argument("--headless", action="store_true", help="never try to open a browser")
    pr.set_defaults(func=cmd_present)

    st = sub.add_parser("start", help="copy exercise NN into work/ (your copy, never overwritten) and open it")
    st.add_argument("topic", help="exercise number, e.g. 01")
    st.add_argument("--no-lab", action="store_true", help="only make the copy")
    st.add_argument("--ip", default="127.0.0.1")
    st.add_argument("--port", type=_port, default=8888)
    st.add_argument("--token", default=None, help="access token ('' for none; default: random)")
    st.add_argument("--headless", action="store_true", help="never try to open a browser")
    st.set_defaults(func=cmd_start)

    si = sub.add_parser("site", help="build the course website (static, offline) into build/site/")
    si.add_argument("--out", help="output folder (default: build/site)")
    si.add_argument("--repository", default=None,
                    help="GitHub owner/name the Binder and Colab links open (default: mlcourse/mlcourse)")
    si.add_argument("--branch", default=None, help="branch the launch links open (default: main)")
    si.add_argument("--serve", type=_port, nargs="?", const=8000, default=None, metavar="PORT",
                    help="then serve it on http://127.0.0.1:PORT (default 8000) until Ctrl-C")
    si.set_defaults(func=cmd_site)

    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("lab", "start"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args, extra)
    except ModuleNotFoundError as exc:  # a core install (e.g. on Colab) has no notebook tooling
        if exc.name and exc.name.split(".")[0] in TOOLING:
            print(f"mlcourse {args.command}: needs the notebook tooling (missing {exc.name}): "
                  f"pip install 'mlcourse[lab]'", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
