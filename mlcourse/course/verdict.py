"""Grading with a key: values out of the student's process, verdicts in the grader's.

Two processes grade one submission. The *student's* process (:mod:`mlcourse.course.runner`, in the
sandbox) runs the key's set-up cells and the submission's answer cells, in the key's order. The
*grader's* process — this module, where no submitted code ever runs — runs the same set-up cells,
the exercise's stubs in place of the answers, and the key's check cells, hidden checks included.
After each answer cell it asks the student's process for the answer names that later cells read:

* data comes back as plain values rebuilt by :mod:`mlcourse.course.wire` (never unpickled);
* a function comes back as an :class:`AnswerFunction`: calling it sends the arguments to the student's
  process, runs the student's function there and brings back its result as plain data (and the
  new contents of any argument it changed in place). Functions of the grader's that a check passes
  to it run in the grader's process when the student's code calls them.

Every comparison happens here, with this process's own ``abs``, ``torch`` and ``check``. Whatever a
submission does to its own process — patch the check machinery, shadow ``check``, display forged
records, leave threads behind, return objects with lying ``__eq__`` — changes nothing here: its
only way to pass a check is to produce the values the check accepts.

Run as ``python -I -m mlcourse.course.verdict`` with a JSON config on stdin; it writes one JSON
event per line on stdout (see :func:`mlcourse.course.grade.grade_with_key`).
"""

from __future__ import annotations

import collections
import functools
import importlib
import json
import os
import select
import shutil
import struct
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from mlcourse.course import wire
from mlcourse.course.runner import ALLOWED_ERRORS, make_shell
from mlcourse.course.sandbox import Cgroup, Limits, Sandbox, SandboxError

UNBOUND = object()
STARTUP_TIMEOUT = 120.0  # seconds for the student's process to start (Python, IPython, the copy)
BAD = ("timed out", "crashed", "not run")


class TimedOut(Exception):
    """The student's code ran over its time limit (raised in a check that called it)."""


class ProcessLost(Exception):
    """The student's process is gone for good (too many crashes or timeouts)."""


class StudentError(Exception):
    """An exception raised by the student's code whose type is not one of the builtin ones."""


class GradingProblem(Exception):
    """Something the key asks that the grader cannot do (a problem of the key, not of the answer)."""


def rebuild(kind: Any, message: Any) -> Exception:
    """An exception of the grader's making that says what the student's code raised."""
    kind = kind if isinstance(kind, str) and kind.isidentifier() else "Exception"
    text = message[:100] if isinstance(message, str) else ""
    cls = ALLOWED_ERRORS.get(kind)
    if cls is not None and issubclass(cls, Exception):
        return cls(text)
    return type(kind[:60], (StudentError,), {})(text)


class AnswerFunction:
    """A student's function, called in the student's process with plain data."""

    def __init__(self, student: "Student", hid: str, name: str) -> None:
        self._student, self._hid, self.__name__ = student, hid, name
        self.__qualname__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._student.call(self._hid, args, kwargs)

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"


@dataclass
class Command:
    seq: int
    kind: str  # exec | fetch | call
    payload: bytes
    sent: float = 0.0
    deadline: float | None = None  # calls: an absolute deadline; others: cell_timeout from their start
    reply: tuple | None = None
    status: str = ""  # ok | error | timed out | crashed | not run
    detail: tuple = ("", "")


