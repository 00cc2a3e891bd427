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
# # 08 · Fractal trainability
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mlcourse/mlcourse/HEAD?urlpath=lab/tree/lectures/08_fractal_trainability.ipynb)
#
# **Why does the border between learning rates that train and learning rates that do not look like
# the Mandelbrot set?** Below, every pixel is one small network trained by gradient descent with its
# own pair of learning rates: blue trained, red did not. Left, the whole range of rates; right, the
# same border magnified ten billion times.

# %% slideshow={"slide_type": "skip"} tags=["colab", "remove-cell"]
# On Google Colab only: install the course into this runtime (Colab's GPU is used when present).
import os
import sys

if "google.colab" in sys.modules:
    import subprocess

    source = os.environ.get("MLCOURSE_SOURCE", "git+https://github.com/mlcourse/mlcourse@main")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"mlcourse @ {source}"], check=True)

# %% slideshow={"slide_type": "skip"}
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap

import mlcourse
from mlcourse import fractal as fr
from mlcourse.widgets import choice, live, log_slider, slider

device = mlcourse.setup()
cpu = torch.device("cpu")  # the numbers printed below are computed on the CPU


def show(colour, picture, ax, title=None, bar=False, window=None):
    """Draw a re-stretched picture (blue trained, red not) over its log10 window."""
    x, y = window or (picture.x, picture.y)
    im = ax.imshow(colour, origin="lower", cmap=fr.CMAP, vmin=-1, vmax=1, extent=(*x, *y),
                   aspect="auto", interpolation="nearest")
    xlabel, ylabel = picture.labels
    ax.set(title=title or picture.title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(False)
    if bar:
        cb = ax.figure.colorbar(im, ax=ax, ticks=[-0.62, 0.62], fraction=0.05, pad=0.03)
        cb.ax.set_yticklabels(["trained", "did not\ntrain"])
        cb.set_label("dark: slow to decide")
    return im


def centred(picture, ax):
    """Label a zoom frame's axes by the offset from the window's centre, in decades."""
    (x0, x1), (y0, y1) = picture.x, picture.y
    half = (x1 - x0) / 2
    for axis, lo, hi in ((ax.xaxis, x0, x1), (ax.yaxis, y0, y1)):
        c = (lo + hi) / 2
        axis.set_major_formatter(plt.FuncFormatter(lambda v, _, c=c: f"{round((v - c) / half):+d}".replace("+0", "0")))
    ax.set_xticks([picture.x[0], sum(picture.x) / 2, picture.x[1]])
    ax.set_yticks([picture.y[0], sum(picture.y) / 2, picture.y[1]])


pictures = {name: fr.load(name) for name in fr.PICTURES}

# %% slideshow={"slide_type": "-"}
full, deep = pictures["tanh"], pictures[f"zoom{fr.ZOOM_LEVELS[-1]}"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
show(full.colour, full.picture, ax1, f"all rates: {full.picture.resolution}² networks")
show(deep.colour, deep.picture, ax2, f"a window {9 / 10 ** fr.ZOOM_LEVELS[-1]:.0e} decades wide", bar=True)
centred(deep.picture, ax2)
ax2.set(xlabel="η₀ offset from the centre (half-widths)", ylabel="η₁ offset (half-widths)")
fig.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Ask the room before anything else: if training works at a learning rate and fails at twice it, is
# there one clean threshold in between? For a quadratic, yes. Here, not even ten decades down.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The big picture
# The Mandelbrot set colours each complex number $c$ by whether iterating $z \mapsto z^2 + c$ from
# $z = 0$ stays bounded. Gradient descent iterates a map too:
# $$\theta_{t+1} = \theta_t - \eta \odot \nabla L(\theta_t),$$
# and we colour each pair of learning rates $\eta = (\eta_0, \eta_1)$ by whether the loss goes down or
# blows up. In both, the colour of a pixel is decided by many iterations of a nonlinear map, and a
# tiny change of the parameter can be amplified step after step. Such boundaries are typically fractal.
#
# The plan: the simplest case, which we can solve exactly and which is *not* fractal; the real network
# and its pictures; a zoom over ten decades; and an honest measurement of how ragged the boundary is.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The network (the author's setup)
# One hidden layer, no biases, mean-field scaling, width $w = 8$ (the paper: 16):
# $$Z = X W_0/\sqrt{w},\qquad H = \tanh(\sqrt2\, Z),\qquad \hat y = H W_1 / w .$$
# $X, Y, W_0, W_1 \sim \mathcal N(0, 1)$; input dimension $w$, one target, and as many training points
# as parameters ($w^2 + w = 72$). Full-batch gradient descent on the mean squared error with **one
# learning rate per layer**: $\eta_0$ for $W_0$, $\eta_1$ for $W_1$.

# %% slideshow={"slide_type": "-"}
problem = fr.make_problem(8, seed=0)
print(f"X {tuple(problem.X.shape)}, Y {tuple(problem.Y.shape)}, W0 {tuple(problem.W0.shape)}, "
      f"W1 {tuple(problem.W1.shape)}: {problem.W0.numel() + problem.W1.numel()} parameters, "
      f"{problem.n_points} points")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## One network, one pixel
# Record the loss before every step and normalise by the first: $v_t = L_t / L_0$ (non-finite → $10^6$,
# clipped at $10^6$). Training **converged** if the mean of the last 20 $v_t$ is below 1. The pixel's
# value is $-\sum_t v_t$ if it converged and $+\sum_t 1/v_t$ if not: the sign says which side, the size
# how slowly it got there or how fast it left. A loss can fail in two ways: it can end above its start
# while staying finite (**did not converge**), or overflow (**diverged**).

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
ax.set(yscale="log", ylim=(1e-2, 1e220))
ax.set_autoscaley_on(False)  # the overflowing curve reaches 1e307 before inf: no margin above that
for lr_in, lr_out in [(1.0, 10.0), (1e3, 30.0), (1.0, 200.0), (1.0, 1e3)]:
    losses = fr.train_losses(problem, lr_in, lr_out, steps=100)
    value = fr.convergence_measure(losses).item()
    kind = fr.OUTCOMES[fr.outcome(losses).item()]
    _ = ax.plot(losses.numpy(), label=f"η₀ = {lr_in:g}, η₁ = {lr_out:g}:\n{kind}, value {value:+.3g}")
ax.set(title="Four pixels: their loss curves", xlabel="step", ylabel="training loss")
ax.legend(fontsize=10, loc="center left", bbox_to_anchor=(1.02, 0.5))
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The simplest exact case: a quadratic has no fractal
# With $\eta_0 \to 0$ only $W_1$ learns, and the loss is *quadratic* in $W_1$ with Hessian
# $A = 2 H^\top H/(n w^2)$. Along the $i$-th eigenvector of $A$ the error is multiplied by
# $1 - \eta_1 \lambda_i$ at every step, so GD converges exactly when $\eta_1 < 2/\lambda_{\max}$: the
# trainable rates form one interval with one sharp edge. Nothing ragged can happen. The grid agrees:

# %% slideshow={"slide_type": "-"}
H0 = fr.activation(problem.X @ problem.W0 / math.sqrt(problem.width))
lam = torch.linalg.eigvalsh(2 * H0.T @ H0 / (problem.n_points * problem.width**2)).max().item()
edge = math.log10(2 / lam)
lo, hi, res = edge - 0.25, edge + 0.25, 41
strip = fr.trainability_grid(problem, (-3.0, -2.0), (lo, hi), resolution=res, device=cpu)
first = int((strip[:, 0] >= 0).nonzero()[0])
seen = lo + (hi - lo) * (first - 0.5) / (res - 1)
print(f"log10(2/λ_max) = {edge:.3f}; first untrained pixel of the left column at {seen:.3f} "
      f"(pixel size {(hi - lo) / (res - 1):.4f})")

# %% [markdown] slideshow={"slide_type": "fragment"}
# What breaks when $\eta_0 > 0$: $H$ moves with $W_0$, the loss is no longer quadratic, and whether a
# run recovers from a large step depends on where the previous steps left $W_0$. That memory of the
# whole trajectory is what the Mandelbrot map has too.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The other exact edge: saturated units
# At $\eta_0 = 10^{6}$ one step throws $W_0$ so far that every unit saturates: $\tanh$ sits at
# $\pm 1$, $1 - H^2 = 0$, and $W_0$ stops moving. From then on only $W_1$ trains, on *fixed* ±1
# features: a quadratic again, with its edge at $2/\lambda_{\max}$ of the saturated features.

# %% slideshow={"slide_type": "subslide"}
W0_sat = problem.W0 - 1e6 * torch.func.grad(fr.loss)(problem.W0, problem.W1, problem.X, problem.Y)
Z_sat = problem.X @ W0_sat / math.sqrt(problem.width)
H_sat = fr.activation(Z_sat)
lam_sat = torch.linalg.eigvalsh(2 * H_sat.T @ H_sat / (problem.n_points * problem.width**2)).max().item()
edge_sat = math.log10(2 / lam_sat)
lo, hi = edge_sat - 0.25, edge_sat + 0.25
strip = fr.trainability_grid(problem, (5.0, 6.0), (lo, hi), resolution=res, device=cpu)
first = int((strip[:, -1] >= 0).nonzero()[0])
seen_sat = lo + (hi - lo) * (first - 0.5) / (res - 1)
print(f"after one step: min |√2 z| = {math.sqrt(2) * Z_sat.abs().min().item():.1f}, "
      f"max |1 − H²| = {(1 - H_sat**2).abs().max().item():.0e}")
print(f"log10(2/λ_max) of the saturated features = {edge_sat:.3f}; first untrained pixel at {seen_sat:.3f}")

# %% [markdown] slideshow={"slide_type": "notes"}
# Once every |√2 z| ≥ 19.07, tanh rounds to exactly ±1 in float64 and W0 is frozen for good; the rest
# of the loss curve is GD on a quadratic, known in closed form (fr.saturated_losses). The grid uses
# that shortcut for such networks instead of training them step by step.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## All the rates at once
# One network per pixel, $10^{-3} \ldots 10^{6}$ on both axes, trained together as one tensor program.
# Colours as in the paper: each side re-stretched by rank, dark where training was slow to decide —
# which is next to the boundary. Right: the three outcomes.

# %% slideshow={"slide_type": "-"}
OUTCOME_COLOURS = ListedColormap(["#3b6fb6", "#f2b134", "#a3142c"])
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [1.2, 1]})
show(full.colour, full.picture, ax1, f"tanh, {full.picture.steps} steps", bar=True)
ax2.imshow(full.outcome, origin="lower", cmap=OUTCOME_COLOURS, vmin=-0.5, vmax=2.5,
           extent=(*full.picture.x, *full.picture.y), aspect="auto", interpolation="nearest")
