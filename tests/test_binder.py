"""binder/: what can be validated without mybinder or a Docker engine.

- repo2docker accepts the configuration and its build plan (printed with --no-build) installs the
  course from binder/requirements.txt on the pinned Python, then runs postBuild and the start script;
- those requirements resolve in a fresh virtual environment (this machine's on-disk CPU torch
  standing in for PyTorch's CPU index, which only mybinder reaches);
- the README badge and every lecture's launch link point at files that exist.
Peak memory per lecture (≤ 1.5 GB) is measured in the nbval run: see conftest.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
LINK_RE = re.compile(r"https://mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/HEAD\?urlpath=lab/tree/([\w./-]+)")


def test_repo2docker_accepts_the_configuration() -> None:
    done = subprocess.run([sys.executable, "-m", "repo2docker", "--no-build", "--no-run", "--debug", str(ROOT)],
                          capture_output=True, text=True, timeout=300)
    plan = done.stdout + done.stderr
    assert done.returncode == 0, plan[-3000:]
    python = (BINDER / "runtime.txt").read_text().strip().removeprefix("python-")
    assert f"python={python}" in plan
    copy_all, install = plan.index("COPY --chown=0:0 src/ ${REPO_DIR}/"), plan.index('pip install --no-cache-dir -r "binder/requirements.txt"')
    assert copy_all < install, "requirements.txt installs '.', so the repository must be copied first"
    assert "RUN ./binder/postBuild" in plan and 'R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in plan


def test_binder_requirements_resolve_in_a_fresh_venv(tmp_path: Path) -> None:
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines and ".[lab]" in lines
    local = tmp_path / "requirements.txt"  # without the CPU index: the on-disk CPU build stands in
    local.write_text("\n".join(l for l in lines if not l.startswith("--extra-index-url")))
    venv.create(tmp_path / "venv", with_pip=True)
    report = tmp_path / "report.json"
    done = subprocess.run([str(tmp_path / "venv" / "bin" / "python"), "-m", "pip", "install", "--dry-run",
                           "--quiet", "--report", str(report), "-r", str(local)],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    resolved = {i["metadata"]["name"].lower().replace("_", "-"): i["metadata"]["version"]
                for i in json.loads(report.read_text())["install"]}
    assert resolved["torch"].startswith("2.13.0")
    assert {"mlcourse", "jupyterlab", "ipywidgets", "jupytext"} <= resolved.keys()
    test_tools = {"pytest", "playwright", "hypothesis", "jupyter-repo2docker", "nbval"}
    assert not test_tools & resolved.keys(), f"students get test tools: {test_tools & resolved.keys()}"


def test_launch_links_point_at_real_notebooks() -> None:
    readme_links = LINK_RE.findall((ROOT / "README.md").read_text())
    assert ("mlcourse/mlcourse", "lectures/00_start_here.ipynb") in readme_links
    lectures = sorted((ROOT / "lectures").glob("[0-9][0-9]_*.py"))
    assert lectures
    for src in lectures:
        head = src.read_text().split("# %%", 2)[1]  # the first cell
        links = LINK_RE.findall(head)
        assert links == [("mlcourse/mlcourse", f"lectures/{src.stem}.ipynb")], f"{src.name}: launch link {links}"
    for _, path in readme_links:
        assert (ROOT / path).exists(), path
    assert (BINDER / "postBuild").stat().st_mode & 0o111 and (BINDER / "start").stat().st_mode & 0o111