class Student:
    """The grader's handle on the student's process: pipelined commands, timeouts, restarts with
    replay of everything that had completed (so one crash or timeout costs one answer)."""

    def __init__(self, sandbox: Sandbox, source: Path, notebook: str, limits: Limits, deadline: float,
                 hidden: list[Path], resolve: Callable, extension: Callable, env: dict | None = None) -> None:
        self.sandbox, self.source, self.notebook, self.limits, self.env = sandbox, source, notebook, limits, env
        self.deadline, self.hidden, self.resolve, self.extension = deadline, hidden, resolve, extension
        self.scratch = Path(tempfile.mkdtemp(prefix="mlcourse-grade-"))
        self.proc = None
        self.buf = bytearray()
        self.seq = 0
        self.pending: collections.OrderedDict[int, Command] = collections.OrderedDict()
        self.log: list[Command] = []  # completed exec/fetch commands, replayed after a restart
        self.restarts = 0
        self.lost = False
        self.last_progress = time.monotonic()
        self.callbacks: dict[int, Callable] = {}
        self.events: list[str] = []
        self.cgroup = Cgroup.create(limits)
        self._spawn()

    # ------------------------------------------------------------------------------- the process
    def _spawn(self) -> None:
        self.buf.clear()
        run = self.scratch / f"run{self.restarts}"
        run.mkdir()
        self.proc = self.sandbox.start(self.source, self.notebook, self.limits, run, hidden=self.hidden,
                                       base_env=self.env)
        if self.cgroup is not None:
            self.cgroup.add(self.proc.pid)
        try:
            msg = self._recv(min(time.monotonic() + STARTUP_TIMEOUT, self.deadline))
        except (EOFError, wire.WireError) as exc:
            msg = None
            why = f"{type(exc).__name__}: {exc}"
        else:
            why = "it did not start in time"
        if not (isinstance(msg, tuple) and msg and msg[0] == "ready"):
            err = b""
            self._kill()
            try:
                err = self.proc.stderr.read()[-2000:]
            except Exception:
                pass
            raise ProcessLost(f"the sandboxed Python process could not start ({why}) {err.decode(errors='replace')}")
        if self.cgroup is not None:  # before any submitted code runs: whatever bwrap started since
            self.cgroup.add(self.proc.pid)
        self.last_progress = time.monotonic()

    def _kill(self) -> None:
        if self.proc is None:
            return
        if self.cgroup is not None:
            for pid in self.cgroup.pids():
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
        try:
            os.killpg(self.proc.pid, 9)
        except OSError:
            pass
        try:
            self.proc.kill()
            self.proc.wait(timeout=30)
        except Exception:
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except Exception:
                pass

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None and not self.lost:
            try:
                wire.write_frame(self.proc.stdin.fileno(), wire.encode(("bye",)))
                self.proc.wait(timeout=5)
            except Exception:
                pass
        self._kill()
        if self.cgroup is not None:
            self.cgroup.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    # ---------------------------------------------------------------------------------- the wire
    def _send_raw(self, payload: bytes) -> None:
        wire.write_frame(self.proc.stdin.fileno(), payload)

    def _recv(self, until: float):
        """The next message, or None at ``until``. EOFError if the process closed its side."""
        fd = self.proc.stdout.fileno()
        while True:
            if len(self.buf) >= 8:
                (n,) = struct.unpack(">Q", self.buf[:8])
                if n > wire.MAX_MESSAGE:
                    raise wire.WireError("message too large")
                if len(self.buf) >= 8 + n:
                    frame = bytes(self.buf[8:8 + n])
                    del self.buf[:8 + n]
                    msg = wire.decode(frame)
                    if not isinstance(msg, tuple) or not msg:
                        raise wire.WireError("not a message")
                    return msg
            left = until - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise EOFError("the process ended")
                self.buf += chunk

    # ------------------------------------------------------------------------------ the commands
    def _issue(self, kind: str, body: tuple, deadline: float | None = None) -> Command:
        self.seq += 1
        cmd = Command(self.seq, kind, wire.encode((kind, self.seq, *body), strict=True), deadline=deadline)
        if self.lost:
            cmd.status, cmd.detail = "not run", ("", "")
            return cmd
        self.pending[cmd.seq] = cmd
        self._send(cmd)
        return cmd

    def _send(self, cmd: Command) -> None:
        cmd.sent = time.monotonic()
        try:
            self._send_raw(cmd.payload)
        except OSError:
            pass  # the process is gone: the next read sees it

    def _head_deadline(self) -> float:
        head = next(iter(self.pending.values()))
        if head.kind == "call" and head.deadline is not None:
            limit = head.deadline
        else:
            limit = max(head.sent, self.last_progress) + self.limits.cell_timeout
        return min(limit, self.deadline)

    def pump(self, until: Command) -> None:
        """Process messages until ``until`` completes (its status set), restarting the process
        after a timeout or a crash of whichever command was running."""
        while until.status == "" and self.pending:
            try:
                msg = self._recv(self._head_deadline())
            except (EOFError, wire.WireError, OSError) as exc:
                self._fail("crashed", self._exit_detail(exc))
                continue
            if msg is None:
                self._fail("timed out", ("", ""))
                continue
            self.last_progress = time.monotonic()
            kind = msg[0]
            if kind == "callback" and len(msg) == 4:
                self._callback(*msg[1:])
                continue
            seq = msg[1] if len(msg) > 1 else None
            cmd = self.pending.get(seq) if isinstance(seq, int) else None
            expected = {"exec": "done", "fetch": "values", "call": "result"}
            if cmd is None or expected[cmd.kind] != kind:
                self._fail("crashed", ("ProtocolError", "the student's process sent something unexpected"))
                continue
            del self.pending[seq]
            cmd.reply = msg
            if cmd.kind == "exec":
                ok = len(msg) >= 4 and msg[2] == "ok"
                cmd.status = "ok" if ok else "error"
                d = msg[3] if len(msg) >= 4 and isinstance(msg[3], tuple) and len(msg[3]) == 2 else ("", "")
                cmd.detail = tuple(str(x)[:100] for x in d)
            else:
                cmd.status = "ok"
            if cmd.kind != "call":
                self.log.append(cmd)

    def _exit_detail(self, exc: BaseException) -> tuple[str, str]:
        code = None
        try:
            code = self.proc.wait(timeout=2)
        except Exception:
            pass
        if isinstance(exc, wire.WireError):
            return ("ProtocolError", "the student's process sent a malformed message")
        if code is not None and code < 0:
            import signal

            try:
                return ("killed", f"by {signal.Signals(-code).name}")
            except ValueError:
                return ("killed", f"by signal {-code}")
        return ("exited", f"with status {code}" if code is not None else "")

    def _fail(self, why: str, detail: tuple[str, str]) -> None:
        """The command at the head of the queue timed out or crashed the process: record it, then
        restart the process, replay what had completed, and resend what was still queued."""
        culprit = self.pending.popitem(last=False)[1]
        culprit.status, culprit.detail = why, detail
        how = " ".join(detail).strip()
        self.events.append(f"{why}: command {culprit.seq} ({culprit.kind})" + (f" — {how}" if how else ""))
        self._kill()
        queued = [c for c in self.pending.values() if c.kind != "call"]
        for cmd in self.pending.values():  # calls nested in the one that failed went down with it
            if cmd.kind == "call":
                cmd.status, cmd.detail = why, detail
        self.pending.clear()
        while True:
            if self.restarts >= self.limits.restarts or time.monotonic() >= self.deadline:
                self.lost = True
                for cmd in queued:
                    cmd.status, cmd.detail = "not run", ("", "")
                return
            self.restarts += 1
            try:
                self._spawn()
            except ProcessLost:
                continue
            if self._replay():
                break
        for cmd in queued:
            self.pending[cmd.seq] = cmd
            self._send(cmd)

    def _replay(self) -> bool:
        """Resend every completed exec and fetch; False if the process failed again (the command
        that failed is dropped from the log)."""
        for cmd in list(self.log):
            self._send(cmd)
            until = min(time.monotonic() + self.limits.cell_timeout, self.deadline)
            try:
                msg = self._recv(until)
            except (EOFError, wire.WireError, OSError):
                msg = None
            if msg is None or len(msg) < 2 or msg[1] != cmd.seq:
                self.log.remove(cmd)
                self._kill()
                return False
        self.last_progress = time.monotonic()
        return True

    # ----------------------------------------------------------------------------------- the API
    def exec(self, source: str) -> Command:
        return self._issue("exec", (source,))

    def wait(self, cmd: Command) -> Command:
        self.pump(cmd)
        return cmd

    def fetch(self, names: list[str]) -> dict[str, Any]:
        cmd = self._issue("fetch", (list(names),))
        self.pump(cmd)
        if cmd.status != "ok":
            return {}
        values = cmd.reply[2] if len(cmd.reply) > 2 and isinstance(cmd.reply[2], dict) else {}
        out = {}
        for name in names:
            blob = values.get(name)
            if isinstance(blob, bytes):
                try:
                    out[name] = wire.decode(blob, self.resolve)
                except wire.WireError:
                    out[name] = wire.Unsupported("a malformed value")
        return out

    def call(self, hid: str, args: tuple, kwargs: dict, deadline: float | None = None) -> Any:
        if self.lost:
            raise ProcessLost("the student's process was restarted too many times")
        deadline = min(deadline or self.call_deadline, self.deadline)
        if time.monotonic() >= deadline:  # the calls before this one used up the check's time
            self.events.append("timed out: the check's calls ran over its limit")
            raise TimedOut(f"over the {self.limits.cell_timeout:g} s limit")
        arg_blobs = [wire.encode(a, self.extension) for a in args]
        kwarg_blobs = {k: wire.encode(v, self.extension) for k, v in kwargs.items()}
        cmd = self._issue("call", (hid, arg_blobs, kwarg_blobs), deadline=deadline)
        self.pump(cmd)
        if cmd.status == "timed out":
            raise TimedOut(f"over the {self.limits.cell_timeout:g} s limit")
        if cmd.status in ("crashed", "not run"):
            raise ProcessLost("your code ended the Python process running it "
                              f"({' '.join(cmd.detail).strip()})")
        msg = cmd.reply
        ok = len(msg) >= 5 and msg[2] is True
        changed = msg[4] if len(msg) >= 5 and isinstance(msg[4], dict) else {}
        for where, blob in changed.items():
            target = args[where] if isinstance(where, int) and 0 <= where < len(args) else kwargs.get(where)
            if target is not None and isinstance(blob, bytes):
                try:
                    restore(target, wire.decode(blob, self.resolve))
                except Exception:
                    pass
        if not ok:
            d = msg[3] if len(msg) >= 4 and isinstance(msg[3], tuple) and len(msg[3]) == 2 else ("", "")
            raise rebuild(*d)
        try:
            return wire.decode(msg[3], self.resolve) if isinstance(msg[3], bytes) else wire.Unsupported("?")
        except wire.WireError:
            return wire.Unsupported("a malformed value")

    call_deadline = float("inf")

    def _callback(self, cid: Any, arg_blobs: Any, kwarg_blobs: Any) -> None:
        """The student's code called a function of the grader's: run it here, send back the result."""
        fn = self.callbacks.get(cid) if isinstance(cid, int) else None
        try:
            if fn is None or not isinstance(arg_blobs, list) or not isinstance(kwarg_blobs, dict):
                raise LookupError("no such function")
            args = [wire.decode(b, self.resolve) for b in arg_blobs]
            kwargs = {str(k): wire.decode(b, self.resolve) for k, b in kwarg_blobs.items()}
            out = ("cbresult", True, wire.encode(fn(*args, **kwargs), self.extension))
        except (TimedOut, ProcessLost):
            raise
        except Exception as exc:
            out = ("cbresult", False, (type(exc).__name__, (str(exc).splitlines() or [""])[0][:100]))
        if not self.lost:
            self._send_raw(wire.encode(out, strict=True))