ax2.set(title="outcome", xlabel=full.picture.labels[0], ylabel=full.picture.labels[1])
ax2.grid(False)
handles = [plt.Rectangle((0, 0), 1, 1, color=OUTCOME_COLOURS(k)) for k in range(3)]
ax2.legend(handles, fr.OUTCOMES, loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=10)
fig.tight_layout()
plt.show()
shares = np.bincount(full.outcome.ravel(), minlength=3) / full.outcome.size
print(", ".join(f"{name}: {share:.1%}" for name, share in zip(fr.OUTCOMES, shares)))

# %% [markdown] slideshow={"slide_type": "notes"}
# For tanh the input layer alone cannot make the loss explode (H stays in [−1, 1]), so the interesting
# border is the roughly horizontal one. Its left end is the quadratic edge, its right end the
# saturated one; in between it bends and frays. "Did not converge" is rare in this window: nearly
# every run that fails overflows.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Zooming in: ten decades
# Each frame magnifies the previous one 100× around the same point on the border (axes: offset from
# the centre in half-widths of the frame). The border never straightens out: every frame holds both
# sides, and between them bands, filaments and islands that were too fine to see one frame earlier.

# %% slideshow={"slide_type": "-"}
zoom = [pictures[f"zoom{k}"] for k in fr.ZOOM_LEVELS]
fig, axes = plt.subplots(2, 3, figsize=(10, 6.4))
for ax, frame, level in zip(axes.flat, zoom, fr.ZOOM_LEVELS):
    show(frame.colour, frame.picture, ax, f"width {9 / 10**level:.0e} decades" if level else "width 9 decades")
    centred(frame.picture, ax)
    ax.set(xlabel="", ylabel="")
