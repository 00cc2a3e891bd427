"""Where a submission's code runs when it is graded: a throwaway folder, hard limits, and — when
bubblewrap (``bwrap``) is installed and works — a sandbox of its own.

With bubblewrap (``apt-get install bubblewrap``; Fedora/Arch: ``bubblewrap``), the student's process
gets new user, PID, network, IPC, UTS and cgroup namespaces and no capabilities: no network at all;
it sees the system's programs and libraries, Python and the ``mlcourse`` package read-only, a few
files of /etc, a size-limited private /tmp and home folder, and its own submission folder read-only
(which it copies into its home before any of its code runs) — and nothing else: not the key, not
other submissions, not the grader's files. It cannot see or signal processes outside, and all of its
processes die with it.

Always, with or without bubblewrap: the process runs on a copy of the submission in a fresh folder,
with hard limits on address space (memory), CPU time, file size and core dumps, a per-cell and a
whole-notebook wall-clock limit (enforced from outside, with SIGKILL), and a clean environment. The
submitted file itself is only ever read.

Without bubblewrap the code runs as the grading user: it can read (and write) every file that user
can, use the network, and leave processes behind once its CPU limit allows — so an instructor must
not grade with ``--key`` on such a machine unless the key is out of that user's reach.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import mlcourse

HOME = "/home/student"
SUBMISSION = "/submission"
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives", "fonts",
             "mime.types", "passwd", "group", "nsswitch.conf", "host.conf", "hosts")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def deterministic_env() -> dict[str, str]:
    """The environment every notebook execution of the course gets (threads, seeds)."""
    from mlcourse.course.notebooks import DETERMINISTIC_ENV

    return dict(DETERMINISTIC_ENV)


class SandboxError(RuntimeError):
    """The sandbox cannot be set up as asked (e.g. ``--sandbox bwrap`` without bubblewrap)."""


@dataclass(frozen=True)
class Limits:
    cell_timeout: float = 120.0  # seconds of wall time for one cell (or one check cell with its calls)
    notebook_timeout: float = 900.0  # seconds of wall time for the whole notebook
    memory_mb: int = 4096  # address space of the student's process
    file_mb: int = 256  # largest file it may write; also the size of its private /tmp and home
    restarts: int = 3  # times its process is restarted after a crash or a timeout
    processes: int = 256  # processes and threads at once (enforced where a cgroup can be made: root)

    def __post_init__(self) -> None:
        for name in ("cell_timeout", "notebook_timeout", "memory_mb", "file_mb", "processes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name.replace('_', ' ')} must be positive, got {getattr(self, name)}")


@functools.lru_cache(maxsize=None)
def bwrap_path() -> str | None:
    """The bubblewrap binary if it is installed *and* can create its namespaces here."""
    exe = shutil.which("bwrap")
    if exe is None:
        return None
    try:
        ok = subprocess.run([exe, "--unshare-all", "--unshare-user", "--die-with-parent", "--ro-bind", "/", "/",
                             "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return exe if ok else None


@functools.lru_cache(maxsize=None)
def _can_make_cgroup() -> bool:
    group = Cgroup.create(Limits())
    if group is None:
        return False
    group.close()
    return True


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


@functools.lru_cache(maxsize=None)
def _clean_sys_path() -> tuple[str, ...]:
    """``sys.path`` of a fresh ``python -I`` of this environment (not of this process, whose path
    may hold a test runner's or a script's folder)."""
    try:
        out = subprocess.run([sys.executable, "-I", "-c", "import sys; print('\\n'.join(sys.path))"],
                             capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return tuple(p for p in out.splitlines() if p)


def python_paths() -> list[Path]:
    """Folders the student's Python needs to read: its installation, this environment, mlcourse."""
    wanted = [Path(sys.base_prefix), Path(sys.prefix), Path(sys.exec_prefix),
              Path(os.path.realpath(sys.executable)).parent.parent, Path(mlcourse.__file__).parent]
    wanted += [Path(p) for p in _clean_sys_path() if os.path.isdir(p)]
    out: list[Path] = []
    for p in sorted({Path(os.path.realpath(p)) for p in wanted}, key=lambda p: len(p.parts)):
        if p != Path("/") and not _under(p, out):
            out.append(p)
    return out