def restore(target: Any, new: Any) -> bool:
    """Write ``new`` into ``target`` in place where their kinds agree (what a function changed in
    an argument). Returns whether it could."""
    torch = sys.modules.get("torch")
    np = sys.modules.get("numpy")
    if torch is not None and isinstance(target, torch.Tensor) and isinstance(new, torch.Tensor):
        if target.shape == new.shape and target.dtype == new.dtype:
            with torch.no_grad():
                target.copy_(new)
            return True
        return False
    if np is not None and isinstance(target, np.ndarray) and isinstance(new, np.ndarray):
        if target.shape == new.shape and target.dtype == new.dtype and target.flags.writeable:
            target[...] = new
            return True
        return False
    if torch is not None and isinstance(target, torch.Generator) and isinstance(new, torch.Generator):
        target.set_state(new.get_state())
        return True
    if type(target) is list and type(new) is list:
        target[:] = [target[i] if i < len(target) and restore(target[i], n) else n for i, n in enumerate(new)]
        return True
    if type(target) is dict and type(new) is dict:
        for k in [k for k in target if k not in new]:
            del target[k]
        for k, v in new.items():
            if not (k in target and restore(target[k], v)):
                target[k] = v
        return True
    if torch is not None and isinstance(target, torch.nn.Module) and type(new) is dict:
        target.load_state_dict(new)  # a model the function trained in place
        return True
    if type(target) is set and type(new) is set:
        target.clear()
        target.update(new)
        return True
    return False


