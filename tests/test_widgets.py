"""mlcourse.widgets.live: the default call is the static render; errors and NaN become one line."""

from __future__ import annotations

import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import pytest  # noqa: E402

from mlcourse.widgets import PLOTLY_MIMETYPE, choice, live, log_slider, nonfinite, slider, toggle  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def power_curve(p: float = 1.0, blow_up: bool = False):
    x = np.linspace(0.0, 1.0, 20)
    fig, ax = plt.subplots()
    ax.plot(x, np.full_like(x, np.nan) if blow_up else x ** p)
    ax.set(title="power", xlabel="x", ylabel="y")
    return fig


def shown(view) -> dict:
    (out,) = view.out.outputs
    return out["data"]


def test_default_render_is_a_png_next_to_the_widget() -> None:
    view = live(power_curve, p=slider("power p", 0.5, 3.0, 0.5))
    bundle = view._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and "image/png" in bundle
    assert bundle["text/plain"] == "live power_curve(p=1)"
    assert bundle["image/png"] == shown(view)["image/png"]
    assert view.controls["p"].continuous_update is False


def test_moving_a_control_redraws() -> None:
    view = live(power_curve, p=slider("power p", 0.5, 3.0, 0.5))
    before = shown(view)["image/png"]
    view.controls["p"].value = 3.0
    assert shown(view)["image/png"] != before


def test_non_finite_data_is_reported_in_words() -> None:
    view = live(power_curve, blow_up=toggle("blow up"))
    view.controls["blow_up"].value = True
    assert set(shown(view)) == {"text/plain"}
    assert shown(view)["text/plain"].startswith("diverged: the result has NaN or infinite values at blow up = True")


def test_exceptions_are_one_line() -> None:
    def fails(lr: float = 0.1):
        if lr > 0.5:
            raise FloatingPointError(f"loss overflowed at lr={lr}")
        raise ValueError("x must have shape [N, 1]\nmore detail")

    view = live(fails, lr=slider("learning rate η", 0.0, 1.0, 0.1))
    assert view.static["text/plain"] == "could not draw with learning rate η = 0.1: ValueError: x must have shape [N, 1]"
    assert "could not draw" in view._repr_mimebundle_()["text/plain"]
    view.controls["lr"].value = 0.9
    assert shown(view)["text/plain"] == "diverged: loss overflowed at lr=0.9"


def test_every_control_needs_a_default() -> None:
    def no_default(p):
        return power_curve(p)

    with pytest.raises(ValueError, match="needs a default for every control.*missing p"):
        live(no_default, p=slider("power p", 0.0, 1.0, 0.1))


def test_background_mode_runs_in_a_thread_with_progress_and_drops_stale_results() -> None:
    calls = []

    def slow(p: float = 1.0, progress=None):
        calls.append(progress)
        if progress is not None:
            for _ in progress(range(3)):
                pass
        time.sleep(0.2 if p == 2.0 else 0.0)
        return power_curve(p)

    view = live(slow, background=True, p=slider("power p", 0.5, 3.0, 0.5))
    assert calls == [None]  # the static render runs inline, without a bar
    first = shown(view)["image/png"]
    view.controls["p"].value = 2.0  # slow, superseded by the next request
    assert view.bar_box.children, "background work must show feedback at once"
    view.controls["p"].value = 3.0
    deadline = time.time() + 10
    while len(calls) < 3 or shown(view)["image/png"] == first:
        assert time.time() < deadline, "background render never arrived"
        time.sleep(0.05)
    time.sleep(0.4)  # let the slow, stale p=2 render finish: it must not replace p=3
    assert callable(calls[1]) and view._generation == 2
    final = shown(view)["image/png"]
    reference = live(slow, p=slider("power p", 0.5, 3.0, 0.5))
    reference.controls["p"].value = 3.0
    assert final == shown(reference)["image/png"]