fig.supxlabel("η₀: offset from the centre (half-widths)", fontsize=11)
fig.supylabel("η₁: offset (half-widths)", fontsize=11)
fig.tight_layout()
plt.show()
c = fr.ZOOM_CENTRE
print(f"centre: log10 η₀ = {c[0]:.12f}, log10 η₁ = {c[1]:.12f}; {zoom[0].picture.steps} steps, "
      f"{zoom[0].picture.resolution}² pixels per frame")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Structure, not noise
# A picture can look busy because it has structure or because it is noise. One test: how often do two
# neighbouring pixels agree on "trained"? In a few clean regions almost always; in speckle about half
# the time. The same pixels shuffled are the control: the same shares, no structure. The table also
# says how the untrained pixels failed.

# %% slideshow={"slide_type": "-"}
print(f"{'frame width':>11s} {'trained':>8s} {'did not converge':>17s} {'diverged':>9s}   "
      f"{'neighbours agree':>16s} {'shuffled':>9s}")
for frame, level in zip(zoom, fr.ZOOM_LEVELS):
    t, shares = frame.trained, np.bincount(frame.outcome.ravel(), minlength=3) / frame.outcome.size
    print(f"{9 / 10**level:11.0e} {shares[0]:8.0%} {shares[1]:17.0%} {shares[2]:9.0%}   "
          f"{fr.coherence(t):16.1%} {fr.coherence(fr.shuffled(t)):9.1%}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### More steps, finer chaos
# Zoom in where the border frays ($\eta_0 \approx 10^2 \ldots 10^5$) and frames $10^{-2}$ to $10^{-6}$ wide
# *are* speckle: the outcome changes faster than from one pixel to the next, chaos finer than the
# resolution. Each training step can amplify a difference in the rates, so more steps make that chaos
# finer; that is why the zoom frames use 100 steps. Here, the frame $9 \cdot 10^{-4}$ decades wide at 48²:

# %% slideshow={"slide_type": "-"}
x, y = fr.zoom_window(fr.ZOOM_CENTRE, 4)
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
for ax, steps in zip(axes, (100, 1000)):
    values = fr.trainability_grid(problem, x, y, resolution=48, steps=steps, device=cpu)
    t = (values < 0).numpy()
    picture = fr.Picture("steps", "", x, y, steps=steps, resolution=48)
    show(fr.restretch(values), picture, ax, f"{steps} steps: neighbours agree {fr.coherence(t):.0%}\n"
         f"(shuffled {fr.coherence(fr.shuffled(t)):.0%})")
    centred(picture, ax)
    ax.set(xlabel="η₀ offset", ylabel="η₁ offset")
fig.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The centre comes from fr.find_zoom_centre((1.0, 0.5), 10): at each ×10 it moves to the border
# pixel whose next frame is most coherent. Started from points in the frayed part, the same search
# still meets speckle frames: none of the candidates it tries there is coherent.
#
# Float64 matters here: neighbouring pixels of the last frame differ by 9e−10/511 decades, a relative
# change of 4e−12 in the rate. Float64 holds a rate to about 1e−16, so the structure is the
# training's, not rounding's. In float32 (spacing 1e−7) neighbouring pixels would share one rate
# in frames narrower than about 1e−5 of the full window. The paper's deepest windows are about
# 1e−12 of the full one, computed on a GPU.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How ragged? Box counting, checked first
# Cover a set with boxes of side $s$ and count $N(s)$, the boxes that hold part of it. A smooth curve
# has $N \propto s^{-1}$, an area $N \propto s^{-2}$; the **box-counting dimension** is the slope of
# $-\log N$ against $\log s$. Before we trust it on our boundary, we check it on sets whose dimension
# we know, drawn at several resolutions (boxes of 2 pixels up to 1/32 of the image):

# %% slideshow={"slide_type": "-"}
for R in (256, 512, 1024):
    row = []
    for name, (mask, truth) in fr.known_sets(R).items():
        row.append(f"{name} {fr.box_count(mask).dimension:.3f} ({truth:.3f})")
    print(f"{R:4d}²: " + "; ".join(row))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## … and on noise
# Random speckle has no dimension at all. Its box count bends: small boxes each hold a single
# speckle, large ones all hold some. Any straight line through it gives a number that depends on the
# density and on the resolution. So every dimension below comes with two checks: **is the plot
# straight** (the local slopes agree), and **does it differ from the same pixels shuffled**?

# %% slideshow={"slide_type": "-"}
rng = np.random.default_rng(0)
fig, ax = plt.subplots()
known = fr.known_sets(512)
for name in ("line", "Koch curve", "Sierpinski triangle", "filled disc"):
    bc = fr.box_count(known[name][0])
    _ = ax.loglog(bc.sizes, bc.counts, "o-", label=f"{name}: {bc.dimension:.2f}")
for density in (0.9, 0.99):
    speckle = torch.from_numpy(np.where(rng.random((512, 512)) < density, -1.0, 1.0))
    bc = fr.box_count(fr.boundary_mask(speckle))
    print(f"speckle boundary, density {density}: local slopes {np.round(bc.local, 2)}, fit {bc.dimension:.2f}")
    _ = ax.loglog(bc.sizes, bc.counts, "s--", label=f"speckle {density}: bent")
ax.set(title="Box counts at 512²", xlabel="box side s (pixels)", ylabel="boxes hit N(s)")
ax.set_xticks(bc.sizes, [str(s) for s in bc.sizes], minor=False)
ax.xaxis.set_minor_locator(plt.NullLocator())
ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=10)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The dimension of the border, where it is resolved
# For each zoom frame: the fit, how much its local slopes disagree (spread), the same frame at half
# the resolution (every second rate), and the shuffled control — the same pixels in random order,
# which has the same density of boundary but no structure. A frame counts as **resolved** when its
# plot is straight (spread ≤ 0.3), its slopes differ from its control's by at least 0.15 (overall or
# at some scale), and, where the half-resolution value exists, the two agree within 0.15.

