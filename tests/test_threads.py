"""Printed results do not depend on the thread count: a lecture run with ``MLCOURSE_THREADS=2`` prints
what its committed notebook (executed with one thread by ``mlcourse build``) prints, after the same
sanitising nbval applies (``tests/nbval_sanitize.cfg``). Figures and widget states are not compared.

``LECTURES`` lists the lectures checked: 01 (every printed number comes from small float64 linear
algebra) and 08 (its trainability grids and box counts, which split work across threads)."""

from __future__ import annotations

import configparser
import copy
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from mlcourse.course import notebooks as nbs

ROOT = nbs.repo_root(Path(__file__).parent)
LECTURES = ["01", "08"]
THREADS = "2"


def _sanitizers() -> list[tuple[re.Pattern, str]]:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def printed(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(cell index, sanitised text) for every code cell's printed output: streams and text/plain."""
    rules = _sanitizers()
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        parts = []
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                parts.append(o.text)
            elif o.output_type in ("execute_result", "display_data") and "text/plain" in o.get("data", {}):
                if not ({"image/png", "image/svg+xml", "application/vnd.jupyter.widget-view+json"} & set(o.data)):
                    parts.append(o.data["text/plain"])
            elif o.output_type == "error":
                parts.append(f"{o.ename}: {o.evalue}")
        text = "".join(parts)
        for pattern, replace in rules:
            text = pattern.sub(replace, text)
        out.append((i, text))
    return out


def test_printed_compares_text_and_sanitises() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="at 0x7f00deadbeef: 0.123\n"),
                           nbformat.v4.new_output("display_data", data={"image/png": "AAAA", "text/plain": "<Figure>"})]
    assert printed(nb) == [(0, "at 0xADDRESS: 0.123\n")]
    other = copy.deepcopy(nb)
    other.cells[0].outputs[0].text = "at 0x7f00deadbeef: 0.124\n"
    assert printed(other) != printed(nb)  # a changed digit is a difference


@pytest.mark.parametrize("number", LECTURES)
def test_a_lecture_prints_the_same_with_two_threads(number: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (path,) = sorted((ROOT / "lectures").glob(f"{number}_*.ipynb"))
    committed = nbformat.read(path, as_version=4)
    for key, value in nbs.DETERMINISTIC_ENV.items():
        monkeypatch.setenv(key, value)
    for key in ("MLCOURSE_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(key, THREADS)
    nb = copy.deepcopy(committed)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata["kernelspec"] = nbs.KERNELSPEC
    nb.cells.append(nbformat.v4.new_code_cell("import torch; print(torch.get_num_threads())"))  # the run's threads
    NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False, store_widget_state=False,
                   resources={"metadata": {"path": str(path.parent)}},
                   extra_arguments=["--IPKernelApp.log_level=ERROR"]).execute()
    assert nb.cells.pop().outputs[0].text.strip() == THREADS  # the lecture really ran with two threads
    mine, theirs = dict(printed(nb)), dict(printed(committed))
    differ = [i for i in theirs if mine.get(i) != theirs[i]]
    assert not differ, "\n".join(f"cell {i}:\n  committed: {theirs[i]!r}\n  2 threads: {mine.get(i)!r}"
                                 for i in differ[:5])
