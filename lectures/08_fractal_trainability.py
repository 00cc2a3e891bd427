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
# Is training a neural network simple? Train one tiny network for every pair of learning rates and
# colour the pixel by whether training worked: the border between success and failure is a fractal
# (Sohl-Dickstein, *The boundary of neural network trainability is fractal*, 2024).

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
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import mlcourse
from mlcourse import fractal as fr
from mlcourse.widgets import live, slider

device = mlcourse.setup()
cpu = torch.device("cpu")  # the reference numbers below are computed on the CPU, 1 thread

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What we want from an optimizer
# - it converges — most of the time, and from most initial weights;
# - it converges fast, and the result generalizes;
# - it is robust to small perturbations of the system;
# - it needs little memory;
# - it needs no hyperparameter tuning.
#
# The last wish is the subject of this lecture: how does "it trains" depend on the learning rates?

# %% [markdown] slideshow={"slide_type": "notes"}
# Ask the room: if you double the learning rate and training still works, will 1.9× work too?
# The answer after this lecture: near the edge, not necessarily — the set of good rates is ragged.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The setup (the author's, exactly)
# One hidden layer, no biases, mean-field scaling, width 8 (the paper: 16):
# $$Z = X W_0/\sqrt{w},\qquad H = \tanh(\sqrt2\, Z),\qquad \hat y = H W_1 / w .$$
# $X, Y, W_0, W_1 \sim \mathcal N(0, 1)$; input dimension $= w$, one target, and as many training points
# as parameters ($w^2 + w = 72$). Full-batch gradient descent on the mean squared error, with
# **one learning rate per layer**: $\eta_0$ for $W_0$, $\eta_1$ for $W_1$, 100 steps.

# %% slideshow={"slide_type": "subslide"}
problem = fr.make_problem(8, seed=0)
print(f"X {tuple(problem.X.shape)}, Y {tuple(problem.Y.shape)}, "
      f"W0 {tuple(problem.W0.shape)}, W1 {tuple(problem.W1.shape)}, {problem.n_points} points")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## One network, one pixel
# Record the loss before every step, normalise by the first: $v_t = L_t / L_0$ (non-finite → $10^6$,
# clipped at $10^6$). Training **converged** if the mean of the last 20 $v_t$ is below 1. The pixel's
# value is $-\sum_t v_t$ if it converged and $+\sum_t 1/v_t$ if not: the sign says which side, the size
# how slowly it got there or how fast it left.

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
for lr_in, lr_out in [(1.0, 10.0), (1.0, 60.0), (1.0, 200.0)]:
    losses = fr.train_losses(problem, lr_in, lr_out, steps=100)
    value = fr.convergence_measure(losses).item()
    _ = ax.semilogy(losses.numpy(), label=f"$\\eta_0$={lr_in:g}, $\\eta_1$={lr_out:g}: value {value:+.1f}")
ax.set(title="Three pixels: loss curves and their convergence measure", xlabel="step", ylabel="training loss")
ax.legend(fontsize=9)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The Mandelbrot analogy
# The Mandelbrot set colours each $c$ by whether iterating $z \mapsto z^2 + c$ from $z = 0$ stays bounded.
# Here each $(\eta_0, \eta_1)$ iterates the gradient-descent map $\theta \mapsto \theta - \eta \odot \nabla L(\theta)$
# from the same $\theta_0$, and we ask the same question: bounded (trains) or not (diverges).
# Both are iterated nonlinear maps with a parameter; both have fractal boundaries.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The full window: $10^{-3} \ldots 10^{6}$ on both axes
# 64 × 64 = 4096 networks, trained together as one tensor program (`fr.trainability_grid`).
# Blue: converged; red: diverged; the colour's depth is the rank of the measure within its sign.