# %% slideshow={"slide_type": "-"}
resolved = []
for frame, level in zip(zoom, fr.ZOOM_LEVELS):
    if frame.trained.all() or not frame.trained.any():
        print(f"width 9e-{level:<2d}: one outcome only, no boundary")
        continue
    c = fr.dimension_check(frame.trained)
    half = "n/a" if c.half is None else f"{c.half:.2f}"
    verdict = f"dimension {c.dimension:.2f}" if c.resolved else "not resolved: no dimension"
    print(f"width 9e-{level:<2d}: fit {c.fit.dimension:.2f}, spread {c.fit.spread:.2f}, half resolution "
          f"{half}, shuffled {c.control.dimension:.2f} (contrast {c.contrast:.2f}) → {verdict}")
    resolved += [c.dimension] if c.resolved else []
if resolved:
    print(f"median over the resolved frames: {np.median(resolved):.2f}")

# %% [markdown] slideshow={"slide_type": "notes"}
# The paper reports 1.66 for tanh, full batch (width 16, its zoom sequence, porespy's estimator).
# porespy's box count uses sizes from 10 pixels up to the whole image and the median local slope; on
# sets of known dimension that is biased upward (Sierpinski 1.72 instead of 1.585, Koch 1.36 instead
# of 1.26 at 1024²), and on speckle it gives 1.8–1.9. Ours keeps to the scales the image resolves.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The paper's six setups
# The fractal is not a quirk of tanh or of full batches: ReLU; a linear network (identity, with as
# many points as the width); minibatches of 16 of the 72 points (the loss is still recorded on all
# 72); a single training point; and a different pair of hyperparameters — an offset $o$ added to every
# entry of the initial $W_0$, against one learning rate for both layers.

