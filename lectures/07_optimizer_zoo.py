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
# # 07 · The optimizer zoo and hyperparameter search
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mlcourse/mlcourse/HEAD?urlpath=lab/tree/lectures/07_optimizer_zoo.ipynb)
#
# **The question.** Gradient descent and gradient descent with momentum, each with its best settings,
# run on the same narrow valley below. Momentum takes a step 1.7 times larger, overshoots wildly at
# first — and still arrives about seven times sooner. Where does the difference come from? And when no
# formula tells us the best settings, how do we find them?

# %% slideshow={"slide_type": "skip"} tags=["colab", "remove-cell"]
# On Google Colab only: install the course into this runtime (Colab's GPU is used when present).
import os
import sys

if "google.colab" in sys.modules:
    import subprocess

    source = os.environ.get("MLCOURSE_SOURCE", "git+https://github.com/mlcourse/mlcourse@main")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"mlcourse @ {source}"], check=True)

# %% slideshow={"slide_type": "skip"}
import itertools

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import optuna
import torch

import mlcourse
from mlcourse import optimizers as op
from mlcourse import search as hs
from mlcourse.widgets import choice, live, log_slider, slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen
F64 = torch.float64
GD_C, MOM_C, NEST_C, ADAM_C, OTHER_C = "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00"

LAM = (0.01, 1.0)  # the valley: two eigen-modes, a flat one and a steep one (condition number κ = 100)
valley = op.diagonal_quadratic(LAM)
X0 = (-10.0, 1.0)


def contour(ax, f, lo, hi, levels=30, log=True, resolution=200):
    """Filled contours of f (of log10(f + 1e-3) if ``log``) over the box [lo, hi]."""
    xs = torch.linspace(lo[0], hi[0], resolution, dtype=F64)
    ys = torch.linspace(lo[1], hi[1], resolution, dtype=F64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    Z = f(torch.stack([X, Y], -1))
    Z = torch.log10(Z + 1e-3) if log else Z
    return ax.contourf(X.numpy(), Y.numpy(), Z.numpy(), levels=levels, cmap="Greys_r")


def first_below(path, f, tol=1e-8):
    """The first step at which f(path) < tol."""
    return int(torch.nonzero(f(path) < tol)[0])


# %% slideshow={"slide_type": "-"}
lr_gd, rate_gd = op.best_gd(*LAM)
lr_mom, beta_mom, rate_mom = op.best_momentum(*LAM)
opening = {f"gradient descent, η = {lr_gd:.2f}": (op.run("sgd", valley, X0, 500, lr=lr_gd), GD_C),
           f"momentum, η = {lr_mom:.2f}, β = {beta_mom:.2f}": (
               op.run("sgd", valley, X0, 500, lr=lr_mom, momentum=beta_mom), MOM_C)}
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
_ = contour(ax, valley, (-12, -4), (12, 4), levels=20)
for label, (p, colour) in opening.items():
    _ = ax.plot(p[:60, 0], p[:60, 1], "o-", ms=2.5, lw=1, color=colour, label=label)
    _ = ax2.semilogy(valley(p), color=colour, label=f"{label}: {first_below(p, valley)} steps")
ax.set(title="The valley ½(0.01 x² + y²): first 60 steps", xlabel="x (flat direction)",
       ylabel="y (steep direction)")
ax2.axhline(1e-8, color="gray", ls=":", lw=1)
ax2.set(title="Loss, and the step that reaches 10⁻⁸", xlabel="step", ylabel="f (log scale)", ylim=(1e-20, 10))
ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2))
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Let the room guess before revealing the right panel: most people expect the smooth, cautious method
# to win. The whole first half of the lecture explains this one picture exactly; the second half is
# about finding η and β when there is no formula.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What we want from an optimizer
# A network $f = g_N \circ \dots \circ g_1$ with weights $W_1, \dots, W_N$ is trained by
# $$W_j^{k+1} = W_j^k - \eta_k \nabla_{W_j} L(W_1^k, \dots, W_N^k).$$
# A better rule would
# - converge most of the time, and from most initial weights,
# - converge fast,
# - generalize well,
# - be robust to small perturbations of the system,
# - need little memory (Adam keeps two extra numbers per weight, plain SGD none),
# - need no hyperparameter tuning.
#
# We can measure speed and memory; generalization and robustness we mostly observe after the fact.
# The last wish is never granted — hence the second half of this lecture.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The simplest exact case: gradient descent on a quadratic
# Any quadratic, written in the eigenvectors of its Hessian, is $f(x) = \tfrac12\sum_i \lambda_i x_i^2$.
# A gradient step $x \leftarrow x - \eta \nabla f$ then acts on every **eigen-mode** separately:
# $$x_i \leftarrow (1 - \eta\lambda_i)\, x_i ,$$
# so mode $i$ shrinks by the factor $|1 - \eta\lambda_i|$ per step. It converges only if every
# factor is below 1, i.e. $\eta < 2/\lambda_{\max}$. The steep mode caps the step size; the flat
# mode then crawls. The best compromise makes the two extreme factors equal:
# $$\eta^* = \frac{2}{\lambda_{\min} + \lambda_{\max}}, \qquad \text{rate } \frac{\kappa - 1}{\kappa + 1},
# \quad \kappa = \frac{\lambda_{\max}}{\lambda_{\min}} .$$
# Our valley has $\lambda = (0.01, 1)$, $\kappa = 100$: the rate is $99/101 \approx 0.980$ per step.

# %% slideshow={"slide_type": "subslide"}
lam = torch.tensor(LAM, dtype=F64)
gd_path = opening[f"gradient descent, η = {lr_gd:.2f}"][0]
measured = (gd_path[300].abs() / gd_path[200].abs()) ** (1 / 100)
print(f"η* = {lr_gd:.4f}; per-mode rate |1 − ηλ|, theory: {op.mode_rates(lam, lr_gd)[0]:.4f} (flat), "
      f"{op.mode_rates(lam, lr_gd)[1]:.4f} (steep)")
print(f"measured between steps 200 and 300: {measured[0]:.4f} (flat), {measured[1]:.4f} (steep)")

etas = torch.linspace(0.01, 2.3, 400, dtype=F64)
rates = op.mode_rates(lam[:, None], etas[None, :])
fig, ax = plt.subplots(figsize=(6.4, 3.8))
_ = ax.plot(etas, rates[0], color=GD_C, label="flat mode, λ = 0.01")
_ = ax.plot(etas, rates[1], color=OTHER_C, label="steep mode, λ = 1")
_ = ax.plot(etas, rates.amax(0), "k--", lw=1, label="the slower of the two")
_ = ax.plot(lr_gd, rate_gd, "ko", ms=6)
ax.annotate(f"η* = {lr_gd:.2f}, rate {rate_gd:.3f}", (lr_gd, rate_gd), (0.9, 0.35), fontsize=11,
            arrowprops=dict(arrowstyle="->"))
ax.set(title="Gradient descent: how fast each mode shrinks", xlabel="step size η",
       ylabel="rate |1 − ηλ| per step", ylim=(0, 1.4))
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Every smooth loss looks like this near a minimum, with λ the Hessian's eigenvalues. In a network κ
# is huge; that is the problem every rule below attacks from a different side.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Momentum: remember where you were going
# Heavy-ball momentum (Polyak 1964) keeps a running sum of past gradients and steps along it:
# $$b \leftarrow \beta b + \nabla f(x), \qquad x \leftarrow x - \eta b .$$
# Along the flat mode the gradients keep the same sign and pile up (up to $1/(1-\beta)$ times); along
# the steep mode they alternate and cancel. This is torch's form; the other common one,
# $V \leftarrow \mu V + \eta g,\ W \leftarrow W - V$, is the same iteration with $V = \eta b$ (for a
# constant $\eta$). Two lines, next to `torch.optim.SGD`:

# %% slideshow={"slide_type": "subslide"} tags=["show-input"]
x, b = torch.tensor(X0, dtype=F64), torch.zeros(2, dtype=F64)  # by hand
w = torch.tensor(X0, dtype=F64, requires_grad=True)  # and with torch.optim
opt = torch.optim.SGD([w], lr=lr_mom, momentum=beta_mom)
gap = 0.0
for step in range(100):
    b = beta_mom * b + lam * x  # ∇f(x) = λ ⊙ x on the valley
    x = x - lr_mom * b
    opt.zero_grad()
    valley(w).backward()
    opt.step()
    gap = max(gap, (x - w.detach()).abs().max().item())