# %% slideshow={"slide_type": "skip"}
def show(values, lr_in, lr_out, title, ax=None):
    """Plot a grid of the convergence measure over its log10 window (blue trained, red diverged)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.6, 4.0))
    _ = ax.imshow(fr.restretch(values), origin="lower", cmap="RdBu_r", vmin=-1, vmax=1,
                  extent=(*lr_in, *lr_out), aspect="auto", interpolation="nearest")
    ax.set(title=title, xlabel="log10 input-layer rate $\\eta_0$", ylabel="log10 output-layer rate $\\eta_1$")
    ax.grid(False)
    return ax.figure


# %% slideshow={"slide_type": "subslide"}
FULL = (-3.0, 6.0)
full = fr.trainability_grid(problem, FULL, FULL, resolution=64, device=cpu)
_ = show(full, FULL, FULL, "Trainability, width 8, 100 steps")
plt.show()
print(f"trained: {(full < 0).double().mean().item():.1%} of the window")

# %% [markdown] slideshow={"slide_type": "notes"}
# For tanh the input layer alone cannot make the loss explode: H stays in [-1, 1], so with a small
# output rate any input rate "trains". The interesting boundary is the roughly horizontal one.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where the boundary meets the left edge
# With $\eta_0 \to 0$ only $W_1$ learns: the loss is quadratic in $W_1$ with Hessian
# $2 H^\top H/(n w^2)$, and GD on a quadratic first diverges at $\eta_1 = 2/\lambda_{\max}$.

# %% slideshow={"slide_type": "subslide"}
H0 = fr.activation(problem.X @ problem.W0 / math.sqrt(problem.width))
lam = torch.linalg.eigvalsh(2 * H0.T @ H0 / (problem.n_points * problem.width**2)).max().item()
edge = math.log10(2 / lam)
lo, hi, res = edge - 0.25, edge + 0.25, 41
strip = fr.trainability_grid(problem, (-3.0, -2.0), (lo, hi), resolution=res, device=cpu)
first = int((strip[:, 0] >= 0).nonzero()[0])
seen = lo + (hi - lo) * (first - 0.5) / (res - 1)
assert abs(seen - edge) < 0.02
print(f"log10(2/λ_max) = {edge:.3f}; first divergence on the grid at {seen:.3f}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Above that edge a thin band still trains: a loss that starts to blow up moves $W_0$ enough, even at
# $\eta_0 = 10^{-3}$, to catch itself (a "catapult"). That band is where the ragged part begins.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## And the right edge: saturated units
# At $\eta_0 = 10^{6}$ one step throws $W_0$ so far that every unit saturates: $\tanh$ sits at
# $\pm 1$, $1 - H^2 \approx 0$, and $W_0$ all but stops moving. From then on only $W_1$ trains, on the
# *saturated* features, so the edge is once more $2/\lambda_{\max}$ — of a different $H$, fixed after
# the first step (which $\eta_1$ does not touch).

# %% slideshow={"slide_type": "subslide"}
W0_sat = problem.W0 - 1e6 * torch.func.grad(fr.loss)(problem.W0, problem.W1, problem.X, problem.Y)
Z_sat = problem.X @ W0_sat / math.sqrt(problem.width)
H_sat = fr.activation(Z_sat)
lam_sat = torch.linalg.eigvalsh(2 * H_sat.T @ H_sat / (problem.n_points * problem.width**2)).max().item()
edge_sat = math.log10(2 / lam_sat)
lo, hi = edge_sat - 0.25, edge_sat + 0.25
strip = fr.trainability_grid(problem, (5.0, 6.0), (lo, hi), resolution=res, device=cpu)
first = int((strip[:, -1] >= 0).nonzero()[0])
seen = lo + (hi - lo) * (first - 0.5) / (res - 1)
assert abs(seen - edge_sat) < 0.02 and (strip[:first, -1] < 0).all() and (strip[first:, -1] >= 0).all()
print(f"after one step: min |√2 z| = {math.sqrt(2) * Z_sat.abs().min().item():.1f}, "
      f"max |1 − H²| = {(1 - H_sat**2).abs().max().item():.0e}")
print(f"log10(2/λ_max) of the saturated features = {edge_sat:.3f}; first divergence at {seen:.3f}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Once *every* $|\sqrt{2} z| \ge 20$, $\tanh$ rounds to exactly $\pm 1$ in float64 and $W_0$ is frozen
# for good: the rest of the loss curve is GD on a quadratic, known in closed form
# (`fr.saturated_losses`: along the Hessian's $i$-th eigenvector the residual shrinks by
# $1 - \eta_1\lambda_i$ a step). The fast grid finishes such networks that way instead of training them.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Zooming in
# Each frame magnifies the previous one 3× around a point on the boundary. At every scale the
# boundary is as ragged as before — the signature of a fractal. Deep zooms need float64 (the default):
# in float32 the rates and the training itself blur at the pixel scale.

# %% slideshow={"slide_type": "subslide"}
centre = (3.5, 1.3)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
for ax, magnification in zip(axes, (3, 9, 27)):
    half = 4.5 / magnification
    win_in, win_out = (centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half)
    frame = fr.trainability_grid(problem, win_in, win_out, resolution=48, device=cpu)
    _ = show(frame, win_in, win_out, f"zoom ×{magnification} around (3.5, 1.3)", ax=ax)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How ragged? Box counting
# Mark the boundary (a sign change inside a 2×2 block), cover it with boxes of side $s$ and count
# $N(s)$, the boxes it crosses. A smooth curve has $N \propto s^{-1}$, an area $N \propto s^{-2}$; the
# box-counting dimension is the median local slope $-\,d\log N/d\log s$.

# %% slideshow={"slide_type": "subslide"}
RAGGED = ((3.0, 4.0), (1.1, 1.5))
ragged = fr.trainability_grid(problem, *RAGGED, resolution=96, device=cpu)
d_ragged = fr.box_counting_dimension(fr.boundary_mask(ragged))
d_smooth = fr.box_counting_dimension(fr.boundary_mask(full))
assert d_ragged > 1.4 and d_smooth < 1.25
print(f"ragged window: dimension {d_ragged:.1f};  full window: {d_smooth:.1f}")

# %% slideshow={"slide_type": "subslide"}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
_ = show(ragged, *RAGGED, "Ragged window", ax=ax1)
for grid, name in [(ragged, "ragged window"), (full, "full window")]:
    mask = fr.boundary_mask(grid)
    sizes = fr.box_sizes(min(mask.shape))
    _ = ax2.loglog(sizes, fr.box_counts(mask, sizes), "o-", label=name)
ax2.set(title="Box counts of the boundary", xlabel="box side s (pixels)", ylabel="boxes crossed N(s)")
ax2.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Syllabus reference: 1.77 for this window (resolution not stated). The estimate is noisy with few
# boxes per size, and this window is chaotic, so rounding (thread count, σ vs tanh) moves pixels: over
# five sub-pixel shifts of the window it stayed within 1.59–1.82 at 96² but spread over 1.24–1.65 at
# 64²; at 2 threads, 1.30 at 128², 1.44 at 256², 1.62 at 384², 1.71 at 512². The paper reports
# 1.2–2 across configurations.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Variants from the paper
# The fractal is not a quirk of tanh, nor of full-batch training. Same window, same seed: ReLU
# ($\sqrt2\,\mathrm{relu}$); a linear network (identity; the author then uses as many points as the
# width); minibatches of 16 of the 72 points (the loss is still recorded on all 72); a single
# training point.

# %% slideshow={"slide_type": "subslide"}
variants = {  # title: (problem, keyword arguments of trainability_grid)
    "relu": (fr.make_problem(8, nonlinearity="relu", seed=0), {}),
    "identity, 8 points": (fr.make_problem(8, nonlinearity="identity", n_points=8, seed=0), {}),
    "tanh, minibatch 16": (problem, {"batch_size": 16}),
    "tanh, 1 point": (fr.make_problem(8, n_points=1, seed=0), {}),
}
fig, axes = plt.subplots(2, 2, figsize=(10, 7.6))
for ax, (name, (variant, kwargs)) in zip(axes.flat, variants.items()):
    grid = fr.trainability_grid(variant, FULL, FULL, resolution=48, device=cpu, **kwargs)
    _ = show(grid, FULL, FULL, f"{name}: {(grid < 0).double().mean().item():.0%} trained", ax=ax)
fig.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Without a saturating nonlinearity the input layer can blow the loss up too: the boundary now bends
# along both axes. With minibatches, very large input-layer rates diverge as well (bottom right);
# with a single point the output-layer edge moves down. The paper finds the boundary fractal in every
# variant it tried.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Another pair of hyperparameters
# The paper's last variant swaps the axes: one learning rate $\eta$ for both layers, against an offset
# $o$ added to every entry of the initial $W_0$. Initialisation is a hyperparameter too. Right: a
# window on its edge, with the box-counting dimension of the boundary.

# %% slideshow={"slide_type": "subslide"}
windows = {"Initial offset vs learning rate": ((-3.0, 3.0), (-3.0, 3.0)),
           "its edge": ((1.5, 2.5), (0.9, 1.2))}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, (name, (offset, rate)) in zip(axes, windows.items()):
    grid = fr.offset_grid(problem, offset, rate, resolution=64, device=cpu)
    dim = fr.box_counting_dimension(fr.boundary_mask(grid))
    _ = show(grid, offset, rate, f"{name}: dimension {dim:.2f}", ax=ax)
    ax.set(xlabel="log10 offset $o$ of the initial $W_0$", ylabel="log10 rate $\eta$ (both layers)")
fig.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# In the author's notebook the offset is added to $W_0$ before every step, not only at the start;
# `fr.offset_grid` follows the variant's name and shifts the initialisation only.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Zoom yourself
# Pick a centre and a magnification; the grid is recomputed in the background (progress bar; the
# title reports networks trained per second). On a CPU it is a 40 × 40 preview; with a GPU, 256 × 256.

# %% slideshow={"slide_type": "subslide"}
PREVIEW = 256 if device.type != "cpu" else 40
ZOOM_DTYPE = torch.float32 if device.type == "mps" else torch.float64  # Apple's MPS has no float64


def zoom(log_lr_in: float = 3.5, log_lr_out: float = 1.3, magnification: float = 0.5,
         resolution: int = PREVIEW, progress=False):
    """The trainability grid on a square window 9 / 10**magnification decades wide around the centre."""
    half = 4.5 / 10**magnification
    win_in, win_out = (log_lr_in - half, log_lr_in + half), (log_lr_out - half, log_lr_out + half)
    start = time.perf_counter()
    grid = fr.trainability_grid(problem, win_in, win_out, resolution=resolution, device=device,
                                dtype=ZOOM_DTYPE, progress=progress)
    rate = resolution**2 / (time.perf_counter() - start)
    return show(grid, win_in, win_out, f"×{10**magnification:.3g} zoom, {rate:,.0f} networks/s")


live(zoom, background=True, log_lr_in=slider("centre log₁₀ η₀ (input layer)", -3.0, 6.0, 0.01),
     log_lr_out=slider("centre log₁₀ η₁ (output layer)", -3.0, 6.0, 0.01),
     magnification=slider("zoom log₁₀ magnification", 0.0, 4.0, 0.1))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Take-aways
# - Whether training works is a function of the hyperparameters that can be **fractal** at its boundary,
#   even for a 72-parameter network; the best rates usually sit right next to it.
# - Tiny changes of a learning rate near the edge flip the outcome: "it trained at 0.1" says little about 0.11.
# - Meta-optimization (tuning, learned optimizers) must live with this landscape — smooth surrogates
#   of "did it train" can be deceptive.