# %% slideshow={"slide_type": "-"}
setups = ["tanh", "relu", "identity", "minibatch", "single_point", "offset"]
fig, axes = plt.subplots(2, 3, figsize=(10, 6.4))
for ax, name in zip(axes.flat, setups):
    r = pictures[name]
    show(r.colour, r.picture, ax, f"{r.picture.title}\n{r.trained.mean():.0%} trained")
    ax.set(xlabel=r.picture.labels[0] if ax in axes[1] else "",
           ylabel=r.picture.labels[1] if ax in axes[:, 0] or name == "offset" else "")
    ax.title.set_fontsize(11)
fig.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Their borders, measured
# The box-counting dimension of each border (— where this grid does not resolve it), next to the
# same pixels shuffled and the paper's value.

# %% slideshow={"slide_type": "-"}
print(f"{'setup':38s} {'grid, steps':>12s} {'ours':>5s} {'shuffled':>9s} {'paper':>6s}")
for name in setups:
    r = pictures[name]
    c = fr.dimension_check(r.trained)
    ours = f"{c.dimension:.2f}" if c.resolved else "—"
    print(f"{r.picture.title:38s} {f'{r.picture.resolution}², {r.picture.steps}':>12s} {ours:>5s} "
          f"{c.control.dimension:9.2f} {fr.PAPER_DIMENSIONS[name]:6.2f}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Our numbers are not the paper's, and should not be: ours measure each whole window at 512², where
# much of the border is its smooth part; the paper's measure deep zooms (width 16, an estimator that
# reads high on sets of known dimension). Five of our borders measure above 1, the dimension of a
# smooth curve. The single point's does not: over this whole window its border is smooth, and the
# paper's 1.41 comes from zooms we did not compute for that setup.

# %% [markdown] slideshow={"slide_type": "notes"}
# Without a saturating nonlinearity the input layer can blow the loss up too, so the border bends
# along both axes (ReLU, identity). With minibatches, large input-layer rates fail as well. The offset
# panel uses log10 of the offset on x and of the single rate on y.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Zoom yourself
# Magnify up to $10^{10}$ around the point of the zoom sequence, pan by fractions of the window, and
# change the number of training steps: at a magnification of $10^4$ or more, which is noisier, 100
# steps or 200?
# On a CPU this is a coarse 40 × 40 preview (a few seconds); with a GPU the same call draws 512 × 512
# (0.4 s in float32, 0.7 s in float64 on an H100).

# %% slideshow={"slide_type": "subslide"}
PREVIEW = 512 if device.type != "cpu" else 40
ZOOM_DTYPE = torch.float32 if device.type == "mps" else torch.float64  # Apple's MPS has no float64


def explore(magnification: float = 1e9, pan_x: float = 0.0, pan_y: float = 0.0, steps: int = 100,
            resolution: int = PREVIEW, progress=False):
    """The trainability grid on a square window 9 / magnification decades wide around the zoom
    centre, shifted by (pan_x, pan_y) window widths."""
    width = 9.0 / magnification
    cx, cy = fr.ZOOM_CENTRE[0] + pan_x * width, fr.ZOOM_CENTRE[1] + pan_y * width
    x, y = (cx - width / 2, cx + width / 2), (cy - width / 2, cy + width / 2)
    values = fr.trainability_grid(problem, x, y, resolution=resolution, steps=steps, device=device,
                                  dtype=ZOOM_DTYPE, progress=progress)
    fig, ax = plt.subplots(figsize=(5.4, 4.2))
    picture = fr.Picture("live", "", x, y, steps=steps, resolution=resolution)
    show(fr.restretch(values), picture, ax, f"×{magnification:.1e}: {resolution}², {steps} steps", bar=True)
    centred(picture, ax)
    ax.set(xlabel="η₀ offset (half-widths)", ylabel="η₁ offset (half-widths)")
    return fig


live(explore, background=True,
     magnification=log_slider("magnification (window 9 decades ÷ this)", 1.0, 1e10),
     pan_x=slider("pan η₀ (window widths)", -0.5, 0.5, 0.05),
     pan_y=slider("pan η₁ (window widths)", -0.5, 0.5, 0.05),
     steps=choice("training steps", [50, 100, 200]))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where this course differs from the author's code
# - **Width 8** (the author's notebook default; the paper uses 16, which costs 15× more per network).
# - **Size**: 512² pixels per picture; 1000 steps for tanh, identity and a single point, 500 for
#   ReLU, minibatches and the offset, 100 (the notebook's default) for the zoom frames. The paper
#   renders 4096² with 500–1000 steps on a GPU. The last slide gives each picture's command and cost.
# - **Non-finite losses**: the author writes `v*fin + max*(1-fin)`, which is NaN for an infinite loss
#   (∞·0); we count them as $10^6$, as the code intends.
# - **Offset**: the author adds the offset to $W_0$ before *every* step; we shift the initial $W_0$ only.
# - **Dimension**: the author uses porespy's box count (sizes from 10 pixels to the whole image, median
#   local slope); ours is validated on known sets and reported only where the frame is resolved.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What to remember
# - Training is an iterated map; whether it stays bounded can depend on a hyperparameter as
#   discontinuously as the Mandelbrot set depends on $c$: the border is fractal over many decades.
# - Where the loss is quadratic (one layer learning, or saturated units) the border is one sharp
#   edge at $2/\lambda_{\max}$; the fractal comes from the nonlinear feedback between the layers.
# - "It trained at 0.1" says little about 0.1000001 near the edge — and the best rates sit near it.
# - A dimension needs resolved structure: check a box count on known sets and against shuffled pixels.
#
# Next: lecture 09 asks the same kind of question about generalization (double descent). Here the
# learning rates are hyperparameters of training; a tuner that treats "did it train" as a smooth
# function of them is fitting a fractal.
#
# Read: J. Sohl-Dickstein, *The boundary of neural network trainability is fractal* (arXiv:2402.06184);
# his blog post (sohl-dickstein.github.io, 2024-02-12) with zoom videos; his code:
# github.com/Sohl-Dickstein/fractal.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How the pictures were made
# Each picture is stored in `mlcourse/data/`. `python -m mlcourse.fractal --render` followed by the
# last column recomputes it (CPU minutes on one thread).

# %% slideshow={"slide_type": "-"}
print(f"{'picture':12s} {'grid':>5s} {'steps':>5s} {'CPU-min':>8s}   arguments")
for name, r in pictures.items():
    p = r.picture
    print(f"{name:12s} {f'{p.resolution}²':>5s} {p.steps:5d} {r.seconds / 60:8.1f}   "
          f"{r.command.split('--render ', 1)[1]}")
