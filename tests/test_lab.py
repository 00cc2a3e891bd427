"""The README's main command, `./course lab`, serves the course headless on loopback: one entry per
notebook in the file browser, and `mlcourse` on the PATH of its terminals."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _which_in_terminal(port: int, token: str, program: str) -> str:
    """Open a JupyterLab terminal and ask it where ``program`` is, as a student would type it."""
    import asyncio
    import concurrent.futures
    import re

    from tornado.websocket import websocket_connect

    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/terminals?token={token}", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=10) as r:
        name = json.load(r)["name"]
    answer = re.compile(r"FOUND\[([^$\]]*)\]")  # not the echoed command line, which still holds "$("

    async def run() -> str:
        ws = await websocket_connect(f"ws://127.0.0.1:{port}/terminals/websocket/{name}?token={token}")
        ws.write_message(json.dumps(["stdin", f"echo \"FOUND[$(command -v {program})]\"\r"]))
        seen = ""
        while not answer.search(seen):
            msg = await asyncio.wait_for(ws.read_message(), timeout=20)
            assert msg is not None, f"terminal closed; it printed {seen!r}"
            kind, *payload = json.loads(msg)
            if kind == "stdout":
                seen += payload[0]
        ws.close()
        return answer.search(seen)[1]

    # In its own thread: a browser test in the same worker may leave an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def test_course_lab_serves_the_start_here_notebook(tmp_path: Path) -> None:
    port, token = _free_port(), "test-token"
    # The hard case for a jupytext pair (a fresh clone has arbitrary file times): .ipynb newer than .py.
    py, ipynb = ROOT / "lectures" / "00_start_here.py", ROOT / "lectures" / "00_start_here.ipynb"
    os.utime(ipynb, (time.time(), py.stat().st_mtime + 10))
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env.update(JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = (tmp_path / "lab.log").open("w+")
    proc = subprocess.Popen([str(ROOT / "course"), "lab", "--port", str(port), "--token", token],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api/contents/lectures/00_start_here.ipynb?token={token}"
    try:
        deadline, body = time.time() + 120, None
        while body is None:
            assert proc.poll() is None, f"./course lab exited early:\n{Path(log.name).read_text()}"
            assert time.time() < deadline, f"no answer from JupyterLab:\n{Path(log.name).read_text()}"
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    body = json.load(r)
            except OSError:
                time.sleep(0.5)
        assert body["type"] == "notebook" and body["name"] == "00_start_here.ipynb"
        assert any("Start here" in "".join(c["source"]) for c in body["content"]["cells"])
        printed = Path(log.name).read_text()
        assert f"open http://127.0.0.1:{port}/lab/tree/lectures/00_start_here.ipynb?token={token}" in printed
        api = f"http://127.0.0.1:{port}/api"
        with urllib.request.urlopen(f"{api}/contents/lectures?token={token}", timeout=10) as r:
            listed = sorted(item["name"] for item in json.load(r)["content"])
        assert listed and all(n.endswith(".ipynb") for n in listed), f"the file browser shows {listed}"
        assert _which_in_terminal(port, token, "mlcourse") == str(ROOT / ".venv" / "bin" / "mlcourse")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