print(f"100 steps: largest difference from torch.optim.SGD = {gap:.1e}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Why it is faster: each mode becomes a two-dimensional system
# With momentum, mode $\lambda$ carries two numbers, its coordinate $x$ and its share of $b$:
# $$\begin{pmatrix} b_{k+1} \\ x_{k+1}\end{pmatrix} = \begin{pmatrix} \beta & \lambda \\ -\eta\beta & 1 - \eta\lambda \end{pmatrix}
# \begin{pmatrix} b_{k} \\ x_{k}\end{pmatrix}.$$
# The mode shrinks like $\rho^k$, $\rho$ the larger $|t|$ of the roots of $t^2 - (1 + \beta - \eta\lambda)t + \beta = 0$.
# Two roots that are complex make the mode **ring** — it overshoots and swings back — with
# $|t| = \sqrt\beta$ whatever $\eta$ is. Choosing $\eta$ and $\beta$ so that both extreme modes sit
# exactly at the edge of ringing gives (Polyak 1964; Goh 2017, "Why momentum really works")
# $$\eta^* = \Big(\frac{2}{\sqrt{\lambda_{\min}} + \sqrt{\lambda_{\max}}}\Big)^2, \quad
# \beta^* = \Big(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\Big)^2, \quad
# \text{rate } \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}.$$
# $\kappa$ enters through its **square root**: $9/11 \approx 0.818$ per step instead of $0.980$.

# %% slideshow={"slide_type": "subslide"}
mom_path = opening[f"momentum, η = {lr_mom:.2f}, β = {beta_mom:.2f}"][0]
decades = {name: (400 - 200) / np.log10(valley(p[200]).item() / valley(p[400]).item())
           for name, p in (("gradient descent", gd_path), ("momentum", mom_path))}
print(f"η* = {lr_mom:.3f}, β* = {beta_mom:.3f}: theory rate {rate_mom:.4f}, per-mode rates "
      f"{', '.join(f'{r:.4f}' for r in op.mode_rates(lam, lr_mom, beta_mom).tolist())}")
print(f"steps per decade of f, measured between steps 200 and 400: gradient descent {decades['gradient descent']:.1f}, "
      f"momentum {decades['momentum']:.1f} (ratio {decades['gradient descent'] / decades['momentum']:.1f}; √κ = 10)")
print(f"steps to f < 1e-8 from {X0}: gradient descent {first_below(gd_path, valley)}, "
      f"momentum {first_below(mom_path, valley)}")

# %% [markdown] slideshow={"slide_type": "-"}
# Asymptotically momentum is $\sqrt\kappa = 10$ times faster per decade. To the first $10^{-8}$ it is
# about 7 times: at the optimal $\beta$ the two roots coincide and the error behaves like $k\rho^k$,
# and the first big swings along the steep direction cost a few steps.

# %% slideshow={"slide_type": "subslide"}
etas = torch.logspace(-1.3, 0.9, 221, dtype=F64)
betas = torch.linspace(0.0, 0.98, 197, dtype=F64)
worst = op.mode_rates(lam[:, None, None], etas[None, :, None], betas[None, None, :]).amax(0)
fig, ax = plt.subplots(figsize=(7.4, 4.2))
mesh = ax.pcolormesh(etas.numpy(), betas.numpy(), np.ma.masked_greater_equal(worst.T.numpy(), 1.0),
                     cmap=plt.get_cmap("viridis_r").with_extremes(bad="lightgray"), vmin=0.8, vmax=1.0,
                     shading="auto")
lines = ax.contour(etas.numpy(), betas.numpy(), worst.T.numpy(), levels=[0.9, 0.95, 0.98],
                   colors="white", linewidths=1)
ax.clabel(lines, fontsize=11, fmt="%.2f")
_ = ax.plot(lr_gd, 0.0, "o", color=GD_C, ms=10, mec="white", label=f"best gradient descent: rate {rate_gd:.3f}")
_ = ax.plot(lr_mom, beta_mom, "*", color=MOM_C, ms=16, mec="white", label=f"best momentum: rate {rate_mom:.3f}")
ax.text(5.0, 0.2, "diverges", fontsize=12, ha="center")
ax.set(xscale="log", title="Rate per step on the valley (the slower mode)", xlabel="step size η",
       ylabel="momentum β")
fig.colorbar(mesh, ax=ax, label="rate per step")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
plt.show()

# %% [markdown] slideshow={"slide_type": "-"}
# White lines: rates 0.9, 0.95, 0.98; grey: diverges. Momentum buys a **larger stable step
# size** (the edge moves from $\eta = 2/\lambda_{\max}$ to $2(1+\beta)/\lambda_{\max}$) *and* a faster
# rate — but only in a narrow region around $(\eta^*, \beta^*)$: two hyperparameters to tune instead of one.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try it: step size and momentum on the same valley
# Left, the path; right, the size of each mode (dots) and its predicted decay $\rho^k$ (line). Things to
# try: raise $\beta$ at $\eta = 1.6$ and watch the flat mode speed up until both modes ring; push
# $\eta$ beyond 2 with $\beta = 0$ (diverges) and then add momentum (converges again).

# %% slideshow={"slide_type": "subslide"}
_gx, _gy = torch.meshgrid(torch.linspace(-12, 12, 160, dtype=F64), torch.linspace(-4, 4, 160, dtype=F64), indexing="xy")
VALLEY_IMAGE = torch.log10(valley(torch.stack([_gx, _gy], -1)) + 1e-3).numpy()  # drawn once, shown on every redraw


def momentum_valley(lr: float = 1.6, beta: float = 0.0):
    """Heavy-ball momentum on the valley: path and per-mode error with the predicted rates."""
    rho = op.mode_rates(lam, lr, beta)
    path = op.run("sgd", valley, X0, 200, lr=lr, momentum=beta)
    escaped = (path.abs() > 1e4).any(1)
    shown = path[: int(escaped.nonzero()[0])] if escaped.any() else path  # stop drawing once it has left
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    _ = ax.imshow(VALLEY_IMAGE, extent=(-12, 12, -4, 4), origin="lower", cmap="Greys_r", aspect="auto")
    _ = ax.plot(shown[:80, 0], shown[:80, 1], "o-", ms=2.5, lw=1, color=MOM_C)
    ax.set(xlim=(-12, 12), ylim=(-4, 4), title="first 80 steps", xlabel="x (flat)", ylabel="y (steep)",
           xticks=[-10, 0, 10], yticks=[-4, 0, 4])
    k = np.arange(len(shown))
    for i, (name, colour) in enumerate((("flat", GD_C), ("steep", OTHER_C))):
        size = shown[:, i].abs().clamp_min(1e-300)
        _ = ax2.semilogy(k[::3], size[::3], "o", ms=3, color=colour, label=f"{name} mode, measured")
        _ = ax2.semilogy(k, abs(X0[i]) * rho[i].item() ** k, "-", lw=1.5, color=colour,
                         label=f"{name} mode: ρᵏ, ρ = {rho[i]:.3f}")
    verdict = "diverges" if rho.max() >= 1 else f"f < 1e-8 after {first_below(path, valley)} steps" \
        if (valley(path) < 1e-8).any() else "f ≥ 1e-8 after 200 steps"
    ax2.set(ylim=(1e-12, 1e4), title=f"η = {lr:.2g}, β = {beta:.2f}: {verdict}", xlabel="step",
            ylabel="|coordinate| (log scale)", yticks=[1e-12, 1e-8, 1e-4, 1, 1e4], xticks=[0, 100, 200])
    ax2.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:.0e}" if v != 1 else "1"))
    ax2.yaxis.set_minor_formatter(mticker.NullFormatter())  # plain labels: quick to draw on every move
    ax2.legend(loc="center left", bbox_to_anchor=(1, 0.5))
    return fig


live(momentum_valley, lr=log_slider("step size η", 0.05, 8.0), beta=slider("momentum β", 0.0, 0.99, 0.01))

# %% [markdown] slideshow={"slide_type": "notes"}
# At β = 0 the steep mode dies in a few steps and the flat one decides everything. Around β ≈ 0.67
# (with η ≈ 3.3) both sit at the edge of ringing. At β = 0.95 everything rings with envelope √β ≈ 0.97:
# too much momentum is as slow as too little. The solid lines are the theory's ρᵏ from the start
# point; at a double root the true error carries an extra factor k.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Nesterov momentum: look before you step
# Nesterov (1983), in the form of Sutskever et al. (2013) that torch uses, adds the momentum once more
# to the step: $b \leftarrow \beta b + g$, $x \leftarrow x - \eta\,(g + \beta b)$ — in effect the gradient
# is taken at the point momentum is about to carry us to. Per mode the recurrence is again $2 \times 2$,
# with characteristic polynomial $t^2 - (1+\beta)(1-\eta\lambda)\,t + \beta(1-\eta\lambda)$. Its best
# rate on a quadratic is $1 - 2/\sqrt{3\kappa + 1}$ (Lessard, Recht & Packard 2016):

# %% slideshow={"slide_type": "-"}
lr_nest, beta_nest, rate_nest = op.best_nesterov(*LAM)
nest_path = op.run("nesterov", valley, X0, 500, lr=lr_nest, momentum=beta_nest)
print(f"best on the valley — gradient descent: rate {rate_gd:.3f};  Nesterov (η = {lr_nest:.2f}, β = {beta_nest:.2f}): "
      f"rate {rate_nest:.3f}, f < 1e-8 after {first_below(nest_path, valley)} steps;  heavy ball: rate {rate_mom:.3f}, "
      f"{first_below(mom_path, valley)} steps")

