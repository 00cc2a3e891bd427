"""``live(f, **controls)``: a pure plotting function becomes a live ipywidgets UI.

``f(**params)`` returns a matplotlib or plotly figure. ``live`` builds one control per keyword
(ipywidgets' ``interact`` abbreviations: ``(lo, hi, step)`` → slider, a list → dropdown, a bool →
checkbox, or a ready widget), calls ``f`` with ``f``'s own defaults, and redraws when a control moves.

The default call *is* the static render: the returned object displays as the widget in a live
frontend and carries a PNG (or plotly JSON) of ``f(defaults)`` beside it, which is what nbval,
exported slides and a notebook viewer show. One code path for both.

What a student meets when something goes wrong: an exception, or a figure with NaN/inf in its data,
shows one line in words ("diverged: …") instead of a traceback or a garbage plot. Sliders update on
release. With ``background=True`` the call runs in a worker thread (the kernel stays free, stale
results are dropped), "computing …" shows at once and, if ``f`` takes a ``progress`` argument, a tqdm
bar replaces it inside the widget.
"""

from __future__ import annotations

import base64
import inspect
import io
import math
import threading
from typing import Any, Callable

import ipywidgets as widgets
import numpy as np

Figure = Any  # matplotlib.figure.Figure or plotly.graph_objects.Figure
PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"


def figure_bundle(fig: Figure) -> dict[str, Any]:
    """The display data of a figure: PNG for matplotlib (the figure is closed), JSON for plotly."""
    if hasattr(fig, "to_plotly_json"):
        return {PLOTLY_MIMETYPE: fig.to_plotly_json(), "text/plain": "plotly figure"}
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
    return {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"),
            "text/plain": "matplotlib figure"}


def _data_arrays(fig: Figure):
    """Every numeric array a figure draws: lines, images, scatter offsets, plotly traces."""
    if hasattr(fig, "to_plotly_json"):
        for trace in fig.data:
            for key in ("x", "y", "z"):
                values = getattr(trace, key, None)
                if values is not None:
                    yield np.asarray(values, dtype=object)
        return
    for ax in fig.axes:
        for line in ax.get_lines():
            yield np.asarray(line.get_xydata())
        for image in ax.get_images():
            yield np.ma.filled(np.ma.masked_invalid(image.get_array()), 0.0)  # masked = intended
        for coll in ax.collections:
            yield np.asarray(coll.get_offsets())


def nonfinite(fig: Figure) -> bool:
    """True when any plotted value is NaN or infinite (a diverged run must not plot silently)."""
    for arr in _data_arrays(fig):
        if arr.dtype == object:
            arr = np.array([v for v in arr.ravel() if isinstance(v, (int, float))], dtype=float)
        if arr.size and np.issubdtype(arr.dtype, np.number) and not np.all(np.isfinite(arr)):
            return True
    return False


def _message_bundle(text: str) -> dict[str, Any]:
    return {"text/plain": text}


def render(f: Callable[..., Figure], params: dict[str, Any]) -> dict[str, Any]:
    """Call ``f(**params)`` and return display data: the figure, or one line saying what failed.

    Drawing is inside the guard too: a figure can fail only when rendered (bad mathtext in a label)."""
    try:
        fig = f(**params)
        if nonfinite(fig):
            figure_bundle(fig)  # closes it
            return _message_bundle(f"diverged: the result has NaN or infinite values at {_fmt(params)}")
        return figure_bundle(fig)
    except (FloatingPointError, OverflowError) as exc:
        return _message_bundle(f"diverged: {exc}")
    except Exception as exc:  # noqa: BLE001 — a widget must never show a traceback wall
        first = (str(exc).splitlines() or [""])[0]
        return _message_bundle(f"could not draw with {_fmt(params)}: {type(exc).__name__}: {first}")


def _fmt(params: dict[str, Any]) -> str:
    def one(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) and math.isfinite(v) else repr(v)
    return ", ".join(f"{k}={one(v)}" for k, v in params.items())


