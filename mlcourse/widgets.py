"""``live(f, **controls)``: a pure plotting function becomes a live ipywidgets UI.

``f(**params)`` returns a matplotlib or plotly figure. ``live`` builds one control per keyword, calls
``f`` with ``f``'s own defaults, and redraws when a control moves. Controls are made with
:func:`slider`, :func:`log_slider`, :func:`choice` and :func:`toggle`, each labelled in words (with
the symbol and unit, e.g. ``"learning rate η"``): the label is what a student reads and what a screen
reader announces. A log slider shows the real value (``3.2e-04``), never a rounded exponent.
``enabled={"λ's name": lambda p: p["ridge"]}`` greys out a control that has no effect in the
current state.

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
from decimal import Decimal
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


def render(f: Callable[..., Figure], params: dict[str, Any],
           labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Call ``f(**params)`` and return display data: the figure, or one line saying what failed.

    Drawing is inside the guard too: a figure can fail only when rendered (bad mathtext in a label)."""
    try:
        fig = f(**params)
        if nonfinite(fig):
            figure_bundle(fig)  # closes it
            return _message_bundle(f"diverged: the result has NaN or infinite values at {_fmt(params, labels)}")
        return figure_bundle(fig)
    except (FloatingPointError, OverflowError) as exc:
        return _message_bundle(f"diverged: {exc}")
    except Exception as exc:  # noqa: BLE001 — a widget must never show a traceback wall
        first = (str(exc).splitlines() or [""])[0]
        return _message_bundle(f"could not draw with {_fmt(params, labels)}: {type(exc).__name__}: {first}")


def _fmt(params: dict[str, Any], labels: dict[str, str] | None = None) -> str:
    """``learning rate η = 0.3, steps T = 30`` (labels where known, else argument names)."""
    def one(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) and math.isfinite(v) else repr(v)
    if labels:
        return ", ".join(f"{labels.get(k, k)} = {one(v)}" for k, v in params.items())
    return ", ".join(f"{k}={one(v)}" for k, v in params.items())


class Control:
    """A labelled control for :func:`live`: ``build(default)`` makes the ipywidget."""

    def __init__(self, label: str, make: Callable[[Any], widgets.ValueWidget]) -> None:
        if not label or not label.strip():
            raise ValueError("a control needs a label in words, e.g. slider('learning rate η', ...)")
        self.label, self.make = label, make

    def build(self, default: Any) -> widgets.ValueWidget:
        return self.make(default)


def _check_range(label: str, lo: float, hi: float, default: Any) -> None:
    if not lo < hi:
        raise ValueError(f"{label}: the range needs lo < hi, got [{lo}, {hi}]")
    if isinstance(default, (int, float)) and not lo <= default <= hi:
        raise ValueError(f"{label}: the function's default {default} lies outside [{lo}, {hi}]")


def slider(label: str, lo: float, hi: float, step: float, *, fmt: str | None = None) -> Control:
    """A linear slider from ``lo`` to ``hi``; integer when all three numbers are ints.

    ``fmt`` is a d3 format for the readout (default: enough decimals for ``step``)."""
    integer = all(isinstance(v, int) for v in (lo, hi, step))

    def make(default: Any) -> widgets.ValueWidget:
        _check_range(label, lo, hi, default)
        if integer:
            return widgets.IntSlider(value=int(default), min=lo, max=hi, step=step)
        decimals = max(0, -Decimal(str(step)).normalize().as_tuple().exponent)
        return widgets.FloatSlider(value=float(default), min=lo, max=hi, step=step,
                                   readout_format=fmt or f".{decimals}f")
    return Control(label, make)


def log_slider(label: str, lo: float, hi: float, *, steps_per_decade: int = 10,
               fmt: str | None = None) -> Control:
    """A slider that moves ``lo`` → ``hi`` in equal ratios and reads out the value itself
    (3.2e-4), not its exponent. ``fmt`` (d3) defaults to scientific notation when the range reaches
    below 0.01 or above 10⁴, else two significant digits."""
    if not 0 < lo < hi:
        raise ValueError(f"{label}: a log slider needs 0 < lo < hi, got [{lo}, {hi}]")
    fmt = fmt or (".1e" if lo < 1e-2 or hi > 1e4 else ".2g")

    def make(default: Any) -> widgets.ValueWidget:
        _check_range(label, lo, hi, default)
        return widgets.FloatLogSlider(value=float(default), base=10, min=math.log10(lo),
                                      max=math.log10(hi), step=1 / steps_per_decade, readout_format=fmt)
    return Control(label, make)


def choice(label: str, options: list | dict) -> Control:
    """A dropdown; ``options`` is a list of values or a dict ``{shown text: value}``."""
    def make(default: Any) -> widgets.ValueWidget:
        values = list(options.values()) if isinstance(options, dict) else list(options)
        if default not in values:
            raise ValueError(f"{label}: the function's default {default!r} is not one of the options")
        return widgets.Dropdown(options=options, value=default)
    return Control(label, make)


