"""House style for every figure of the course: matplotlib rcParams and a plotly template.

Figures are rendered at a modest dpi so that an executed notebook stays small, with a readable
font for slides and a colour cycle that survives a projector and colour-blind eyes (Okabe & Ito).
"""

from __future__ import annotations

import matplotlib as mpl
import plotly.graph_objects as go
import plotly.io as pio

PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
"""Okabe–Ito colours, blue first."""

RC = {
    "figure.figsize": (6.4, 3.8),
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "figure.autolayout": True,
    # An opaque white card: readable in JupyterLab's dark theme, on a projector and in print
    # (a transparent figure would draw black text on a dark page).
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "lines.linewidth": 2.0,
    "legend.frameon": False,
    "image.cmap": "viridis",
}

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        colorway=PALETTE,
        font={"size": 13},
        width=640,
        height=380,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        plot_bgcolor="white",
        xaxis={"showgrid": True, "gridcolor": "#e5e5e5", "zeroline": False},
        yaxis={"showgrid": True, "gridcolor": "#e5e5e5", "zeroline": False},
    )
)


def use_style() -> None:
    """Make the house style the default for matplotlib and plotly in this process."""
    mpl.rcParams.update(RC)
    pio.templates["mlcourse"] = TEMPLATE
    pio.templates.default = "plotly_white+mlcourse"