def _control(name: str, spec: Any, default: Any) -> widgets.ValueWidget:
    w = spec if isinstance(spec, widgets.Widget) else widgets.interactive.widget_from_abbrev(spec, default)
    if w is None:
        raise ValueError(f"cannot make a control for {name}={spec!r}: use (lo, hi, step), a list, or a widget")
    if hasattr(w, "continuous_update"):
        w.continuous_update = False  # redraw on release, not on every pixel of a drag
    w.description = name
    w.style = {"description_width": "initial"}
    return w


class Live:
    """The live view of ``f``: controls, a status line and an output area. Built by :func:`live`."""

    def __init__(self, f: Callable[..., Figure], controls: dict[str, Any], background: bool) -> None:
        sig = inspect.signature(f)
        missing = [n for n in controls if n not in sig.parameters or
                   sig.parameters[n].default is inspect.Parameter.empty]
        if missing:
            raise ValueError(f"{f.__name__} needs a default for every control (the static render): "
                             f"missing {', '.join(missing)}")
        self.f, self.background = f, background
        self.takes_progress = "progress" in sig.parameters
        self.controls = {n: _control(n, s, sig.parameters[n].default) for n, s in controls.items()}
        self.out = widgets.Output()
        self.bar_box = widgets.Box()
        self.ui = widgets.VBox([widgets.HBox(list(self.controls.values()),
                                             layout=widgets.Layout(flex_flow="row wrap")),
                                self.bar_box, self.out])
        self.ui.add_class("mlcourse-live")  # lets a browser test find each live view and name it
        self.ui.add_class(f"mlcourse-live--{f.__name__}")
        if background:
            self.ui.add_class("mlcourse-live-background")
        self._generation = 0
        self._lock = threading.Lock()
        self.static = render(f, self.params)
        self._show(self.static)
        for w in self.controls.values():
            w.observe(self._on_change, names="value")

    @property
    def params(self) -> dict[str, Any]:
        return {n: w.value for n, w in self.controls.items()}

    def _show(self, bundle: dict[str, Any]) -> None:
        # Setting the Output's trait (not `with out:`) is safe from a worker thread.
        self.out.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)

    def _progress_factory(self) -> Callable:
        from tqdm.notebook import tqdm

        def progress(iterable=None, **kwargs):
            bar = tqdm(iterable, display=False, leave=False, **kwargs)
            self.bar_box.children = (bar.container,)
            return bar
        return progress

    def _compute(self, generation: int, params: dict[str, Any]) -> None:
        bundle = render(self.f, params)
        with self._lock:
            if generation == self._generation:  # drop results a newer request has superseded
                self._show(bundle)
                self.bar_box.children = ()

    def _on_change(self, _change: dict) -> None:
        with self._lock:
            self._generation += 1
            generation = self._generation
        params = self.params
        if not self.background:
            self._compute(generation, params)
            return
        busy = widgets.HTML("computing …")
        busy.add_class("mlcourse-busy")
        self.bar_box.children = (busy,)  # feedback at once; a progress bar replaces it if f takes one
        if self.takes_progress:
            params["progress"] = self._progress_factory()
        threading.Thread(target=self._compute, args=(generation, params), daemon=True).start()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(self.static)
        bundle.update(self.ui._repr_mimebundle_(**kwargs))
        summary = f"live {self.f.__name__}({_fmt(self.params)})"
        if set(self.static) == {"text/plain"}:
            summary += f": {self.static['text/plain']}"
        bundle["text/plain"] = summary
        return bundle


def live(f: Callable[..., Figure], /, *, background: bool = False, **controls: Any) -> Live:
    """Turn ``f(**params) -> figure`` into a live UI with one control per keyword.

    ``f`` needs a default for every control; ``f(defaults)`` is the static render. Use
    ``background=True`` when one call takes longer than about a second.
    """
    return Live(f, controls, background)
