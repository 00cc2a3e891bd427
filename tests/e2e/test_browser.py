"""The course as people open it in JupyterLab: lectures with live widgets, exercises a student runs.

Each lecture: open it, run all cells, no error output, then move a slider of each live widget and
see the plot change within 2 s; every slider is named for screen readers by its label. Each fresh
exercise: "Run All" reaches every check cell, and each says "not answered yet". Decks are tested in
test_decks.py. Failure screenshots go to test-results/ (pytest-playwright)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page

from mlcourse.course import notebooks as nbs
from mlcourse.course.grade import questions
from mlcourse.grading import CHECK_MIMETYPE

ROOT = Path(__file__).resolve().parents[2]
LECTURES = [p.stem for p in sorted((ROOT / "lectures").glob("[0-9][0-9]_*.ipynb"))]
EXERCISES = [p.stem for p in sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))]
REDRAW_S = float(os.environ.get("MLCOURSE_REDRAW_S", "2"))
BACKGROUND_S = 30.0  # a background widget (a sweep of more than ~1 s) must show feedback within REDRAW_S

READY_JS = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!(k && k.status === 'idle' && w.content && w.content.widgets.length); }"""
RAN_ALL_JS = """() => { const w = window.jupyterapp.shell.currentWidget;
  const code = w.content.widgets.filter(c => c.model.type === 'code' && c.model.sharedModel.getSource().trim());
  return w.sessionContext.session.kernel.status === 'idle' && code.every(c => c.model.executionCount !== null); }"""
ERRORS_JS = """() => { const errs = [];
  window.jupyterapp.shell.currentWidget.content.widgets.forEach((c, i) => {
    if (c.model.type !== 'code') return;
    c.model.outputs.toJSON().forEach(o => { if (o.output_type === 'error') errs.push(`cell ${i}: ${o.ename}: ${o.evalue}`); });
  }); return errs; }"""
PLOT_JS = """(el) => { // a fingerprint of what a live view draws: PNG bytes, plotly paths, or its text
  const hash = s => { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return h; };
  const img = el.querySelector('.jp-OutputArea img');
  if (img) return {kind: 'img', id: hash(img.src), text: ''};
  const paths = Array.from(el.querySelectorAll('.js-plotly-plot path')).map(p => p.getAttribute('d') || '');
  if (paths.length) return {kind: 'plotly', id: hash(paths.join('|')), text: ''};
  return {kind: 'text', id: hash(el.innerText), text: el.innerText.slice(0, 300)}; }"""


def open_notebook(page: Page, base: str, path: str) -> None:
    page.goto(f"{base}/lab/tree/{path}?reset")  # ?reset: no tabs restored from an earlier test
    page.wait_for_function(READY_JS, timeout=120_000)


def run_all(page: Page, base: str, path: str) -> None:
    open_notebook(page, base, path)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(RAN_ALL_JS, timeout=180_000)


def assert_widgets_respond(page: Page, name: str) -> None:
    """Move the first slider of every live view: it must redraw within REDRAW_S (a background view:
    show feedback within REDRAW_S and the new plot within BACKGROUND_S)."""
    views = page.locator(".mlcourse-live:visible")
    assert views.count() >= 1, f"lecture {name}: no live widget (mlcourse.widgets.live) found"
    for i in range(views.count()):
        view = views.nth(i)
        widget = next((c.removeprefix("mlcourse-live--") for c in view.get_attribute("class").split()
                       if c.startswith("mlcourse-live--")), f"#{i}")
        names = [h.get_attribute("aria-label") or "" for h in view.locator(".noUi-handle").all()]
        unnamed = [n for n in names if not n or (n.isidentifier() and n.isascii())]
        assert not unnamed, f"lecture {name}: widget {widget}: sliders without a label in words: {names}"
        handle = view.locator(".noUi-handle").first
        if handle.count() == 0:
            continue  # a view without sliders (dropdowns only)
        view.scroll_into_view_if_needed()
        before = view.evaluate(PLOT_JS)
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        handle.focus()
        start = time.perf_counter()
        page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
        changed = f"(el) => {{ const p = ({PLOT_JS})(el); return p.kind !== 'text' && p.id !== {before['id']}; }}"
        background = "mlcourse-live-background" in view.get_attribute("class")
        feedback = changed if not background else \
            f"(el) => el.querySelector('.mlcourse-busy, .widget-hprogress') !== null || ({changed})(el)"
        try:
            page.wait_for_function(feedback, arg=view.element_handle(), timeout=REDRAW_S * 1000)
            if background:
                page.wait_for_function(changed, arg=view.element_handle(), timeout=BACKGROUND_S * 1000)
        except Exception:
            now = view.evaluate(PLOT_JS)
            limit = f"{REDRAW_S:.0f} s" if not background else f"{REDRAW_S:.0f} s (feedback) / {BACKGROUND_S:.0f} s (plot)"
            pytest.fail(f"lecture {name}: widget {widget}: moving its first slider did not redraw the plot "
                        f"within {limit}; the widget shows: {now['text'] or now['kind']!r}")
        print(f"lecture {name}: widget {widget}: slider → new plot in {time.perf_counter() - start:.2f} s")


@pytest.mark.parametrize("name", LECTURES)
def test_lecture_runs_and_its_widgets_respond(page: Page, lab, name: str) -> None:
    base, _ = lab
    run_all(page, base, f"lectures/{name}.ipynb")
    errors = page.evaluate(ERRORS_JS)
    assert not errors, f"lecture {name}: error output after running all cells: {errors}"
    assert_widgets_respond(page, name)


BROKEN = """import matplotlib.pyplot as plt
from mlcourse.widgets import live, slider

def broken_plot(a: float = 1.0):
    if a != 1.0:
        raise RuntimeError("callback broken on purpose")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, a])
    return fig

live(broken_plot, a=slider("slope a", 0.0, 2.0, 0.5))"""


def test_a_broken_widget_callback_fails_naming_lecture_and_widget(page: Page, lab) -> None:
    base, served = lab
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BROKEN)],
                                            metadata={"kernelspec": nbs.KERNELSPEC}),
                   served / "lectures" / "99_broken.ipynb")
    run_all(page, base, "lectures/99_broken.ipynb")
    with pytest.raises(pytest.fail.Exception, match="lecture 99_broken: widget broken_plot: .*callback broken on purpose"):
        assert_widgets_respond(page, "99_broken")


CHECKS_JS = f"""() => {{ const lines = [];
  window.jupyterapp.shell.currentWidget.content.widgets.forEach(c => {{
    if (c.model.type !== 'code') return;
    c.model.outputs.toJSON().forEach(o => {{ const d = o.data || {{}};
      if (d['{CHECK_MIMETYPE}']) lines.push(d['text/plain']); }});
  }}); return lines; }}"""


@pytest.mark.parametrize("name", EXERCISES)
def test_run_all_on_a_fresh_exercise_reaches_every_check(page: Page, lab, name: str) -> None:
    base, _ = lab
    run_all(page, base, f"exercises/{name}.ipynb")
    lines = page.evaluate(CHECKS_JS)
    expected = len(questions(nbs.read(ROOT / "solutions" / f"{name}.py")))
    assert len(lines) == expected, f"exercise {name}: {len(lines)} of {expected} checks ran: {lines}"
    answered = [l for l in lines if "not answered yet" not in l]
    assert not answered, f"exercise {name}: on a fresh copy these checks did not say 'not answered yet': {answered}"