def test_plotly_figures_render_as_json() -> None:
    def scatter(n: int = 3):
        return go.Figure(go.Scatter(x=list(range(n)), y=[float(i) for i in range(n)]))

    view = live(scatter, n=slider("points n", 1, 10, 1))
    assert PLOTLY_MIMETYPE in view.static and view.static[PLOTLY_MIMETYPE]["data"][0]["x"] == [0, 1, 2]
    assert nonfinite(go.Figure(go.Scatter(x=[0, 1], y=[0.0, float("nan")])))


def test_an_error_while_rendering_is_one_line_too() -> None:
    def bad_label(p: float = 1.0):
        fig = power_curve(p)
        fig.axes[0].set_xlabel(r"$\frac12 \le$ x")  # mathtext fails only inside savefig
        return fig

    text = live(bad_label, p=slider("power p", 0.5, 3.0, 0.5)).static["text/plain"]
    assert text.startswith("could not draw with power p = 1: ValueError") and "\n" not in text


def test_controls_are_labelled_in_words_and_bare_tuples_are_refused() -> None:
    view = live(power_curve, p=slider("power p", 0.5, 3.0, 0.5))
    assert view.controls["p"].description == "power p" and view.controls["p"].tooltip == "power p"
    with pytest.raises(ValueError, match="labelled in words"):
        live(power_curve, p=(0.5, 3.0, 0.5))
    with pytest.raises(ValueError, match="needs a label"):
        slider("  ", 0.0, 1.0, 0.1)


@pytest.mark.parametrize("step, fmt", [(0.25, ".2f"), (0.1, ".1f"), (0.05, ".2f"), (1e-4, ".4f"), (2.0, ".0f")])
def test_a_linear_readout_shows_every_digit_of_its_step(step: float, fmt: str) -> None:
    assert slider("x", 0.0, 10.0, step).build(0.5 if step < 1 else 2.0).readout_format == fmt


def test_a_log_slider_reads_out_the_value_not_its_exponent() -> None:
    def curve(eta: float = 3.2e-4):
        return power_curve(1.0)

    w = live(curve, eta=log_slider("learning rate η", 1e-5, 1e-1)).controls["eta"]
    assert w.value == pytest.approx(3.2e-4) and w.base == 10 and (w.min, w.max) == (-5, -1)
    assert w.readout_format == ".1e"  # d3 (JavaScript's toExponential) shows "3.2e-4"
    assert log_slider("β", 0.5, 2.0).build(1.0).readout_format == ".2g"
    with pytest.raises(ValueError, match="0 < lo < hi"):
        log_slider("η", 0.0, 1.0)


def test_a_default_outside_the_range_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        live(power_curve, p=slider("power p", 2.0, 3.0, 0.5))
    with pytest.raises(ValueError, match="not one of the options"):
        live(power_curve, p=choice("power p", [2.0, 3.0]))


def test_a_control_without_effect_is_disabled() -> None:
    def ridge_plot(ridge: bool = False, lam: float = 1.0):
        return power_curve(lam if ridge else 1.0)

    view = live(ridge_plot, ridge=toggle("ridge penalty"), lam=log_slider("ridge strength λ", 1e-3, 1e3),
                enabled={"lam": lambda p: p["ridge"]})
    assert view.controls["lam"].disabled is True
    view.controls["ridge"].value = True
    assert view.controls["lam"].disabled is False
    with pytest.raises(ValueError, match="do not exist"):
        live(ridge_plot, ridge=toggle("ridge penalty"), enabled={"lambda": lambda p: True})


def test_a_figure_is_an_opaque_white_card_readable_in_a_dark_theme() -> None:
    import base64
    import io

    import matplotlib as mpl
    from PIL import Image

    from mlcourse import plots

    with mpl.rc_context({"savefig.transparent": True, "figure.facecolor": "none"}):  # a hostile default
        plots.use_style()
        png = shown(live(power_curve, p=slider("power p", 0.5, 3.0, 0.5)))["image/png"]
    image = Image.open(io.BytesIO(base64.b64decode(png))).convert("RGBA")
    corner = image.getpixel((1, 1))
    assert corner == (255, 255, 255, 255), f"the figure's background is {corner}, not opaque white"
    darkest = min(sum(px[:3]) for px in image.getdata())
    assert darkest < 3 * 80, "no dark text or lines on the white card"