# ------------------------------------------------------------------------------------- the grader

@dataclass
class AnswerState:
    status: str = "ok"  # ok | error | timed out | crashed | not run
    detail: tuple = ("", "")


class KeyRun:
    """The grader's process: runs the script :meth:`mlcourse.course.key.Key.script` made."""

    def __init__(self, cfg: dict, emit: Callable[[dict], None]) -> None:
        self.cfg, self.emit = cfg, emit
        self.limits = Limits(**cfg["limits"])
        self.deadline = time.monotonic() + self.limits.notebook_timeout
        self.steps: list[dict] = cfg["steps"]
        self.records: list[dict] = []
        self.answer_state: dict[str, AnswerState] = {}
        self.setup_names: set[str] = set()
        self.judged: set[str] = set()
        self.callback_ids: dict[int, int] = {}

    # --------------------------------------------------------------------- values: grader → student
    def extension(self, obj: Any):
        if isinstance(obj, AnswerFunction):
            return "handle", obj._hid
        import types

        torch = sys.modules.get("torch")
        if torch is not None and isinstance(obj, torch.Generator):
            return "gen", obj.get_state()
        own = isinstance(obj, types.FunctionType) and obj.__globals__ is self.ns  # defined in a key cell
        if not own or _pure(obj.__code__):  # a function with side effects runs here, called back
            for name in self.setup_names:  # the student's process made the same object: use its own
                if self.ns.get(name, UNBOUND) is obj:
                    return "ref", name
            imp = importable(obj)
            if imp is not None:
                return "imp", imp
            shipped = self.ship(obj) if own else None
            if shipped is not None:
                return "code", shipped
        if callable(obj):
            cid = self.callback_ids.get(id(obj))
            if cid is None:  # kept alive by the table, so its id is not reused
                cid = self.callback_ids[id(obj)] = len(self.student.callbacks) + 1
                self.student.callbacks[cid] = obj
            return "cb", cid
        raise GradingProblem(f"the grader cannot pass a {type(obj).__qualname__} to an answer function "
                             f"(a problem of the key, not of the answer)")

    def ship(self, fn: Any):
        """A pure function of the key's (a ``lambda v: A @ v`` passed to the student's function) as
        code plus the values it reads, to run in the student's process without a round trip per
        call. Anything that could change state here (assignments to attributes, items, globals or
        outer variables, mutating methods, random generators) is not shipped: it is called back."""
        import marshal
        import types

        if not isinstance(fn, types.FunctionType) or fn.__globals__ is not self.ns or not _pure(fn.__code__):
            return None
        names = _global_names(fn.__code__)
        try:
            payload = (sys.version, marshal.dumps(fn.__code__), fn.__name__,
                       {n: fn.__globals__[n] for n in names if n in fn.__globals__},
                       [c.cell_contents for c in fn.__closure__ or ()], fn.__defaults__, fn.__kwdefaults__)
            if len(wire.encode(payload, self.extension)) > SHIP_LIMIT:
                return None
        except (ValueError, GradingProblem, wire.WireError):
            return None
        return payload

    def resolve(self, name: str, payload: Any) -> Any:
        if name == "fn" and isinstance(payload, tuple) and len(payload) == 2 \
                and all(isinstance(p, str) and len(p) <= 300 for p in payload):
            return AnswerFunction(self.student, payload[0], payload[1][:80])
        if name == "gen":
            torch = sys.modules.get("torch")
            if torch is not None and isinstance(payload, torch.Tensor) and payload.dtype == torch.uint8:
                g = torch.Generator()
                try:
                    g.set_state(payload)
                    return g
                except (RuntimeError, TypeError):
                    pass
        return wire.Unsupported(name)

    # ------------------------------------------------------------------------------------ running
    def run_here(self, source: str):
        """Run a cell of the key (or of the exercise generated from it) in the grader's process."""
        before = {k: id(v) for k, v in self.ns.items()}
        result = self.shell.run_cell(source, store_history=False)
        changed = {k for k, v in self.ns.items() if before.get(k) != id(v)}
        return result, changed

    def run(self) -> None:
        sandbox = Sandbox.choose(self.cfg.get("sandbox", "auto"))
        self.emit({"event": "sandbox", "kind": sandbox.kind, "summary": sandbox.summary()})
        self.shell = make_shell(self.records)
        self.ns = self.shell.user_ns
        sub_path = Path(self.cfg["submission"])
        source = Path(self.cfg.get("source") or sub_path)
        hidden = [Path(p) for p in self.cfg.get("hidden", [])]
        self.student = Student(sandbox, source, sub_path.name, self.limits, self.deadline, hidden,
                               self.resolve, self.extension, env=self.cfg.get("env"))
        try:
            self._grade()
        finally:
            self.student.close()
            for event in self.student.events:
                self.emit({"event": "log", "text": event})

    def _grade(self) -> None:
        for step in self.steps:
            if time.monotonic() >= self.deadline:
                break
            cmds = [self.student.exec(src) for src in step["student"]]
            names = set(step["answer_names"])
            if step["kind"] == "setup":
                result, changed = self.run_here(step["grader"])
                self.setup_names |= changed
                if not result.success:
                    err = result.error_before_exec or result.error_in_exec
                    self.emit({"event": "warning", "text": f"key cell {step['index']} raised {type(err).__name__} "
                               f"in the grader: {(str(err).splitlines() or [''])[0][:200]}"})
            elif step["kind"] == "answer":
                _, changed = self.run_here(step["grader"])
                self.setup_names = (self.setup_names | changed) - names
                for c in cmds:
                    self.student.wait(c)
                state = _worst(cmds)
                if state.status in BAD and time.monotonic() >= self.deadline:
                    break  # the whole notebook ran out of time: the rest is "timed out"
                for n in names:
                    self.answer_state[n] = state
                if step["fetch"] and state.status not in BAD:
                    for name, value in self.student.fetch(step["fetch"]).items():
                        self.ns[name] = value
            else:
                self._check(step)
        for step in self.steps:
            for q in step["questions"]:
                if q["name"] not in self.judged:
                    self._emit_question(q, False, self.overall_note, "timed out")

    @property
    def overall_note(self) -> str:
        return f"timed out: the whole notebook ran over its {self.limits.notebook_timeout:g} s limit"

    def _check(self, step: dict) -> None:
        self.records.clear()
        events_before = len(self.student.events)
        self.student.call_deadline = min(time.monotonic() + self.limits.cell_timeout, self.deadline)
        result, changed = self.run_here(step["grader"])
        self.setup_names -= changed
        self.student.call_deadline = float("inf")
        err = result.error_before_exec or result.error_in_exec
        new_events = self.student.events[events_before:]
        timed_out = any(e.startswith("timed out") for e in new_events)
        crashed = next((e for e in new_events if e.startswith("crashed")), None)
        overall = time.monotonic() >= self.deadline
        records = {r.get("question"): r for r in self.records}
        for q in step["questions"]:
            read = [self.answer_state[n] for n in q["reads"] if n in self.answer_state]
            bad = next((s for s in read if s.status in BAD), None)
            errors = [s for s in read if s.status == "error"]
            rec = records.get(q["name"])
            ok = bool(rec and rec.get("passed"))
            if overall and not ok:
                passed, note, status = False, self.overall_note, "timed out"
            elif bad is not None:
                passed, note, status = False, _bad_note(bad, self.limits), bad.status
            elif crashed and not ok:
                how = crashed.split(" — ", 1)[1] if " — " in crashed else ""
                passed, note, status = False, f"your code ended the Python process running it{f' ({how})' if how else ''}", "crashed"
            elif timed_out and not ok:
                passed, note, status = False, (f"timed out: your code ran over the "
                                               f"{self.limits.cell_timeout:g} s limit of this check"), "timed out"
            elif self.student.lost and not ok:
                passed, note, status = False, ("not graded: your code stopped the Python process running it "
                                               f"{self.student.restarts + 1} times"), "crashed"
            elif rec is not None:
                passed = rec.get("passed") is True
                line = str(rec.get("line", ""))
                note = line.split("—", 1)[1].strip() if "—" in line and not passed else ""
                status = "passed" if passed else ("unanswered" if note.startswith("not answered") else "failed")
            else:
                passed, status = False, "failed"
                note = (f"the check could not run: {type(err).__name__}: {(str(err).splitlines() or [''])[0][:100]}"
                        if err is not None else "the check did not run")
            if not passed and errors:  # say what went wrong first: the name it should bind is missing
                kind, text = errors[0].detail
                raised = f"your answer cell raised {kind}{': ' + text if text else ''}"
                note, status = (raised, "failed") if status == "unanswered" else (f"{note} ({raised})", status)
            self._emit_question(q, passed, note, status)

    def _emit_question(self, q: dict, passed: bool, note: str, status: str) -> None:
        self.judged.add(q["name"])
        self.emit({"event": "question", "question": q["name"], "points": q["points"], "passed": bool(passed),
                   "note": note, "recorded": q["recorded"], "status": status})


