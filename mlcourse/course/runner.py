"""The student's side of grading: a process that runs a submission's cells and reports, as plain
data, the values they leave behind.

The grader starts it as ``python -I -m mlcourse.course.runner CONFIG`` — inside the sandbox when
there is one (:mod:`mlcourse.course.sandbox`) — and talks to it over its stdin and stdout, which are
moved to other descriptors before any submitted code runs (fds 0, 1 and 2 then point at /dev/null
and a log). Commands, each answered in order:

``("exec", seq, source)``
    run a cell; answer ``("done", seq, "ok" | "error", (exception type, first line), records)``, where
    ``records`` are the check records the cell displayed (used only by the self-check, which trusts
    the notebook anyway).
``("fetch", seq, names)``
    answer ``("values", seq, {name: encoded value or None if unbound})``. A function becomes a handle.
``("call", seq, handle, [encoded args], {name: encoded kwarg})``
    call a function handed out earlier; answer ``("result", seq, ok, encoded result or error,
    {arg position or name: encoded new value})`` — the last part carries arguments the function
    changed in place. While it runs, the function may call back a function of the grader's:
    ``("callback", id, args, kwargs)``, answered by ``("cbresult", ok, value or error)``.
``("bye",)``
    exit.

Nothing this process sends is trusted: the grader decodes it with :func:`mlcourse.course.wire.decode`
and judges it with its own code, in its own process.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import shutil
import sys
from pathlib import Path
from typing import Any

from mlcourse.course import wire

ALLOWED_ERRORS = {  # exception types rebuilt by name on the other side; anything else keeps only its name
    e.__name__: e for e in (ArithmeticError, AssertionError, AttributeError, IndexError, KeyError, LookupError,
                            MemoryError, NameError, NotImplementedError, OverflowError, RecursionError,
                            RuntimeError, StopIteration, TypeError, ValueError, ZeroDivisionError,
                            FloatingPointError, UnboundLocalError)}
COPY_LIMIT = 100 * 1024 * 1024  # bytes of a submission folder copied into the work folder
SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", ".ipynb_checkpoints", "node_modules"}


def describe(exc: BaseException) -> tuple[str, str]:
    """(type name, first line of the message, at most 100 characters) of an exception."""
    try:
        first = (str(exc).splitlines() or [""])[0][:100]
    except Exception:  # a student's exception whose __str__ raises
        first = ""
    return type(exc).__name__[:60], first


def set_limits(memory_mb: int | None, cpu_s: int | None, file_mb: int | None) -> None:
    """Hard resource limits for this process and its children (not raisable without privileges)."""
    wanted = [(resource.RLIMIT_CORE, 0)]
    if memory_mb:
        wanted.append((resource.RLIMIT_AS, memory_mb << 20))
    if cpu_s:
        wanted.append((resource.RLIMIT_CPU, int(cpu_s)))
    if file_mb:
        wanted.append((resource.RLIMIT_FSIZE, file_mb << 20))
    for res, value in wanted:
        try:
            resource.setrlimit(res, (value, value))
        except (ValueError, OSError):
            pass  # already lower


def _folder_size(folder: Path) -> int:
    total = 0
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def prepare(source: str, notebook: str, workdir: str) -> None:
    """Copy the submission (a folder, or one file) into ``workdir`` and move there."""
    src, work = Path(source), Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    if src.is_dir() and _folder_size(src) <= COPY_LIMIT:
        shutil.copytree(src, work, symlinks=True, dirs_exist_ok=True,
                        ignore=lambda _d, names: [n for n in names if n in SKIP_DIRS])
    elif src.is_dir():
        shutil.copy2(src / notebook, work / notebook)
    elif src.is_file():
        shutil.copy2(src, work / src.name)
    os.chdir(work)


def make_shell(records: list):
    """An IPython shell (magics work as in a notebook) whose displayed check records go to ``records``."""
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from mlcourse.grading import CHECK_MIMETYPE

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            rec = data.get(CHECK_MIMETYPE) if isinstance(data, dict) else None
            if isinstance(rec, dict):  # kept as plain data: a cell may display anything here
                try:
                    records.append({"question": str(rec.get("question", ""))[:200],
                                    "passed": rec.get("passed") is True, "points": int(rec.get("points", 1)),
                                    "recorded": rec.get("recorded") is True,
                                    "line": str(data.get("text/plain", ""))[:500]})
                except Exception:
                    pass

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    shell.display_pub = Publisher(shell=shell)
    return shell


def rebuild_error(kind: Any, message: Any) -> BaseException:
    cls = ALLOWED_ERRORS.get(kind, RuntimeError) if isinstance(kind, str) else RuntimeError
    text = str(message)[:100] if isinstance(message, str) else ""
    return cls(text if cls is not RuntimeError or kind == "RuntimeError" else f"{kind}: {text}")


def _version(obj: Any):
    """Torch's version counters move with every change in place: a cheap test for one."""
    torch = sys.modules.get("torch")
    if torch is not None and type(obj) is torch.Tensor:
        return obj._version
    if torch is not None and isinstance(obj, torch.nn.Module):
        return tuple(t._version for t in obj.state_dict().values())
    return None