# %% [markdown] slideshow={"slide_type": "-"}
# On quadratics the heavy ball is the faster of the two. Nesterov's strength is its guarantee: a rate
# of order $1 - 1/\sqrt\kappa$ on *every* smooth strongly convex function, where the heavy ball with
# Polyak's parameters can fail to converge at all (Lessard et al. 2016). In deep learning both are
# used with $\beta \approx 0.9$; Nesterov's look-ahead damps the overshoot a little.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Adaptive step sizes: one learning rate per coordinate
# Momentum fixes ill-conditioning by remembering. A second family *rescales*: each coordinate gets
# its own step, from the history of its own gradient (all operations per coordinate):
#
# | rule | update | paper |
# |---|---|---|
# | AdaGrad | $G \leftarrow G + g^2,\;\; w \leftarrow w - \eta g / (\sqrt{G} + \epsilon)$ | Duchi et al. 2011 |
# | RMSprop | $s \leftarrow \alpha s + (1-\alpha) g^2,\;\; w \leftarrow w - \eta g / (\sqrt{s} + \epsilon)$ | Tieleman & Hinton 2012 |
# | Adam | $m \leftarrow \beta_1 m + (1-\beta_1) g,\; v \leftarrow \beta_2 v + (1-\beta_2) g^2,\; w \leftarrow w - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)$ | Kingma & Ba 2015 |
#
# $\hat m = m/(1-\beta_1^t)$ and $\hat v = v/(1-\beta_2^t)$ undo the zero start of the averages.
# Adam is momentum plus RMSprop's scale. AdaGrad's sum only grows: its steps shrink for good, which
# suits sparse features (a rarely seen feature keeps a large step) and stalls long runs.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## What a per-coordinate step can and cannot fix
# Dividing by $\sqrt{s}$ is a **diagonal preconditioner**: it rescales the axes. On our valley the
# eigen-directions *are* the axes, so it removes the ill-conditioning completely. Turn the same
# valley by 45° and the axes no longer match the modes. Each rule with its best learning rate (log
# grid), 200 steps from the same start:

# %% slideshow={"slide_type": "-"}
turn = torch.tensor([[1.0, -1.0], [1.0, 1.0]], dtype=F64) / 2**0.5


def turned(x):
    return valley(x @ turn)


adaptive = {}
for name, f in (("valley", valley), ("valley turned 45°", turned)):
    for rule in ("sgd", "rmsprop"):
        finals = []
        for lr in torch.logspace(-1.5, 0.5, 9).tolist():
            end = op.run(rule, f, (-1.0, 0.6), 200, lr=lr)[-1]
            finals.append(f(end).item() if torch.isfinite(end).all() else float("inf"))
        adaptive[name, rule] = min(finals)
print("f after 200 steps, best learning rate each:      gradient descent     RMSprop")
for name in ("valley", "valley turned 45°"):
    print(f"  {name:19s} {adaptive[name, 'sgd']:27.1e} {adaptive[name, 'rmsprop']:12.1e}")

# %% [markdown] slideshow={"slide_type": "-"}
# Aligned, RMSprop goes to machine zero; turned, it is only a little better than gradient descent.
# Adaptive methods help in networks because many ill-conditioned directions there *are* roughly
# tied to individual weights (a layer's scale, a rare input feature) — not because they see curvature.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Conventions matter: every rule against its `torch.optim` twin
# Where $\epsilon$ goes (torch puts it outside the root; Duchi et al.'s AdaGrad is often written with it inside), how momentum is
# accumulated ($b$ vs $V = \eta b$), whether weight decay is added to $g$: each choice changes the
# iterates. `mlcourse.optimizers` holds every rule as a pure function `(w, g, state) → (w, state)`;
# here each runs 50 steps beside its `torch.optim` twin in float64 on a wavy 6-d loss:

