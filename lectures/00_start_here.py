# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 00 · Start here
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mlcourse/mlcourse/HEAD?urlpath=lab/tree/lectures/00_start_here.ipynb)
#
# A course on **metaparameters and meta-optimization**: every claim is computed, every plot is live,
# every exercise is graded. This notebook checks your set-up and shows how the course works.

# %% slideshow={"slide_type": "skip"} tags=["colab", "remove-cell"]
# On Google Colab only: install the course into this runtime (Colab's GPU is used when present).
import os
import sys

if "google.colab" in sys.modules:
    import subprocess

    source = os.environ.get("MLCOURSE_SOURCE", "git+https://github.com/mlcourse/mlcourse@main")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"mlcourse @ {source}"], check=True)

# %% slideshow={"slide_type": "skip"}
import platform

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch

import mlcourse
from mlcourse import runtime
from mlcourse.widgets import live, slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Your environment
# The versions below are what this notebook ran with. The device is where sweeps run: `cuda`, then
# `mps`, then `cpu`, whichever exists first. Set `MLCOURSE_DEVICE=cpu` to force one.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print(f"python      {platform.python_version()}")
print(f"mlcourse    {mlcourse.__version__}")
print(f"torch       {torch.__version__}")
print(f"numpy       {np.__version__}")
print(f"matplotlib  {matplotlib.__version__}")
print(f"device      {device}")
print(f"threads     {torch.get_num_threads()}  (MLCOURSE_THREADS raises it; 1 keeps results reproducible)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Live widgets
# Every lecture has at least one widget: a plain function of its controls that returns a figure.
# Here, gradient descent on $f(w) = \tfrac{h}{2} w^2$ with curvature $h$. Each step multiplies $w$ by
# $1 - \eta h$, so after $t$ steps
# $$w_t = (1 - \eta h)^t\, w_0 .$$
# GD converges when $|1 - \eta h| < 1$, i.e. for $0 < \eta < 2/h$.

# %% [markdown] slideshow={"slide_type": "notes"}
# Move the slider past 2/h = 0.5 (h = 4) live: the plot is replaced by a one-line "diverged" message.
# That is the course-wide convention for bad inputs: words, never a traceback or a silent garbage plot.

# %% slideshow={"slide_type": "subslide"}
def gd_on_a_quadratic(eta: float = 0.3, h: float = 4.0, steps: int = 30):
    """Iterates w_t = (1 - eta h)^t w_0 of gradient descent on f(w) = h w^2 / 2, from w_0 = 1."""
    t = np.arange(steps + 1)
    w = (1.0 - eta * h) ** t
    if np.abs(w[-1]) > 1e6:
        raise FloatingPointError(f"|w_T| = {abs(w[-1]):.1e}: eta h = {eta * h:.2f} > 2, steps overshoot and grow")
    fig, ax = plt.subplots()
    _ = ax.plot(t, w, marker="o", markersize=3)
    ax.axhline(0.0, color="gray", linewidth=1)
    ax.set(title=f"Gradient descent on $hw^2/2$: $\\eta h$ = {eta * h:.2f}", xlabel="step $t$",
           ylabel="$w_t$")
    return fig


live(gd_on_a_quadratic, eta=slider("learning rate η", 0.01, 1.0, 0.01),
     h=slider("curvature h", 0.5, 8.0, 0.5), steps=slider("steps T", 5, 100, 5))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The figure above is the function called with its defaults: that is also what an exported deck or a
# notebook viewer shows. When a kernel runs, the sliders redraw it (on release). Any input the function
# cannot handle shows a one-line message instead of a plot:

# %% slideshow={"slide_type": "-"}
view = live(gd_on_a_quadratic, eta=slider("learning rate η", 0.01, 1.0, 0.01))
view.controls["eta"].value = 0.7  # what a student sees after moving the slider to η = 0.7
print(view.out.outputs[0]["data"]["text/plain"])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises and grading
# Each lecture `NN` has exercises. Make your own copy and open it from a terminal (in JupyterLab:
# File → New → Terminal):
# ```
# mlcourse start 00
# ```
# Your copy is `work/00_start_here.ipynb`; nothing the course does writes there. Replace each `...` or
# `raise NotImplementedError()` with your answer and run the **check** cell below it: `✓ Q1 …`, or
# `✗ Q1 — hint: …` (hints never contain the answer). An unanswered question says "not answered yet".

# %% [markdown] slideshow={"slide_type": "subslide"}
# A multiple-choice check only records your letter (`○ … recorded`): a check that said ✓ or ✗ would
# give the answer away to anyone who tries every letter. Your instructor's key marks it.
#
# Grade the whole notebook from the terminal. Your file is only read; a copy runs:
# ```
# mlcourse grade work/00_start_here.ipynb
# ```
# It prints one row per question and your score.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Presenting the slides
# Every cell carries slide metadata: one idea per slide, set-up skipped, speaker notes. Code shows on a
# slide only where it is the point.
# - **Live slides**, widgets working: `mlcourse present 01`. The lecture runs, then opens as slides.
# - **Offline deck**, no kernel and no network: `mlcourse slides 01` writes `build/slides/01_*.slides.html`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Map of the course
#
# | lecture | topic | module |
# |---|---|---|
# | 01 | hyperparameters vs metaparameters | `mlcourse.hyperparams` |
# | 02 | evidence estimation during gradient descent | `mlcourse.evidence` |
# | 03 | attention as the dual form of gradient descent | `mlcourse.duality` |
# | 04 | MAML | `mlcourse.maml` |
# | 05 | hypernetworks | `mlcourse.hypernets` |
# | 06 | gradient-based HPO over long horizons | `mlcourse.hpo` |
# | 07 | optimizer zoo and HPO methods | `mlcourse.optimizers`, `mlcourse.search` |
# | 08 | fractal trainability | `mlcourse.fractal` |
# | 09 | double descent | `mlcourse.double_descent` |
#
# Shared pieces: `mlcourse.runtime` (device, seeds, threads), `mlcourse.plots` (house style),
# `mlcourse.widgets` (`live`), `mlcourse.grading` (`check`), `mlcourse.memory` (peak memory of a call). Notebooks narrate and plot; every
# algorithm lives in a module with its tests in `tests/test_<module>.py`.