SHIP_LIMIT = 1 << 20  # bytes: a function reading more data than this is called back instead
MUTATING = {"append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "add", "discard",
            "popitem", "sort", "reverse", "write", "send", "put", "set_state", "seed", "manual_seed",
            "random", "rand", "randn", "randint", "randperm", "normal", "uniform", "choice", "shuffle",
            "permutation", "integers", "bernoulli", "multinomial", "poisson", "exponential", "sample",
            "rand_like", "randn_like", "randint_like", "default_rng", "Generator", "get_state", "register_hook"}
IMPURE_OPS = {"STORE_GLOBAL", "DELETE_GLOBAL", "STORE_ATTR", "DELETE_ATTR", "STORE_SUBSCR", "DELETE_SUBSCR",
              "IMPORT_NAME", "IMPORT_FROM", "YIELD_VALUE", "GET_AWAITABLE"}


@functools.lru_cache(maxsize=1024)
def _pure(code) -> bool:
    """No visible side effect: see :meth:`KeyRun.ship`."""
    import dis
    import types

    for ins in dis.get_instructions(code):
        if ins.opname in IMPURE_OPS:
            return False
        if ins.opname in ("STORE_DEREF", "DELETE_DEREF") and ins.argval in code.co_freevars:
            return False
        if ins.opname in ("LOAD_ATTR", "LOAD_METHOD", "LOAD_GLOBAL", "LOAD_NAME") and isinstance(ins.argval, str):
            name = ins.argval
            if name in MUTATING or (name.endswith("_") and not name.startswith("_")):
                return False
    return all(_pure(c) for c in code.co_consts if isinstance(c, types.CodeType))