# %% slideshow={"slide_type": "-"}
twins = {"sgd": (op.sgd, torch.optim.SGD, dict(lr=0.05)),
         "momentum": (op.sgd, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
         "nesterov": (op.sgd, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
         "adagrad": (op.adagrad, torch.optim.Adagrad, dict(lr=0.1)),
         "rmsprop": (op.rmsprop, torch.optim.RMSprop, dict(lr=0.01)),
         "adam": (op.adam, torch.optim.Adam, dict(lr=0.02, weight_decay=0.1)),
         "adamw": (op.adamw, torch.optim.AdamW, dict(lr=0.02, weight_decay=0.1))}
w0 = torch.randn(6, generator=torch.Generator().manual_seed(0), dtype=F64)


def wavy(w):
    return 0.5 * (w**2).sum() + torch.sin(3 * w).sum()


diffs = {name: (op.run(rule, wavy, w0, 50, **hyper) - op.torch_optim_path(cls, wavy, w0, 50, **hyper)).abs().max().item()
         for name, (rule, cls, hyper) in twins.items()}
print("largest |ours − torch.optim| over 50 steps:  " + ",  ".join(f"{n} {d:.0e}" for n, d in diffs.items()))

# %% [markdown] slideshow={"slide_type": "-"}
# Equal up to float64 rounding: the differences are zero or a few units in the last place ($10^{-16}$),
# from the order in which two implementations add the same terms.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A shared test function: Rosenbrock's curved valley
# $f(x, y) = (1-x)^2 + 100(y - x^2)^2$, from $(-1.5, 2)$, 3000 steps. The valley floor is a parabola:
# no fixed rescaling of the axes straightens it, and at the minimum the curvature across the floor
# is about 2500 times that along it. Gradient descent needs $\eta$ below $2/\lambda_{\max}$ and then
# crawls along the floor; momentum with the same $\eta$ moves up to $1/(1-\beta) = 10$ times faster
# along it. Adam, which rescales each coordinate by its recent gradient size, follows the same floor:
# slower than momentum for the first 2000 steps, faster after.

# %% slideshow={"slide_type": "subslide"}
start = (-1.5, 2.0)
rosen = {"gradient descent, η = 1e-3": (op.run("sgd", op.rosenbrock, start, 3000, lr=1e-3), GD_C, "-"),
         "momentum, η = 1e-3, β = 0.9": (op.run("momentum", op.rosenbrock, start, 3000, lr=1e-3), MOM_C, "-"),
         "Adam, η = 0.03": (op.run("adam", op.rosenbrock, start, 3000, lr=0.03), ADAM_C, "--")}
for label, (p, _, _) in rosen.items():
    print(f"{label:28s} f after 3000 steps = {op.rosenbrock(p[-1]).item():.2e}")

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
_ = contour(ax, op.rosenbrock, (-2, -1), (2, 3))
for (label, (p, colour, ls)), marker in zip(rosen.items(), ("o", "s", "^")):
    _ = ax.plot(p[:, 0], p[:, 1], "-", color=colour, lw=1)
    _ = ax.plot(p[::250, 0], p[::250, 1], marker, color=colour, mec="black", ms=7)  # every 250 steps
    _ = ax2.semilogy(op.rosenbrock(p).clamp_min(1e-20), ls, color=colour, marker=marker, markevery=250,
                     mec="black", label=label)
_ = ax.plot(1, 1, "r*", ms=14)
ax.set(title="Paths, a marker every 250 steps (★ minimum)", xlabel="x", ylabel="y")
ax2.set(title="Loss along the path", xlabel="step", ylabel="f (log scale)")
ax2.legend(loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# All three follow the same floor; the markers show how far each got every 250 steps (momentum's line
# lies under Adam's, its squares show where it is). No rule cuts the corner: the floor is where the
# steep direction's gradient is small, and every rule here settles into it early on.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Rastrigin: every gradient method is local
# $f = 20 + \sum_i (x_i^2 - 10\cos 2\pi x_i)$ has a local minimum near every integer point and the
# global one, $0$, at the origin. From $(-2, 3.5)$ all nine rules — each with a sensible learning
# rate, 1000 steps — stop in the *same* local minimum near $(-2, 3)$.

# %% slideshow={"slide_type": "subslide"}
rastrigin_lr = {"sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 0.1, "rmsprop": 3e-3,
                "adam": 0.01, "adamw": 0.01, "lion": 1e-3, "adahessian": 0.1}
rastrigin_paths = {}
for name, lr in rastrigin_lr.items():
    extra = {"weight_decay": 0.0} if name == "adamw" else {}
    rastrigin_paths[name] = op.run(name, op.rastrigin, (-2.0, 3.5), 1000, lr=lr, **extra)
ends = {name: op.rastrigin(p[-1]).item() for name, p in rastrigin_paths.items()}
print("f after 1000 steps:  " + ",  ".join(f"{n} {v:.3f}" for n, v in ends.items()))

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
_ = contour(ax, op.rastrigin, (-5.12, -5.12), (5.12, 5.12), levels=40, log=False)
_ = ax.plot(-2, 3.5, "o", color="white", mec="black", ms=8, label="start (−2, 3.5)")
end_point = rastrigin_paths["adam"][-1]
_ = ax.plot(end_point[0], end_point[1], "s", color=MOM_C, mec="black", ms=8, label="where all nine stop")
_ = ax.plot(0, 0, "r*", ms=14, label="global minimum")
ax.set(title="Rastrigin", xlabel="x", ylabel="y", aspect="equal")
ax.legend(loc="lower left")
colours = plt.cm.tab10(np.arange(9))
for (name, p), colour in zip(rastrigin_paths.items(), colours):
    _ = ax2.semilogx(np.arange(1, len(p) + 1), op.rastrigin(p), color=colour, lw=1.5,
                     label="adamw (= adam: λ = 0)" if name == "adamw" else name)
_ = ax2.axhline(0, color="red", ls=":", lw=1.5)
ax2.set(title="Loss along the path, nine rules", xlabel="step (log scale)", ylabel="f", ylim=(-1, 40))
ax2.legend(loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()

# %% [markdown] slideshow={"slide_type": "-"}
# Momentum, adaptivity and curvature change *how fast* a method reaches the nearest minimum, not
# *which basin* it is in. Escaping needs something else: noise, restarts — or a search over starting
# points and hyperparameters, the second half of this lecture.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Which minimum? Implicit regularization of gradient descent
# A network has many minima with zero training loss; which one the optimizer picks decides how well
# it generalizes (lecture 09). Barrett & Dherin (2021): a gradient step of size $\eta$ does not follow
# the gradient *flow* $\dot x = -\nabla L$. One step agrees with the flow of $L$ only up to $O(\eta^2)$,
# but with the flow of the **modified loss**
# $$\tilde L(w) = L(w) + \frac{\eta}{4}\,\lVert \nabla L(w) \rVert^2$$
# up to $O(\eta^3)$. Over a fixed time $T$ ($T/\eta$ steps) the local errors add up to gaps of order
# $\eta$ and $\eta^2$. So gradient descent also *minimizes the gradient norm*: it prefers flat
# regions, more so the larger $\eta$. On a small 2-d loss:

# %% slideshow={"slide_type": "subslide"}
def bowl(x):
    return 0.5 * (x[0] ** 2 + 10 * x[1] ** 2) + 0.25 * (x**4).sum()


T = 0.5
gaps = {}
for lr in (0.02, 0.01):
    gd_end = op.run("sgd", bowl, (1.0, 0.6), round(T / lr), lr=lr)[-1]
    to_plain = (gd_end - op.gradient_flow(bowl, (1.0, 0.6), T, substeps=100)).norm().item()
    to_modified = (gd_end - op.gradient_flow(op.modified_loss(bowl, lr), (1.0, 0.6), T, substeps=100)).norm().item()
    gaps[lr] = (to_plain, to_modified)
    print(f"η = {lr}: |GD − flow of L| = {to_plain:.1e},  |GD − flow of L̃| = {to_modified:.1e}")
print(f"halving η divides the gaps by {gaps[0.02][0] / gaps[0.01][0]:.1f} (flow of L: first order) and "
      f"{gaps[0.02][1] / gaps[0.01][1]:.1f} (flow of L̃: second order)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The implicit bias of SGD noise, on the smallest model that has one
# Smith et al. (2021) extend the modified loss to SGD: over an epoch of $m$ mini-batch losses
# $\hat L_k$ it adds their **variance**, $\frac{\eta}{4m}\sum_k \lVert \nabla \hat L_k - \nabla L \rVert^2$.
# SGD prefers minima where the mini-batches agree. The smallest model where minima differ is
# $f(x) = u\,v\,x$, fitted to 32 noisy points of $y = x$. Every $(u, v)$ with $uv = c$ (the
# least-squares slope) is a minimum, but the **sharpness** (top Hessian eigenvalue) there is
# $\overline{x^2}\,(u^2 + v^2)$ — smallest at $u = v$.
#
# Both coordinates move with the same scalar $r = \overline{(uvx - y)x}$: $u \leftarrow u - \eta r v$,
# $v \leftarrow v - \eta r u$. Hence $u^2 - v^2$ is multiplied by exactly $1 - \eta^2 r^2$ per step.
# Full-batch GD drives $r$ to 0 and freezes the imbalance where it lands. On a mini-batch $r$ keeps
# the size of the label noise: the imbalance keeps shrinking.

# %% slideshow={"slide_type": "subslide"}
xs_toy, ys_toy = op.scalar_regression(32, noise=0.5, seed=0)
c_toy = ((xs_toy * ys_toy).sum() / (xs_toy * xs_toy).sum()).item()
flattest = 2 * c_toy * (xs_toy * xs_toy).mean().item()
toy = {"GD, η = 0.1": (op.product_path(xs_toy, ys_toy, (2.5, 0.1), 3000, lr=0.1), GD_C),
       "GD, η = 0.35": (op.product_path(xs_toy, ys_toy, (2.5, 0.1), 3000, lr=0.35), NEST_C),
       "SGD (batch 1), η = 0.1": (op.product_path(xs_toy, ys_toy, (2.5, 0.1), 3000, lr=0.1, batch=1, seed=0), MOM_C)}
for label, (p, _) in toy.items():
    u, v = p[-1].tolist()
    late = op.product_sharpness(p[-500:], xs_toy, ys_toy).mean().item()
    print(f"{label:23s} ends at u = {u:.2f}, v = {v:.2f} (uv = {u * v:.3f}; c = {c_toy:.3f}), u² − v² = {u * u - v * v:5.2f}, "
          f"sharpness {late:.2f}")
print(f"the flattest minimum u = v = √c has sharpness {flattest:.2f}; GD with η = 0.35 cannot stay above 2/η = {2 / 0.35:.2f}")

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.5, 3.8))
us = np.linspace(0.15, 3.0, 200)
_ = ax.plot(us, c_toy / us, "k--", lw=1, label="minima uv = c")
for label, (p, colour) in toy.items():
    noisy = "SGD" in label
    _ = ax.plot(p[:, 0], p[:, 1], "-", lw=0.6 if noisy else 2, color=colour, alpha=0.6 if noisy else 1)
    _ = ax.plot(p[-1, 0], p[-1, 1], "o", color=colour, mec="black", ms=9)
    _ = ax2.semilogx(np.arange(1, len(p) + 1), op.product_valley_sharpness(p, xs_toy, ys_toy), color=colour,
                     label=label)
_ = ax.plot(2.5, 0.1, "o", color="white", mec="black", ms=9)
ax.set(xlim=(0, 3), ylim=(-0.6, 3), aspect="equal", title="Paths from ○ (2.5, 0.1); ● where they end",
       xlabel="u", ylabel="v")
_ = ax2.axhline(2 / 0.35, color=NEST_C, ls=":", lw=1.5)
_ = ax2.axhline(flattest, color="black", ls="--", lw=1)
ax2.text(150, 2 / 0.35 - 0.5, "2/η for η = 0.35", fontsize=11, color=NEST_C)
ax2.text(1.3, flattest + 0.2, "flattest minimum", fontsize=11)
ax2.set(title="Sharpness of the minimum it heads for", xlabel="step (log scale)",
        ylabel="top Hessian eigenvalue", ylim=(0, 8))
ax2.legend(loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Right panel: the sharpness of the minimum with the same u² − v² as the current point,
# mean(x²)·√((u² − v²)² + 4c²) — the minimum the run would settle in if the noise stopped now. The
# sharpness at the SGD point itself jitters with every mini-batch.

# %% [markdown] slideshow={"slide_type": "subslide"}
# Three lessons from one toy:
# - **Noise selects flat minima.** Same step size, same start: GD lands at the sharp minimum next
#   to its start, SGD drifts along the valley of minima to the flattest one.
# - **The step size caps sharpness.** A minimum sharper than $2/\eta$ is unstable for GD (the rate
#   $|1 - \eta\lambda|$ of its steep mode exceeds 1): with $\eta = 0.35$ GD bounces out and settles
#   where it can. Flat minima are linked, loosely, to better generalization.
# - **Stochastic collapse** (Chen et al. 2023): sets where neurons are dead or identical are
#   *invariant* for SGD — gradient and noise vanish there, and SGD can be drawn into them, leaving a
#   simpler sub-network. In the toy, $u = v = 0$ is such a set: no step ever leaves it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Adam + L2 is not weight decay
# With SGD, adding $\frac{\lambda}{2}\lVert w\rVert^2$ to the loss *is* weight decay:
# $w - \eta(g + \lambda w) = w(1 - \eta\lambda) - \eta g$. Under Adam the term $\lambda w$ joins the
# gradient and is divided by $\sqrt{\hat v}$ like the rest (Loshchilov & Hutter 2019): how hard a
# weight is pulled to 0 now depends on *its gradient history*, not on $\lambda$ alone. AdamW takes
# the decay out of the adaptive step: $w \leftarrow w(1 - \eta\lambda)$, then the Adam step.
#
# Watch it on weights the data do not constrain (the loss is flat in them) but whose mini-batch
# gradients fluctuate: 300 "busy" ones with noise of scale 10 and 300 "quiet" ones with scale 0.01.
# All start at 1; $\eta = 0.01$, a small $\lambda = 0.1$, 2000 steps.

# %% slideshow={"slide_type": "subslide"}
k_w, lr_w, lam_w, steps_w = 300, 1e-2, 0.1, 2000
noise = torch.cat([torch.full((k_w,), 10.0, dtype=F64), torch.full((k_w,), 0.01, dtype=F64)])


def flat(w):
    return 0.0 * w.sum()


decay = {name: op.run(name, flat, torch.ones(2 * k_w, dtype=F64), steps_w, lr=lr_w, weight_decay=lam_w, noise=noise)
         for name in ("adam", "adamw")}
target = (1 - lr_w * lam_w) ** np.arange(steps_w + 1)
for name, p in decay.items():
    print(f"{'Adam + L2' if name == 'adam' else 'AdamW':9s} mean weight after {steps_w} steps: busy {p[-1, :k_w].mean():.3f}, "
          f"quiet {p[-1, k_w:].mean():.3f}")
print(f"weight decay (1 − ηλ)^{steps_w} = {target[-1]:.3f}")

fig, ax = plt.subplots(figsize=(7.4, 3.8))
for name, p in decay.items():
    tag, ls = ("Adam + L2", "-") if name == "adam" else ("AdamW", "--")
    _ = ax.plot(p[:, :k_w].mean(1), ls, color=MOM_C, label=f"{tag}: busy weights")
    _ = ax.plot(p[:, k_w:].mean(1), ls, color=GD_C, label=f"{tag}: quiet weights")
_ = ax.plot(target, ":", color="black", lw=1.5, label="(1 − ηλ)ᵗ")
ax.set(title="Mean weight along the run", xlabel="step t", ylabel="mean weight")
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()

# %% [markdown] slideshow={"slide_type": "-"}
# Under Adam + L2 the busy weights barely decay (their $\sqrt{\hat v} \approx 10$ divides the pull)
# and the quiet ones are cut to zero within about $1/\eta = 100$ steps (their step is $\eta$ per
# step, whatever $\lambda$). AdamW shrinks both groups alike, along $(1-\eta\lambda)^t$ — weight
# decay as SGD knows it. Which of the two generalizes better is an empirical question; Loshchilov &
# Hutter found AdamW better on image classification, and it became the default.

# %% [markdown] slideshow={"slide_type": "notes"}
# Why not the deterministic demo: on a noise-free problem Adam + L2 converges to the minimizer of the
# L2-regularized loss, exactly like SGD, so endpoints show nothing. The difference is in the path and
# under gradient noise, where √v̂ stays at the noise level. AdamW's fixed point is where the
# normalized gradient balances λw; with a large λ (say 2) that is w = 1/λ whatever the data — a
# reason to keep λ small with AdamW.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Go-to choices
# - **AdamW**, Adam, or SGD + Nesterov momentum for vision and transformers;
# - **AdamW** for language models;
# - **AdaGrad** for recommenders (sparse features: rarely seen ids keep a large step size).
#
# Momentum is not there to smooth the path — on the valley it rings *more* than gradient descent —
# it turns $\kappa$ into $\sqrt\kappa$, and averaging gradients over steps tolerates larger batches.
# Adam = momentum + a per-coordinate scale from the second moment of the gradient.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try it: every rule on the test functions
# Pick a function, a rule and its hyperparameters (300 steps). A control that does not apply to the
# chosen rule is greyed out. A learning rate that is too large says *diverged* instead of drawing.

# %% slideshow={"slide_type": "subslide"}
VIEW = {"rosenbrock": ((-2, -1), (2, 3), (-1.5, 2.0)), "beale": ((-4.5, -4.5), (4.5, 4.5), (1.0, 1.5)),
        "rastrigin": ((-5.12, -5.12), (5.12, 5.12), (-2.0, 3.5))}
USES_BETA1 = ("momentum", "nesterov", "adam", "adamw", "lion", "adahessian")
USES_BETA2 = ("rmsprop", "adam", "adamw", "lion", "adahessian")


def zoo(function: str = "rosenbrock", optimizer: str = "adam", lr: float = 0.03, beta1: float = 0.9,
        beta2: float = 0.999):
    """One rule on one test function: the path over the contours and the loss in the title."""
    lo, hi, x0 = VIEW[function]
    f = op.FUNCTIONS[function]
    hyper = {"lr": lr}
    if optimizer in ("momentum", "nesterov"):
        hyper["momentum"] = beta1
    elif optimizer == "rmsprop":
        hyper["alpha"] = beta2
    elif optimizer in ("adam", "adamw", "lion", "adahessian"):
        hyper["betas"] = (beta1, beta2)
    path = op.run(optimizer, f, x0, 300, **hyper)
    if not torch.isfinite(path).all() or path.abs().max() > 1e6:
        raise FloatingPointError(f"{optimizer} with η = {lr:.3g} left the plot after {len(path) - 1} steps")
    fig, ax = plt.subplots(figsize=(6.4, 4.5))
    _ = contour(ax, f, lo, hi, levels=20, resolution=100)
    _ = ax.plot(path[:, 0], path[:, 1], "o-", ms=2, lw=1, color=OTHER_C)
    _ = ax.plot(*op.MINIMA[function], "r*", ms=12)
    ax.set(title=f"{optimizer}, η = {lr:.2g}: f after 300 steps = {f(path[-1]).item():.3g}",
           xlabel="x", ylabel="y", xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    return fig


live(zoo, function=choice("test function", list(VIEW)), optimizer=choice("optimizer", list(op.OPTIMIZERS)),
     lr=log_slider("learning rate η", 1e-4, 3.0), beta1=slider("momentum μ, Adam/Lion β₁", 0.0, 0.99, 0.01),
     beta2=slider("second-moment decay β₂ (RMSprop α)", 0.9, 0.999, 0.001),
     enabled={"beta1": lambda p: p["optimizer"] in USES_BETA1, "beta2": lambda p: p["optimizer"] in USES_BETA2})

# %% [markdown] slideshow={"slide_type": "notes"}
# Things to try: SGD on Rosenbrock at η = 2.0e-3 (converges, slowly) vs 2.5e-3 (diverges); momentum
# 0.99 overshooting; Adam on Beale; Lion at 0.03 (every step has the same length — watch it zig-zag
# at the end); AdaHessian on Rastrigin, where the Hessian diagonal is negative on the ridges.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Second order: AdaHessian
# Newton's step $H^{-1} g$ is out of reach for a network, but the **diagonal** of $H$ is cheap to
# estimate with Hessian–vector products (one extra backward pass each). Hutchinson's estimator: for
# Rademacher $v$ ($\pm 1$ entries),
# $$\mathbb E[v \odot Hv] = \mathrm{diag}(H), \qquad\text{since } \mathbb E[v_i v_j] = \delta_{ij}.$$
# AdaHessian (Yao et al. 2021) is Adam with $g^2$ replaced by $D^2$, $D = v \odot Hv$:
# $w \leftarrow w - \eta\, \hat m / (\hat v^{k/2} + \epsilon)$ with Hessian power $k = 1$.
# With $\beta = (0, 0)$ and $\epsilon = 0$ it is the diagonal Newton step $g / |D|$: on
# $\tfrac12 \sum_i a_i x_i^2$ with $a = (0.01, 1, 100)$ — a condition number of $10^4$ — one step lands on 0.

# %% slideshow={"slide_type": "subslide"}
a3 = torch.tensor([0.01, 1.0, 100.0], dtype=F64)
step1 = op.run("adahessian", op.diagonal_quadratic(a3), (1.0, -2.0, 3.0), 1, lr=1.0, betas=(0.0, 0.0), eps=0.0)
print("AdaHessian, one step from (1, −2, 3) lands at", ", ".join(f"{v:.1e}" for v in step1[-1].tolist()))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## What AdaHessian's update actually tracks
# The released code takes $|v \odot Hv| = |Hv|$ (it notes $|v_i| = 1$). In the update, though, $D$
# enters only **squared**, and $(v\odot Hv)_i^2 = (Hv)_i^2$ with or without $|\cdot|$: the absolute
# value changes nothing there. What the second moment averages is
# $\mathbb E[(v\odot Hv)_i^2] = \sum_j H_{ij}^2$, the squared **row norm** — $H_{ii}^2$ only for a
# diagonal $H$. The $|\cdot|$ matters where $|Hv|$ is averaged *before* squaring (the authors average it
# over each convolution kernel), and for anyone who reads the running mean as an estimate of the
# diagonal: for $A = \begin{pmatrix}1 & 2\\ 2 & 1\end{pmatrix}$, $v \odot Av \in \{(3, 3), (-1, -1)\}$.

# %% slideshow={"slide_type": "-"}
A = torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=F64)
D = op.hutchinson_samples(lambda v: A @ v, 2, 20_000, generator=torch.Generator().manual_seed(0))
print(f"mean of D = v⊙Av: ({D.mean(0)[0]:.2f}, {D.mean(0)[1]:.2f})   mean of |D|: ({D.abs().mean(0)[0]:.2f}, "
      f"{D.abs().mean(0)[1]:.2f})   diag A = (1, 1)")
print(f"mean of D²: ({(D**2).mean(0)[0]:.2f}, {(D**2).mean(0)[1]:.2f}); of |D|²: identical "
      f"(largest difference {((D**2) - D.abs() ** 2).abs().max():.0f}); row norms² Σⱼ Aᵢⱼ² = (5, 5); diag² = (1, 1)")

# %% [markdown] slideshow={"slide_type": "notes"}
# So the step is a sensible curvature-like scale — the root-mean-square of the Hessian's rows — just
# not the diagonal Newton step except for diagonal H. BackPACK (Dangel et al. 2020) computes exact
# diagonals and other second-order quantities for inspection.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## No backprop: forward gradient
# Backprop stores every activation and runs layer by layer backwards — memory, no parallelism across
# layers, and nothing like it is known in the brain. Baydin et al. (2022): pick a random direction
# $v \sim \mathcal N(0, I)$, get the directional derivative $\nabla f \cdot v$ from **one forward-mode
# pass** (a jvp), and step along
# $$g(w) = (\nabla f(w) \cdot v)\, v, \qquad \mathbb E[g] = \mathbb E[v v^\top]\, \nabla f = \nabla f .$$
# Unbiased, but noisy: its variance grows with the dimension.

# %% slideshow={"slide_type": "subslide"}
w_b = torch.tensor([1.0, 1.5], dtype=F64)
true_grad = torch.autograd.functional.jacobian(op.beale, w_b)
samples = op.forward_gradients(op.beale, w_b, 100_000, generator=torch.Generator().manual_seed(0))
rel = ((samples.mean(0) - true_grad).norm() / true_grad.norm()).item()
print(f"Beale at (1, 1.5): ∇f = ({true_grad[0]:.1f}, {true_grad[1]:.1f}), mean of 1e5 forward gradients "
      f"= ({samples.mean(0)[0]:.1f}, {samples.mean(0)[1]:.1f}), relative error {rel:.3f}")
fg_path = op.forward_gradient_descent(op.beale, (1.0, 1.5), 2000, lr=0.01, seed=0)
print(f"forward-gradient descent on Beale, 2000 steps (η = 0.01): f = {op.beale(fg_path[-1]).item():.1e} at "
      f"({fg_path[-1][0]:.3f}, {fg_path[-1][1]:.3f}); the minimum is (3, 0.5)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## No backprop: direct feedback alignment
# Nøkland (2016): compute the output error $e = \mathrm{softmax}(a_L) - y$ and send it to every hidden
# layer through a **fixed random matrix** $B_l$ instead of the transposed forward weights:
# $$\delta_l = (B_l\, e) \odot \tanh'(a_l), \qquad \Delta W_l = -\eta\, \delta_l h_{l-1}^\top .$$
# No weight transport, and all layers update in parallel once $e$ is known. It works because the
# forward weights come to **align** with the feedback. A 20-100-100-10 tanh network on a random
# teacher's labels (20-d inputs, 10 classes, 2000 training points):

# %% slideshow={"slide_type": "subslide"}
x_tr, y_tr, x_te, y_te = op.teacher_task(seed=0)
runs = {m: op.train_mlp(x_tr, y_tr, x_te, y_te, method=m, epochs=10) for m in ("backprop", "dfa")}
align = runs["dfa"]["alignment"]
print(f"test accuracy after 10 epochs: backprop {runs['backprop']['test_acc'][-1]:.3f}, "
      f"DFA {runs['dfa']['test_acc'][-1]:.3f}")
print(f"cosine(DFA update, gradient) of the hidden layers: {align[0]:.2f} at the start → {align[-1]:.2f}")

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
for (m, h), colour in zip(runs.items(), (GD_C, MOM_C)):
    _ = ax.plot(h["test_acc"], "o-", ms=3, color=colour, label=m)
_ = ax2.plot(align, "o-", ms=3, color=MOM_C)
ax.set(title="Teacher task: test accuracy", xlabel="epoch", ylabel="accuracy")
ax.legend(loc="lower right")
ax2.set(title="DFA: alignment with the true gradient", xlabel="epoch", ylabel="cosine (hidden layers)")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learned optimizers
# - **Learning to learn by GD by GD** (Andrychowicz et al. 2016): the update rule is a 2-layer LSTM
#   (20 units) applied to every coordinate separately, $w_{t+1} = w_t + m(\nabla_t, h_t; \phi)$.
#   An inner loop runs the optimizee; the outer loop trains $\phi$ by backprop through the unrolled
#   inner loop (the sum of losses along the way) — the setting of lectures 04 and 06.
# - **Learning to learn *without* GD by GD** (Chen et al. 2017): the same idea for black-box
#   optimization — an RNN proposes the next query point, an alternative to a GP, and needs no gradient
#   of the objective at test time.
# - **VeLO** (Metz et al. 2022): the first broadly useful one — trained on thousands of tasks, a
#   hypernetwork reads moving averages of $g$ and $g^2$, weight and gradient statistics and the
#   training progress. Works well up to ~500M parameters, allows ~10× larger batches, learns its own
#   schedule; 2× memory, fails beyond ~200k steps and sometimes out of distribution.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## A small LSTM optimizer, and the baseline it has to beat
# `op.LSTMOptimizer` follows Andrychowicz et al.: 2 layers × 20 units, shared by all coordinates, fed
# the preprocessed gradient $(\log|g|/10, \mathrm{sign}\, g)$. It was meta-trained for about a minute
# of CPU on random 10-d quadratics $f(\theta) = \lVert W\theta - y\rVert^2$ (200 batches of 32
# functions, horizon 100). On 500 *new* functions we compare it with gradient descent and with
# heavy-ball momentum, both tuned on those very functions (a log grid of $\eta$; for momentum also
# $\beta \in \{0.5, \dots, 0.98\}$):

# %% slideshow={"slide_type": "subslide"}
l2o = op.load_l2o()
Wq, yq, thq = op.random_quadratics(500, generator=torch.Generator().manual_seed(123))
sgd_lr, _ = op.tune_sgd(Wq, yq, thq, steps=100)
mom_lr, mom_beta, _ = op.tune_momentum(Wq, yq, thq, steps=100)
quad_curves = {f"gradient descent, η = {sgd_lr:.3f}": (op.sgd_losses(sgd_lr, Wq, yq, thq, 100), GD_C),
               f"momentum, η = {mom_lr:.3f}, β = {mom_beta:.2f}": (
                   op.sgd_losses(mom_lr, Wq, yq, thq, 100, momentum=mom_beta), MOM_C),
               "LSTM optimizer (learned)": (op.l2o_losses(l2o, Wq, yq, thq, 100), ADAM_C)}
print("mean loss at step 100:  " + ",  ".join(f"{label.split(',')[0]} {c[-1].mean().item():.3f}"
                                             for label, (c, _) in quad_curves.items()))
fig, ax = plt.subplots(figsize=(7.4, 3.8))
for label, (c, colour) in quad_curves.items():
    _ = ax.semilogy(c.mean(1), color=colour, label=label)
ax.set(title="Random 10-d quadratics: mean loss over 500 functions", xlabel="step", ylabel="‖Wθ − y‖²")
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()

# %% [markdown] slideshow={"slide_type": "-"}
# The learned rule beats plain gradient descent almost threefold, as in the paper — and loses to
# momentum with two tuned numbers. A learned optimizer is only as impressive as the baseline it is
# compared with: tune the classical rule (momentum, Adam with a learning-rate sweep) on the same
# budget before concluding that learning helped. VeLO's authors compare against tuned Adam for
# this reason.

# %% [markdown] slideshow={"slide_type": "notes"}
# The learned rule is cheap to train here because the optimizee is tiny and the gradient input is
# treated as a constant (no second derivatives, as in the paper). Ask what happens for 100-d
# quadratics or a network (the paper's MNIST experiments): it degrades out of distribution, which is
# VeLO's problem at scale too.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Lion: an optimizer found by program search
# Chen et al. (2023) searched programs over ~45 numpy operations (warm-started from AdamW, 512 TPUs for
# days, funnelled from proxy tasks to large ones). The winner:
# $$c = \beta_1 m + (1-\beta_1) g,\quad w \leftarrow w - \eta\,(\mathrm{sign}(c) + \lambda w),\quad
# m \leftarrow \beta_2 m + (1-\beta_2) g ,$$
# with $\eta = 10^{-4}$, $\beta = (0.9, 0.99)$ by default. One state tensor instead of Adam's two, and a
# **uniform** step: every coordinate moves by exactly $\eta$ — a lot of noise, often better results;
# $\eta$ must be 3–10× below AdamW's.

# %% slideshow={"slide_type": "-"}
lion_path = op.run("lion", wavy, w0, 20)  # the paper's defaults: lr 1e-4, betas (0.9, 0.99)
moves = (lion_path[1:] - lion_path[:-1]).abs()
print(f"Lion, 20 steps × 6 coordinates: every |Δw| lies in [{moves.min():.6e}, {moves.max():.6e}] (η = 1e-4)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Hyperparameter search: grid vs random
# Each rule above has 1–4 hyperparameters, and the learning rate alone can decide between converging
# and diverging (lecture 08). Black-box search methods:
# - **Grid search**: $k$ values per hyperparameter, $k^d$ runs.
# - **Random search** (Bergstra & Bengio 2012): the same budget, points drawn at random. Preferred:
#   usually only a few hyperparameters matter, and a grid of $k^d$ points tries only $k$ distinct values
#   of each, while $n$ random points try $n$.
# - **CMA-ES** (Hansen & Ostermeier 2001): an evolution strategy. Sample a population from
#   $\mathcal N(m, \sigma^2 C)$, move the mean $m$ towards the best samples, adapt the covariance $C$ to
#   the directions of successful steps and the step size $\sigma$ to the path length. Gradient-free,
#   invariant to monotone transforms of $f$, good for tens of continuous hyperparameters.

# %% slideshow={"slide_type": "subslide"}
def important_only(x):
    """A 2-D objective where only the first coordinate matters."""
    return torch.sin(3 * x[0]) + 0.5 * x[0] ** 2


Xg, yg = hs.grid_search(important_only, [(-2.0, 2.0), (-2.0, 2.0)], 4)
Xr, yr = hs.random_search(important_only, [(-2.0, 2.0), (-2.0, 2.0)], 16, seed=0)
print(f"16 runs each: grid tries {len(set(Xg[:, 0].tolist()))} values of the important coordinate, "
      f"random search {len(set(Xr[:, 0].tolist()))}")
print(f"best found: grid {yg.min():.3f}, random {yr.min():.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Bayesian optimization
# For expensive $f$ (one evaluation = one training run), fit a **surrogate**: a Gaussian process
# gives a posterior mean $\mu(x)$ and standard deviation $\sigma(x)$ (here Matérn-5/2 kernel, its length
# scales and variances fitted by maximizing the marginal likelihood after each evaluation). Then
# evaluate where an **acquisition function** is largest; with $f^+$ the best value so far and
# $z = (f^+ - \mu)/\sigma$:
# - **EI**, expected improvement (Jones et al. 1998): $\mathbb E[\max(f^+ - f, 0)] = (f^+ - \mu)\,\Phi(z) + \sigma\,\varphi(z)$;
# - **PI**, probability of improvement: $\Phi(z)$ — greedier;
# - **UCB** (for minimization, a lower bound): maximize $-(\mu - \kappa\sigma)$.
#
# The first term of EI rewards a good mean (exploitation), the second a large uncertainty
# (exploration). The test problem is Branin on $[-5, 10] \times [0, 15]$: three global minima with
# $f^* = 0.397887$, 30 evaluations.

# %% slideshow={"slide_type": "subslide"}
BOX = [(-5.0, 10.0), (0.0, 15.0)]
F_STAR = 0.397887
X_bo, y_bo = hs.bayes_opt(op.branin, BOX, 30, seed=0)
print(f"seed 0: best after 5 random points {y_bo[:5].min():.3f}, after 30 evaluations {y_bo.min():.4f}")
fig, ax = plt.subplots(figsize=(6.4, 4.2))
_ = contour(ax, op.branin, (-5, 0), (10, 15))
_ = ax.scatter(X_bo[:5, 0], X_bo[:5, 1], c="white", edgecolors="black", s=40, label="5 random start points")
dots = ax.scatter(X_bo[5:, 0], X_bo[5:, 1], c=np.arange(6, 31), cmap="autumn", edgecolors="black", s=40,
                  label="chosen by EI")
fig.colorbar(dots, ax=ax, label="evaluation number")
ax.set(title="Where GP-BO + EI evaluated Branin (seed 0)", xlabel="x₁", ylabel="x₂")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# After the five random points EI first probes the large unexplored regions (σ term), then clusters its
# evaluations in the basins of the three minima (mean term). The comparison with other methods over
# many seeds follows with Optuna.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## CMA-ES at work
# `hs.CMAES` is the classic $(\mu/\mu_W, \lambda)$-CMA-ES with the parameters of Hansen's tutorial: in 2-D a
# generation is $\lambda = 4 + \lfloor 3 \ln 2 \rfloor = 6$ samples, the mean moves to a weighted
# average of the best 3, and $C$ and $\sigma$ adapt from the selected steps. It ranks the samples and
# never looks at the values, so it needs several generations before it beats chance. Same Branin box,
# 100 evaluations, 30 seeds each:

# %% slideshow={"slide_type": "subslide"}
cma_runs = [hs.cma_es(op.branin, BOX, 100, seed=s) for s in range(30)]
cma_curves = torch.stack([hs.best_so_far(y) for _, y in cma_runs]) - F_STAR
rs100 = torch.stack([hs.best_so_far(hs.random_search(op.branin, BOX, 100, seed=s)[1]) for s in range(30)]) - F_STAR
gap = {"CMA-ES": cma_curves.median(0).values, "random search": rs100.median(0).values}
print("median gap to f* after 30 / 100 evaluations (30 seeds): " + ";  ".join(
    f"{name} {g[29]:.2f} / {g[-1]:.3f}" for name, g in gap.items()))

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
for (name, g), colour in zip(gap.items(), (OTHER_C, GD_C)):
    _ = ax.semilogy(np.arange(1, 101), g, color=colour, label=f"{name} (median of 30)")
ax.set(title="Branin: best so far", xlabel="evaluations", ylabel="best f − f* (log scale)")
ax.legend(loc="lower left")
_ = contour(ax2, op.branin, (-5, 0), (10, 15))
median_seed = int(torch.argsort(cma_curves[:, -1])[15])  # a typical run, not the luckiest
X_cma = cma_runs[median_seed][0]
cloud = ax2.scatter(X_cma[:, 0], X_cma[:, 1], c=np.arange(100) // 6, cmap="viridis", s=14)
fig.colorbar(cloud, ax=ax2, label="generation")
ax2.set(title=f"CMA-ES samples, a median run (seed {median_seed})", xlabel="x₁", ylabel="x₂")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The cloud starts wide (σ₀ is 0.3 of the box), settles in one of Branin's three basins and shrinks
# there; a larger population or a smaller σ₀ trades exploration for speed. With tens of evaluations
# BO is the better choice; CMA-ES pays off with hundreds of cheap evaluations or tens of dimensions,
# where a GP struggles. The test suite checks that on an ill-conditioned quadratic C becomes
# proportional to the inverse Hessian.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Hyperband: spend little on bad configurations
# Li et al. (2018): **successive halving** trains $n$ random configurations with a small budget $r$,
# keeps the best $1/\eta$, multiplies their budget by $\eta$, and repeats. How many to start with is a
# trade-off, so Hyperband runs every bracket $s = s_{\max}, \dots, 0$ with
# $s_{\max} = \lfloor \log_\eta R \rfloor$, $B = (s_{\max} + 1) R$,
# $$n = \Big\lceil \frac{B}{R} \frac{\eta^s}{s + 1} \Big\rceil,\quad r = R\,\eta^{-s},\quad
# n_i = \lfloor n\,\eta^{-i} \rfloor,\; r_i = r\,\eta^i .$$

# %% slideshow={"slide_type": "subslide"}
paper, hpb = hs.hyperband_brackets(81, 3), hs.hyperband_brackets(81, 3, convention="hpbandster")
print("R = 81, η = 3: (configurations n_i × resource r_i) per round")
for s, (b, c) in enumerate(zip(paper, hpb)):
    rounds = "  ".join(f"{n:>2d}×{r:<2g}" for n, r in b)
    print(f"s = {4 - s}:  {rounds:<44s} HpBandSter starts with {c[0][0]}")

# %% [markdown] slideshow={"slide_type": "-"}
# HpBandSter computes $n = \lfloor (s_{\max}+1)/(s+1) \rfloor \eta^s$ — it floors *before* multiplying —
# so its middle brackets start smaller (27, 9, 6 instead of 34, 15, 8).
# **BOHB** (Falkner et al. 2018) keeps Hyperband's brackets but draws the configurations from a
# density model (TPE-like) of the good ones instead of uniformly.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Hyperband at work
# Tune Adam's learning rate $\eta = 10^c$, $c \sim U[-4, 0]$, on Rosenbrock; one unit of resource is 10
# steps, $R = 27$ units (270 steps). Our `hs.hyperband` retrains each survivor from scratch with its
# larger budget (the paper may resume instead). Against it, random search with the same total
# resource, spent on full-length runs only:

# %% slideshow={"slide_type": "-"}
def adam_on_rosenbrock(c, r):
    """Loss after 10·r steps of Adam with η = 10^c (inf if it diverged)."""
    path = op.run("adam", op.rosenbrock, (-1.5, 2.0), int(10 * r), lr=float(10**c))
    value = op.rosenbrock(path[-1]).item()
    return value if np.isfinite(value) else float("inf")


def log_rate(generator):
    return -4 + 4 * torch.rand((), generator=generator, dtype=F64)


hb_log = hs.hyperband(adam_on_rosenbrock, log_rate, 27, 3, seed=0)
budget = sum(r for _, r, _ in hb_log)
hb_c, _, hb_loss = min((e for e in hb_log if e[1] == 27), key=lambda e: e[2])
rs_gen = torch.Generator().manual_seed(1)
rs_log = [(c, adam_on_rosenbrock(c, 27)) for c in [log_rate(rs_gen) for _ in range(int(budget // 27))]]
rs_c, rs_loss = min(rs_log, key=lambda e: e[1])
n_rates = sum(bracket[0][0] for bracket in hs.hyperband_brackets(27, 3))
print(f"total resource {budget:g} units: Hyperband tried {n_rates} rates in {len(hb_log)} trainings, "
      f"random search {len(rs_log)} rates")
print(f"Hyperband: best η = {10 ** hb_c:.3f}, f = {hb_loss:.4f};  random search: best η = {10 ** rs_c:.3f}, "
      f"f = {rs_loss:.4f}")

# %% [markdown] slideshow={"slide_type": "-"}
# Hyperband looked at 27 + 12 + 6 + 4 = 49 rates with the budget random search spent on 15 — most of
# them for only 10 or 30 steps. (One run on a toy: compare over seeds before concluding more.) Its
# risk: a rate that looks bad early (a slow start) is cut before it could win; the brackets with
# fewer, longer runs hedge against that.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Optuna: the tool of choice for small problems
# Optuna (Akiba et al. 2019) defines the search space *by running* the objective: each
# `trial.suggest_float(...)` call is a hyperparameter. Its default sampler is **TPE** (Bergstra et
# al. 2011): instead of modelling $f$, it models the density of the good trials, $\ell(x)$, and of the
# rest, $g(x)$, and proposes where $\ell/g$ is largest. It also has a **GP sampler** (a GP surrogate
# and an EI-type acquisition, like ours). Both start with 10 random trials. Same Branin box, same
# 30 evaluations, 30 seeds per method:

# %% slideshow={"slide_type": "subslide"}
bench = hs.cached_comparison("branin", op.branin, BOX, 30, 30)  # stored in mlcourse/data: a 5-minute run
quartiles = torch.tensor([0.25, 0.5, 0.75], dtype=F64)
print(f"best f after 30 evaluations, 30 seeds each (f* = {F_STAR}):")
print("                      median    25 %      75 %     after 10 evaluations (median)")
for name, values in bench.items():
    q = values.min(1).values.quantile(quartiles)
    q10 = values[:, :10].min(1).values.median()
    print(f"{name:20s} {q[1]:7.3f} {q[0]:9.3f} {q[2]:9.3f}       {q10:.2f}")
rs_many = torch.stack([hs.random_search(op.branin, BOX, 30, seed=s)[1].min() for s in range(200)])
print(f"random search over 200 seeds: median {rs_many.median():.2f} (30 seeds are few for a method this noisy)")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots(figsize=(7.4, 3.8))
n_eval = np.arange(1, 31)
for (name, values), colour in zip(bench.items(), (GD_C, MOM_C, NEST_C, ADAM_C)):
    curves = torch.cummin(values, 1).values - F_STAR
    lo, mid, hi = curves.quantile(quartiles, dim=0)
    _ = ax.fill_between(n_eval, lo, hi, color=colour, alpha=0.2)
    _ = ax.semilogy(n_eval, mid, color=colour, label=name)
ax.set(title="Branin: best so far, median and 25–75 % of 30 seeds", xlabel="evaluations",
       ylabel="best f − f* (log scale)")
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()

# %% [markdown] slideshow={"slide_type": "-"}
# The two GP methods are the most sample-efficient on this smooth 2-d function; TPE beats random
# search but needs more evaluations to pin down a minimum. Where one evaluation is a training run,
# this is the regime that matters: tens of evaluations. TPE's strengths lie elsewhere — it is fast,
# handles categorical and conditional parameters, and scales to many trials.

# %% [markdown] slideshow={"slide_type": "notes"}
# The GP-BO rows differ only in details: ours starts from 5 random points and fits the kernel by
# marginal likelihood after every evaluation; Optuna's GP sampler starts from 10 and uses a log-EI
# acquisition. Seeds are paired within Optuna (TPE and GP share their first 10 random trials, hence
# the same median after 10) but not across libraries (each draws its own random start). The table is
# cached because Optuna's GP sampler takes about 2 s per 30-trial study on a laptop CPU;
# hs.cached_comparison(..., recompute=True) reruns it.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Optuna on a training run, with pruning
# A real objective: train a 20-64-10 network on the teacher task (1000 training, 1000 validation
# points) with SGD + momentum for up to 8 epochs; tune the learning rate (log scale) and $\beta$.
# After each epoch the trial **reports** its validation accuracy; the **median pruner** stops a trial
# whose accuracy is below the median of earlier trials at the same epoch — successive halving's idea,
# applied on the fly.

# %% slideshow={"slide_type": "subslide"} tags=["show-input"]
optuna.logging.set_verbosity(optuna.logging.WARNING)
x_fit, y_fit, x_val, y_val = op.teacher_task(1000, 1000, seed=1)
EPOCHS = 8


def objective(trial):
    lr = trial.suggest_float("learning rate", 1e-3, 3.0, log=True)
    beta = trial.suggest_float("momentum", 0.0, 0.95)
    training = op.sgd_epochs(x_fit, y_fit, x_val, y_val, lr=lr, momentum=beta, sizes=(20, 64, 10))
    for epoch, accuracy in zip(range(EPOCHS), training):
        trial.report(accuracy, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return accuracy


study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0),
                            pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1))
study.optimize(objective, n_trials=24)

# %% slideshow={"slide_type": "subslide"}
trials = study.trials
pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
trained = sum(len(t.intermediate_values) for t in trials)
print(f"{len(trials)} trials: {len(pruned)} pruned; {trained} of {len(trials) * EPOCHS} possible epochs trained")
print(f"best: accuracy {study.best_value:.3f} with learning rate {study.best_params['learning rate']:.3f}, "
      f"momentum {study.best_params['momentum']:.2f} (trial {study.best_trial.number})")

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
for t in trials:
    epochs_run, accs = zip(*sorted(t.intermediate_values.items()))
    done = t.state == optuna.trial.TrialState.COMPLETE
    _ = ax.plot(np.array(epochs_run) + 1, accs, "-" if done else ":", color=MOM_C if done else "gray",
                lw=1.5 if done else 1, marker="o" if not done else None, ms=3)
    _ = ax2.scatter(t.params["learning rate"], t.params["momentum"], c=MOM_C if done else "gray", s=30,
                    marker="o" if done else "x")
_ = ax.plot([], [], color=MOM_C, label="completed")
_ = ax.plot([], [], ":", color="gray", marker="o", ms=3, label="pruned")
ax.set(title="Validation accuracy of every trial", xlabel="epoch", ylabel="accuracy")
ax.legend(loc="lower right")
best = study.best_params
_ = ax2.plot(best["learning rate"], best["momentum"], "*", color="black", ms=14)
ax2.set(xscale="log", title="Where TPE looked (× pruned, ★ best)", xlabel="learning rate", ylabel="momentum β")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Ask what the pruner risks: a configuration that starts slowly (small learning rate, large β) but
# would have won is cut at epoch 2 or 3 — the same risk as Hyperband's aggressive brackets.
# Optuna's HyperbandPruner is the bracket version; note that, like HpBandSter, it computes
# ⌊log_η R⌋ in floating point and loses a bracket when R is an exact power of η (e.g. 243 and 3).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In practice
# - For small problems: random search, or a TPE/GP sampler — **Optuna**, with a pruner when a trial
#   can report intermediate results.
# - For large problems where a run can be stopped early: **BOHB** (HpBandSter) or Hyperband/ASHA.
# - For hundreds of cheap evaluations over tens of continuous hyperparameters: **CMA-ES**.
# - Search learning rates and weight decay on a log scale; fix what the literature already fixes
#   (Adam's $\beta$s, $\epsilon$).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What to remember
# 1. On a quadratic every mode shrinks at its own rate: gradient descent's best is $(\kappa-1)/(\kappa+1)$,
#    momentum's $(\sqrt\kappa-1)/(\sqrt\kappa+1)$ — the reason momentum is fast, shown exactly.
# 2. Adaptive rules rescale coordinates (a diagonal preconditioner); no rule makes a local method
#    global, and the rules differ in *which* minimum they find: SGD's noise and large steps favour flat ones.
# 3. Under Adam, L2 is not weight decay (its pull is divided by $\sqrt{\hat v}$); AdamW decouples it.
# 4. Compare a new optimizer, learned or not, against tuned classical baselines.
# 5. Tuning is itself optimization: random search first, BO/TPE (Optuna) when evaluations are
#    expensive, Hyperband or a pruner when they can be stopped early.
#
# **Where this sits.** The weights are parameters; $\eta$, $\beta$, $\lambda$ are hyperparameters; the
# choice of rule and of search method are metaparameters. Lecture 06 tuned schedules by
# differentiating through training; lecture 08 shows how wild the landscape of $\eta$ itself can be
# (fractal trainability boundaries), and lecture 09 what the choice of minimum does to generalization.