def toggle(label: str) -> Control:
    """A checkbox for a boolean argument."""
    return Control(label, lambda default: widgets.Checkbox(value=bool(default), indent=False))


ARIA_LABELS_ESM = """
function label(view) {
  // ipywidgets' sliders carry role="slider" but no name: give each handle its control's label
  view.querySelectorAll('.widget-slider, .widget-dropdown').forEach(w => {
    const text = (w.querySelector('.widget-label') || {}).textContent || '';
    const target = w.querySelector('.noUi-handle, select');
    if (text && target && target.getAttribute('aria-label') !== text) target.setAttribute('aria-label', text);
  });
}
function render({ el }) {
  el.style.display = 'none';
  const view = () => el.closest('.mlcourse-live');
  let tries = 0;
  const attach = () => {
    const v = view();
    if (!v) { if (tries++ < 50) setTimeout(attach, 100); return; }
    label(v);
    new MutationObserver(() => label(v)).observe(v, { childList: true, subtree: true });
  };
  attach();
}
export default { render };
"""


def _aria_labeller() -> widgets.Widget:
    """An invisible front-end helper that names every slider of its live view for screen readers."""
    import anywidget

    class AriaLabels(anywidget.AnyWidget):
        _esm = ARIA_LABELS_ESM

    return AriaLabels()


def _control(name: str, spec: Any, default: Any) -> widgets.ValueWidget:
    if not isinstance(spec, Control):
        raise ValueError(f"control {name}={spec!r}: make it with slider(label, lo, hi, step), "
                         f"log_slider(label, lo, hi), choice(label, options) or toggle(label), "
                         f"so that it is labelled in words")
    w = spec.build(default)
    if hasattr(w, "continuous_update"):
        w.continuous_update = False  # redraw on release, not on every pixel of a drag
    w.description = spec.label
    w.tooltip = spec.label
    w.style = {"description_width": "initial"}
    return w


class Live:
    """The live view of ``f``: controls, a status line and an output area. Built by :func:`live`."""

    def __init__(self, f: Callable[..., Figure], controls: dict[str, Any], background: bool,
                 enabled: dict[str, Callable[[dict[str, Any]], bool]] | None = None) -> None:
        sig = inspect.signature(f)
        missing = [n for n in controls if n not in sig.parameters or
                   sig.parameters[n].default is inspect.Parameter.empty]
        if missing:
            raise ValueError(f"{f.__name__} needs a default for every control (the static render): "
                             f"missing {', '.join(missing)}")
        self.f, self.background = f, background
        self.takes_progress = "progress" in sig.parameters
        self.controls = {n: _control(n, s, sig.parameters[n].default) for n, s in controls.items()}
        self.labels = {n: s.label for n, s in controls.items()}
        self.enabled = dict(enabled or {})
        unknown = [n for n in self.enabled if n not in self.controls]
        if unknown:
            raise ValueError(f"enabled= names controls that do not exist: {', '.join(unknown)}")
        self.out = widgets.Output()
        self.bar_box = widgets.Box()
        self.ui = widgets.VBox([widgets.HBox(list(self.controls.values()),
                                             layout=widgets.Layout(flex_flow="row wrap")),
                                self.bar_box, self.out, _aria_labeller()])
        self.ui.add_class("mlcourse-live")  # lets a browser test find each live view and name it
        self.ui.add_class(f"mlcourse-live--{f.__name__}")
        if background:
            self.ui.add_class("mlcourse-live-background")
        self._generation = 0
        self._lock = threading.Lock()
        self._update_enabled()
        self.static = render(f, self.params, self.labels)
        self._show(self.static)
        for w in self.controls.values():
            w.observe(self._on_change, names="value")

    @property
    def params(self) -> dict[str, Any]:
        return {n: w.value for n, w in self.controls.items()}

    def _update_enabled(self) -> None:
        """Grey out every control whose ``enabled`` rule says it has no effect now."""
        params = self.params
        for name, rule in self.enabled.items():
            self.controls[name].disabled = not rule(params)

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
        bundle = render(self.f, params, self.labels)
        with self._lock:
            if generation == self._generation:  # drop results a newer request has superseded
                self._show(bundle)
                self.bar_box.children = ()

    def _on_change(self, _change: dict) -> None:
        self._update_enabled()
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


def live(f: Callable[..., Figure], /, *, background: bool = False,
         enabled: dict[str, Callable[[dict[str, Any]], bool]] | None = None, **controls: Control) -> Live:
    """Turn ``f(**params) -> figure`` into a live UI with one labelled control per keyword.

    ``f`` needs a default for every control; ``f(defaults)`` is the static render. Use
    ``background=True`` when one call takes longer than about a second. ``enabled`` maps a
    control's name to a rule ``params -> bool``; the control is greyed out while its rule is false
    (e.g. ``enabled={"lam": lambda p: p["ridge"]}``).

    Example::

        live(explore, eta=log_slider("learning rate η", 1e-4, 1e-1),
             steps=slider("steps T", 10, 500, 10), ridge=toggle("ridge penalty"))
    """
    return Live(f, controls, background, enabled)