def _global_names(code) -> set[str]:
    import types

    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _global_names(c)
    return names


def _worst(cmds: list[Command]) -> AnswerState:
    order = ["ok", "error", "not run", "crashed", "timed out"]
    worst = AnswerState()
    for c in cmds:
        if order.index(c.status or "not run") > order.index(worst.status):
            worst = AnswerState(c.status or "not run", c.detail)
    return worst


def _bad_note(state: AnswerState, limits: Limits) -> str:
    if state.status == "timed out":
        return f"timed out: your answer cell ran over the {limits.cell_timeout:g} s limit"
    if state.status == "crashed":
        how = " ".join(state.detail).strip()
        return f"your answer cell ended the Python process running it{f' ({how})' if how else ''}"
    return "not graded: the Python process running your code had stopped"


def importable(obj: Any) -> tuple[str, str] | None:
    """(module, qualified name) under which the student's process can import ``obj`` itself."""
    import types

    if isinstance(obj, types.ModuleType):
        return obj.__name__, ""
    mod, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not isinstance(mod, str) or not isinstance(qual, str) or mod == "__main__" or "<" in qual:
        return None
    try:
        found = importlib.import_module(mod)
        for part in qual.split("."):
            found = getattr(found, part)
    except Exception:
        return None
    return (mod, qual) if found is obj else None


def main() -> int:
    cfg = json.loads(sys.stdin.read())
    out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)  # the key's own prints must not mix with the events
    os.dup2(null, 2)

    def emit(event: dict) -> None:
        out.write(json.dumps(event) + "\n")

    try:
        KeyRun(cfg, emit).run()
    except (SandboxError, ProcessLost) as exc:
        emit({"event": "error", "text": str(exc)})
    except Exception as exc:  # the grader's own failure: say what, for the instructor
        emit({"event": "error", "text": f"{type(exc).__name__}: {exc}",
              "traceback": traceback.format_exc()[-4000:]})
    emit({"event": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