class Cgroup:
    """All of one submission's processes in a control group of their own (where the grader runs as
    root and may make one): at most ``Limits.processes`` of them, ``Limits.memory_mb`` of memory
    together, and :meth:`close` ends every one of them, even those that left their process group."""

    ROOT = Path("/sys/fs/cgroup")

    def __init__(self, dirs: list[Path]) -> None:
        self.dirs = dirs

    @classmethod
    def create(cls, limits: Limits) -> "Cgroup | None":
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return None
        name = f"mlcourse-grade-{os.getpid()}-{os.urandom(4).hex()}"
        wanted = [("pids", {"pids.max": limits.processes}),
                  ("memory", {"memory.limit_in_bytes": limits.memory_mb << 20})]
        if not (cls.ROOT / "pids").is_dir() and (cls.ROOT / "cgroup.controllers").exists():  # cgroup v2
            wanted = [("", {"pids.max": limits.processes, "memory.max": limits.memory_mb << 20})]
        group = cls([])
        try:
            for controller, files in wanted:
                d = cls.ROOT / controller / name
                d.mkdir()
                group.dirs.append(d)
                for f, value in files.items():
                    (d / f).write_text(str(value))
        except OSError:
            group.close()
            return None
        return group

    def add(self, pid: int) -> None:
        """Move ``pid`` and every process it has started into the group."""
        for p in [pid, *_descendants(pid)]:
            for d in self.dirs:
                try:
                    (d / "cgroup.procs").write_text(str(p))
                except OSError:
                    pass

    def pids(self) -> set[int]:
        found = set()
        for d in self.dirs:
            try:
                found |= {int(x) for x in (d / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return found

    def close(self) -> None:
        import signal
        import time

        for _ in range(50):
            left = self.pids()
            if not left:
                break
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


@dataclass
class Sandbox:
    kind: str  # "bwrap" or "none"
    exe: str | None = None

    @classmethod
    def choose(cls, mode: str = "auto") -> "Sandbox":
        """``auto``: bubblewrap when it works, else none; ``bwrap``: bubblewrap or SandboxError;
        ``none``: limits only."""
        if mode not in ("auto", "bwrap", "none"):
            raise ValueError(f"sandbox must be auto, bwrap or none, not {mode!r}")
        exe = bwrap_path() if mode != "none" else None
        if mode == "bwrap" and exe is None:
            raise SandboxError("bubblewrap (bwrap) is not installed or cannot create namespaces here; "
                               "install it (Debian/Ubuntu: apt-get install bubblewrap)")
        return cls("bwrap", exe) if exe else cls("none")

    def summary(self) -> str:
        group = " and a process count" if _can_make_cgroup() else ""
        if self.kind == "bwrap":
            return ("sandbox: bubblewrap — no network, no view of files outside the submission, Python "
                    f"and mlcourse; memory, CPU and time limits{group}")
        return ("sandbox: NONE (bubblewrap not found) — only a throwaway folder and memory, CPU and time "
                f"limits{group}: student code can read and write the grading user's files and use the network")

    def command(self, source: Path, notebook: str, limits: Limits, scratch: Path, *,
                hidden: list[Path] = (), base_env: dict | None = None) -> tuple[list[str], dict[str, str], str]:
        """(argv, environment, cwd) that start :mod:`mlcourse.course.runner` on ``source`` (the
        submission's folder, or its file alone). ``hidden`` are paths student code must not see:
        it is an error if one of them lies inside a folder the sandbox shows."""
        source = Path(os.path.realpath(source))
        import json

        if self.kind == "bwrap":
            mount = f"{SUBMISSION}/{source.name}"
            workdir = f"{HOME}/{source.name if source.is_dir() else 'work'}"
            home = HOME
        else:
            mount, workdir, home = str(source), str(scratch / "work"), str(scratch / "home")
            Path(home).mkdir(parents=True, exist_ok=True)
        config = {"source": mount, "notebook": notebook, "workdir": workdir, "memory_mb": limits.memory_mb,
                  "cpu_s": int(limits.notebook_timeout) + 10, "file_mb": limits.file_mb}
        runner = [sys.executable, "-I", "-m", "mlcourse.course.runner", json.dumps(config)]
        env = {"PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin", "HOME": home,
               "USER": "student", "LOGNAME": "student", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "TMPDIR": "/tmp" if self.kind == "bwrap" else str(scratch), "MPLBACKEND": "Agg",
               "MPLCONFIGDIR": f"{home}/.config/matplotlib", "PYTHONDONTWRITEBYTECODE": "1",
               "MLCOURSE_DEVICE": "cpu", "CUDA_VISIBLE_DEVICES": "", **(base_env or deterministic_env())}
        if self.kind != "bwrap":
            return runner, env, str(scratch)
        shown = python_paths()
        for h in hidden:
            h = Path(os.path.realpath(h))
            if _under(h, shown):
                raise SandboxError(f"{h} would be visible to student code (it lies inside {next(p for p in shown if _under(h, [p]))}); "
                                   f"move it out of the Python installation and the mlcourse package")
        size = str(limits.file_mb << 20)
        args = [self.exe, "--unshare-all", "--unshare-user", "--disable-userns", "--uid", "65534", "--gid", "65534",
                "--hostname", "grader", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        for d in SYSTEM_DIRS:
            if os.path.islink(d):
                args += ["--symlink", os.readlink(d), d]
            elif os.path.isdir(d):
                args += ["--ro-bind", d, d]
        for f in ETC_FILES:
            if os.path.exists(f"/etc/{f}"):
                args += ["--ro-bind", f"/etc/{f}", f"/etc/{f}"]
        args += ["--dev", "/dev", "--proc", "/proc", "--size", size, "--tmpfs", "/tmp",
                 "--size", size, "--tmpfs", HOME]
        for p in shown:
            if not _under(p, [Path(d) for d in SYSTEM_DIRS]):
                args += ["--ro-bind", str(p), str(p)]
        args += ["--ro-bind", str(source), mount, "--chdir", HOME, "--"]
        return args + runner, env, str(scratch)

    def start(self, source: Path, notebook: str, limits: Limits, scratch: Path, *,
              hidden: list[Path] = (), base_env: dict | None = None) -> subprocess.Popen:
        argv, env, cwd = self.command(source, notebook, limits, scratch, hidden=hidden, base_env=base_env)
        return subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