def _is_generator(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and type(obj) is torch.Generator


def _mutable(obj: Any) -> bool:
    """Kinds of argument a function can change in place (and whose changes are written back)."""
    torch, np = sys.modules.get("torch"), sys.modules.get("numpy")
    return (isinstance(obj, (list, dict, set))
            or (torch is not None and isinstance(obj, (torch.Tensor, torch.Generator, torch.nn.Module)))
            or (np is not None and isinstance(obj, np.ndarray)))


class Server:
    def __init__(self, fin: int, fout: int) -> None:
        self.fin, self.fout = fin, fout
        self.records: list = []
        self.shell = make_shell(self.records)
        self.ns = self.shell.user_ns
        self.handles: dict[str, Any] = {}
        self.prefix, self.counter = "r", 0
        self.results = 0

    # -------------------------------------------------------------------------------- the channel
    def send(self, msg: tuple) -> None:
        wire.write_frame(self.fout, wire.encode(msg, strict=True))

    def recv(self) -> tuple:
        msg = wire.decode(wire.read_frame(self.fin))
        if not isinstance(msg, tuple) or not msg or not isinstance(msg[0], str):
            raise wire.WireError("bad command")
        return msg

    # ---------------------------------------------------------------------- values: ours → grader
    def extension(self, obj: Any):
        if _is_generator(obj):
            return "gen", obj.get_state()
        if callable(obj):
            self.counter += 1
            hid = f"{self.prefix}.{self.counter}"
            self.handles[hid] = obj
            name = getattr(obj, "__qualname__", None) or type(obj).__name__
            return "fn", (hid, name if isinstance(name, str) else "function")
        return None

    def encode(self, obj: Any) -> bytes:
        try:
            return wire.encode(obj, self.extension)
        except Exception as exc:  # a value whose parts fail to convert
            return wire.encode(wire.Unsupported(f"{type(obj).__name__} ({describe(exc)[0]})"))

    @staticmethod
    def _generator_only(obj: Any):
        return ("gen", obj.get_state()) if _is_generator(obj) else None

    # ----------------------------------------------------------------------- values: grader → ours
    def resolve(self, name: str, payload: Any) -> Any:
        if name == "cb" and isinstance(payload, int):
            server = self

            def grader_function(*args, **kwargs):
                return server.callback(payload, args, kwargs)

            return grader_function
        if name == "ref" and isinstance(payload, str):
            if payload not in self.ns:
                raise NameError(f"name {payload!r} is not defined in the notebook")
            return self.ns[payload]
        if name == "imp" and isinstance(payload, tuple) and len(payload) == 2:
            obj = importlib.import_module(payload[0])
            for part in filter(None, payload[1].split(".")):
                obj = getattr(obj, part)
            return obj
        if name == "gen":
            import torch

            g = torch.Generator()
            g.set_state(payload)
            return g
        if name == "code" and isinstance(payload, tuple) and len(payload) == 7 and payload[0] == sys.version:
            import builtins
            import marshal
            import types

            _, code, fname, globs, cells, defaults, kwdefaults = payload
            fn = types.FunctionType(marshal.loads(code), {"__builtins__": builtins, **globs}, fname, defaults,
                                    tuple(types.CellType(v) for v in cells) or None)
            fn.__kwdefaults__ = kwdefaults
            return fn
        if name == "handle" and payload in self.handles:
            return self.handles[payload]
        return wire.Unsupported(name)

    def callback(self, cid: int, args: tuple, kwargs: dict) -> Any:
        self.send(("callback", cid, [self.encode(a) for a in args], {k: self.encode(v) for k, v in kwargs.items()}))
        while True:
            msg = self.recv()
            if msg[0] == "cbresult":
                if msg[1] is True:
                    return wire.decode(msg[2], self.resolve)
                kind, text = msg[2] if isinstance(msg[2], tuple) and len(msg[2]) == 2 else ("RuntimeError", "")
                raise rebuild_error(kind, text)
            self.dispatch(msg)

    # ------------------------------------------------------------------------------- the commands
    def serve(self) -> None:
        while True:
            msg = self.recv()
            if msg[0] == "bye":
                return
            self.dispatch(msg)

    def dispatch(self, msg: tuple) -> None:
        kind = msg[0]
        if kind == "exec":
            self.records.clear()
            status, detail = "ok", ("", "")
            try:
                result = self.shell.run_cell(msg[2], store_history=False)
                err = result.error_before_exec or result.error_in_exec
            except BaseException as exc:  # noqa: BLE001 — whatever the cell did, answer
                err = exc
            if err is not None:
                status, detail = "error", describe(err)
            self.send(("done", msg[1], status, detail, list(self.records)))
        elif kind == "fetch":
            values = {}
            for name in msg[2]:
                self.prefix, self.counter = f"f{msg[1]}:{name}", 0
                values[name] = self.encode(self.ns[name]) if name in self.ns else None
            self.send(("values", msg[1], values))
        elif kind == "call":
            self.send(self.call(*msg[1:5]))
        else:
            raise wire.WireError(f"unknown command {kind!r}")

    def call(self, seq: int, hid: str, arg_blobs: list, kwarg_blobs: dict) -> tuple:
        fn = self.handles.get(hid)
        if fn is None:
            return ("result", seq, False, ("LookupError", "this function is not available any more"), {})
        try:
            args = [wire.decode(b, self.resolve) for b in arg_blobs]
            kwargs = {k: wire.decode(b, self.resolve) for k, b in kwarg_blobs.items()}
        except Exception as exc:
            return ("result", seq, False, describe(exc), {})
        versions = [_version(a) for a in args], {k: _version(v) for k, v in kwargs.items()}
        try:
            out = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 — the student's function failed: say how
            return ("result", seq, False, describe(exc), self.changed(arg_blobs, args, kwarg_blobs, kwargs, versions))
        self.results += 1
        self.prefix, self.counter = f"r{self.results}", 0
        return ("result", seq, True, self.encode(out), self.changed(arg_blobs, args, kwarg_blobs, kwargs, versions))

    def changed(self, arg_blobs, args, kwarg_blobs, kwargs, versions) -> dict:
        """Arguments the call changed in place (tensors, arrays, lists, dicts, generators), re-encoded."""
        out = {}
        pairs = [(i, b, a, versions[0][i]) for i, (b, a) in enumerate(zip(arg_blobs, args))]
        pairs += [(k, kwarg_blobs[k], v, versions[1][k]) for k, v in kwargs.items()]
        for where, blob, obj, version in pairs:
            if not _mutable(obj) or (version is not None and _version(obj) == version):
                continue  # a tensor's version counter moves with every change in place
            try:
                if type(blob) is bytes and blob[:1] == b"X" and hasattr(obj, "state_dict"):
                    now = wire.encode(dict(obj.state_dict()), strict=True)  # a model the grader lent by name
                else:
                    now = wire.encode(obj, self._generator_only, strict=True)
            except Exception:
                continue
            if now != blob:
                out[where] = now
        return out


def main(argv: list[str]) -> int:
    cfg = json.loads(argv[1])
    fin, fout = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    log = os.open(cfg.get("log") or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    set_limits(cfg.get("memory_mb"), cfg.get("cpu_s"), cfg.get("file_mb"))
    prepare(cfg["source"], cfg["notebook"], cfg["workdir"])
    server = Server(fin, fout)
    server.send(("ready", os.getpid()))
    try:
        server.serve()
    except (EOFError, wire.WireError, BrokenPipeError):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
