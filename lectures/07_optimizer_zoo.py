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
# Gradient descent has many relatives: momentum, adaptive step sizes, curvature, no backward pass at
# all, rules that were themselves learned. Each brings hyperparameters, and choosing those is a search
# problem of its own: grid, random, Bayesian optimization, Hyperband. Every rule here is a few lines in
# `mlcourse.optimizers` and agrees with `torch.optim` to the last bit.

# %% slideshow={"slide_type": "skip"} tags=["colab", "remove-cell"]
# On Google Colab only: install the course into this runtime (Colab's GPU is used when present).
import os
import sys

if "google.colab" in sys.modules:
    import subprocess

    source = os.environ.get("MLCOURSE_SOURCE", "git+https://github.com/mlcourse/mlcourse@main")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"mlcourse @ {source}"], check=True)

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import torch

import mlcourse
from mlcourse import optimizers as op
from mlcourse import search as hs
from mlcourse.widgets import choice, live, slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen
F64 = torch.float64

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Gradient descent, and what we want from an optimizer
# A network $f = g_N \circ \dots \circ g_1$ with weights $W_1, \dots, W_N$ is trained by
# $$W_j^{k+1} = W_j^k - \eta_k \nabla_{W_j} L(W_1^k, \dots, W_N^k).$$
# From a better rule we would like that it
# - converges most of the time, and from most initial weights,
# - converges fast,
# - generalizes well,
# - is robust to small perturbations of the system,
# - needs little memory (compared with plain SGD: Adam stores two extra copies of the weights),
# - needs no hyperparameter tuning.
#
# The last wish is never granted — hence the second half of this lecture.

# %% [markdown] slideshow={"slide_type": "notes"}
# Ask the room which of these wishes we can actually verify for a given optimizer. Convergence speed
# and memory, yes; generalization and robustness, mostly not — we only observe them.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why does SGD generalize? Implicit gradient regularization
# Barrett & Dherin (2021): a gradient step of size $\eta$ does not follow the gradient *flow* of $L$
# exactly. Up to $O(\eta^2)$ per step, it follows the flow of a **modified loss**
# $$\tilde L(w) = L(w) + \frac{\eta}{4}\,\lVert \nabla L(w) \rVert^2 .$$
# GD therefore also prefers regions with small gradients — flat regions — and the push grows with
# $\eta$. We check it on a small 2-D loss: after $T/\eta$ steps, GD is much closer to the flow of
# $\tilde L$ than to the flow of $L$, and the two gaps shrink like $\eta$ and $\eta^2$.

# %% slideshow={"slide_type": "subslide"}
def bowl(x):
    return 0.5 * (x[0] ** 2 + 10 * x[1] ** 2) + 0.25 * (x**4).sum()


x0, T = (1.0, 0.6), 0.5
gaps = {}
for lr in (0.02, 0.01):
    gd = op.run("sgd", bowl, x0, round(T / lr), lr=lr)[-1]
    to_plain = (gd - op.gradient_flow(bowl, x0, T, substeps=100)).norm().item()
    to_modified = (gd - op.gradient_flow(op.modified_loss(bowl, lr), x0, T, substeps=100)).norm().item()
    gaps[lr] = (to_plain, to_modified)
    print(f"η = {lr}: |GD − flow of L| = {to_plain:.1e},  |GD − flow of L̃| = {to_modified:.1e}")
ratio_plain, ratio_mod = (gaps[0.02][i] / gaps[0.01][i] for i in (0, 1))
assert 1.6 < ratio_plain < 2.4 and 3.0 < ratio_mod < 5.0 and gaps[0.01][1] < gaps[0.01][0] / 5
print(f"halving η divides the gaps by {ratio_plain:.1f} (flow of L) and {ratio_mod:.1f} (flow of L̃)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## More implicit biases of SGD
# - **SGD noise.** A mini-batch gradient is the full gradient plus noise whose covariance follows the
#   data. Smith et al. (2021) extend the modified loss to SGD: over the $m$ mini-batches $\hat L_k$ of
#   an epoch it adds their *variance*, $\frac{\eta}{4m}\sum_k \lVert \nabla \hat L_k - \nabla L \rVert^2$ — SGD also
#   prefers weights where the mini-batches agree. The noise is anisotropic; minima whose sharp directions it excites are left.
# - **Flat minima.** A wide basin tolerates perturbations of the weights, and the step size limits the
#   sharpness GD can sit in (it is unstable where the curvature exceeds $2/\eta$). Flat minima are
#   linked, loosely, to better generalization.
# - **Stochastic collapse** (Chen et al. 2023). Sets of weights where neurons are dead or identical
#   are *invariant* for SGD: the gradient noise vanishes there, and SGD is attracted into them. The
#   network then behaves like a smaller, simpler sub-network; a large early learning rate strengthens
#   the pull, which is one story for why it helps generalization.
# - Over-parameterized networks reach zero training loss and still generalize (Zhang et al. 2017):
#   which of the many minima the optimizer picks is part of the model.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The first-order zoo
# One step with gradient $g$ (learning rate $\eta$; all operations per coordinate):
#
# | rule | update | paper |
# |---|---|---|
# | momentum | $b \leftarrow \mu b + g,\;\; w \leftarrow w - \eta b$ | Polyak 1964 |
# | Nesterov | $b \leftarrow \mu b + g,\;\; w \leftarrow w - \eta (g + \mu b)$ | Nesterov 1983; Sutskever et al. 2013 |
# | AdaGrad | $G \leftarrow G + g^2,\;\; w \leftarrow w - \eta g / (\sqrt{G} + \epsilon)$ | Duchi et al. 2011 |
# | RMSprop | $s \leftarrow \alpha s + (1-\alpha) g^2,\;\; w \leftarrow w - \eta g / (\sqrt{s} + \epsilon)$ | Tieleman & Hinton 2012 |
# | Adam | $m \leftarrow \beta_1 m + (1-\beta_1) g,\; v \leftarrow \beta_2 v + (1-\beta_2) g^2,\; w \leftarrow w - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)$ | Kingma & Ba 2015 |
# | AdamW | $w \leftarrow w(1 - \eta\lambda)$, then the Adam step on the loss gradient | Loshchilov & Hutter 2019 |
#
# $\hat m = m/(1-\beta_1^t)$, $\hat v = v/(1-\beta_2^t)$ undo the zero initialization of the averages.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Conventions matter: we match `torch.optim` bit for bit
# The seed writes momentum as $V \leftarrow \mu V + \eta g$, $W \leftarrow W - V$; torch stores
# $b = V/\eta$ — the same iterates for a constant $\eta$, different ones once $\eta$ is scheduled. The
# seed's AdaGrad puts $\epsilon$ under the root, torch (and we) outside. Each rule in
# `op.OPTIMIZERS` is a pure function `(w, g, state) → (w, state)`; here every one runs 50 steps
# beside its `torch.optim` twin in float64:

# %% slideshow={"slide_type": "subslide"}
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


for name, (rule, cls, hyper) in twins.items():
    worst = (op.run(rule, wavy, w0, 50, **hyper) - op.torch_optim_path(cls, wavy, w0, 50, **hyper)).abs().max().item()
    assert worst <= 1e-12
    print(f"{name:9s} max |ours − torch.optim| over 50 steps: {'0' if worst == 0 else '< 1e-12'}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Rosenbrock: a curved valley
# $f(x, y) = (1-x)^2 + 100(y - x^2)^2$, from $(-1.5, 2)$, 3000 steps. Plain SGD needs a step below
# $2/\lambda_{\max}$ of the steep direction and then crawls along the flat valley floor; Adam rescales
# each coordinate and reaches the minimum at $(1, 1)$.

# %% slideshow={"slide_type": "subslide"}
start = (-1.5, 2.0)
paths = {"SGD, η = 1e-3": op.run("sgd", op.rosenbrock, start, 3000, lr=1e-3),
         "Adam, η = 0.03": op.run("adam", op.rosenbrock, start, 3000, lr=0.03)}
f_sgd, f_adam = (op.rosenbrock(p[-1]).item() for p in paths.values())
assert f_adam < 1e-8 and abs(f_sgd - 4.9e-2) < 1e-3
print(f"after 3000 steps: SGD f = {f_sgd:.2e}, Adam f < 1e-8")

# %% slideshow={"slide_type": "subslide"}
def contour(ax, f, lo, hi, levels=30):
    """Filled contours of log10(f + 1e-3) over the box [lo, hi]."""
    xs, ys = torch.linspace(lo[0], hi[0], 200, dtype=F64), torch.linspace(lo[1], hi[1], 200, dtype=F64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    Z = torch.log10(f(torch.stack([X, Y], -1)) + 1e-3)
    return ax.contourf(X.numpy(), Y.numpy(), Z.numpy(), levels=levels, cmap="Greys_r")


fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
_ = contour(ax, op.rosenbrock, (-2, -1), (2, 3))
for (label, p), style in zip(paths.items(), [dict(lw=4, alpha=0.5), dict(lw=1.2, ls="--")]):
    _ = ax.plot(p[:, 0], p[:, 1], label=label, **style)
    _ = ax2.semilogy(op.rosenbrock(p).clamp_min(1e-20), label=label)
_ = ax.plot(1, 1, "r*", ms=12)
ax.set(title="Rosenbrock: trajectories (minimum ★)", xlabel="x", ylabel="y")
ax.legend(loc="lower left")
ax2.set(title="Rosenbrock: loss along the trajectory", xlabel="step", ylabel="f (log scale)")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Rastrigin: every gradient method is local
# $f = 20 + \sum_i (x_i^2 - 10\cos 2\pi x_i)$ has a local minimum near every integer point. From
# $(-2, 3.5)$, all nine rules — each with a sensible learning rate, 1000 steps — stop in the *same*
# local minimum near $(-2, 3)$, $f \approx 12.934$, far from the global minimum $0$ at the origin.
# Momentum, adaptivity or curvature do not make a method global.

# %% slideshow={"slide_type": "subslide"}
rastrigin_lr = {"sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 0.1, "rmsprop": 3e-3,
                "adam": 0.01, "adamw": 0.01, "lion": 1e-3, "adahessian": 0.1}
rastrigin_paths = {}
for name, lr in rastrigin_lr.items():
    extra = {"weight_decay": 0.0} if name == "adamw" else {}
    rastrigin_paths[name] = op.run(name, op.rastrigin, (-2.0, 3.5), 1000, lr=lr, **extra)
    value = op.rastrigin(rastrigin_paths[name][-1]).item()
    assert abs(value - 12.934) < 1e-3
    print(f"{name:10s} η = {lr:<6g} ends at f = {value:.3f}")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots(figsize=(6, 5))
_ = contour(ax, op.rastrigin, (-3, -1), (1.5, 4.5), levels=40)
for name, p in rastrigin_paths.items():
    _ = ax.plot(p[:, 0], p[:, 1], lw=1, label=name)
_ = ax.plot(0, 0, "r*", ms=12)
ax.set(title="Rastrigin from (−2, 3.5): one local minimum for all", xlabel="x", ylabel="y",
       xlim=(-3, 1.5), ylim=(-1, 4.5))
ax.legend(fontsize=7, ncol=3, loc="lower right")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Adam + L2 is not weight decay
# With SGD, adding $\frac{\lambda}{2}\lVert w\rVert^2$ to the loss *is* weight decay:
# $w - \eta(g + \lambda w) = w(1 - \eta\lambda) - \eta g$. With Adam the L2 gradient $\lambda w$ goes
# through the division by $\sqrt{\hat v}$: coordinates with large gradients are barely decayed, those
# with small gradients are decayed hard (Loshchilov & Hutter 2019). AdamW decays outside the adaptive
# scaling. On $L = \frac12\sum_i a_i (w_i - 1)^2$ with $a = (100, 0.01)$ and $\lambda = 2$:

# %% slideshow={"slide_type": "subslide"}
a = torch.tensor([100.0, 0.01], dtype=F64)


def two_scales(w):
    return 0.5 * (a * (w - 1) ** 2).sum()


ends = {name: op.run(name, two_scales, (1.0, 1.0), 1000, lr=1e-2, weight_decay=2.0)[-1]
        for name in ("sgd", "adam", "adamw")}
assert torch.allclose(ends["adam"], a / (a + 2), atol=1e-3) and torch.allclose(ends["sgd"], a / (a + 2), atol=1e-3)
assert abs(ends["adamw"][0] - ends["adamw"][1]) < 1e-3 and ends["adamw"][0] < 0.6
for name, w in ends.items():
    print(f"{name:6s} w = ({w[0]:.3f}, {w[1]:.3f})")
print(f"L2 optimum a/(a+λ) = ({a[0] / 102:.3f}, {a[1] / 2.01:.3f})")

# %% [markdown] slideshow={"slide_type": "-"}
# SGD and Adam+L2 both go to the minimizer of the regularized loss — which shrinks the weakly
# determined coordinate to almost 0 and leaves the steep one alone. AdamW shrinks **both alike**
# (towards $w = 1/\lambda$ where $|\mathrm{sign}\,g| = \lambda w$): its decay does not depend on the
# gradient scale. That uniform decay is what tends to generalize better with Adam.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Go-to choices
# - **AdamW**, Adam, or SGD + Nesterov momentum for vision and transformers;
# - **AdamW** for language models;
# - **AdaGrad** for recommenders (sparse features: rarely seen ids keep a large step size).
#
# Momentum is not there to smooth the path — SGD + momentum oscillates too — it accelerates along
# consistent directions and tolerates larger batches. Adam = momentum + a per-coordinate scale from
# the second moment of the gradient.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try it: optimizers on the test functions
# Pick a function, a rule and its hyperparameters (300 steps). `momentum` is $\mu$ for SGD-momentum and
# Nesterov and $\beta_1$ for Adam, AdamW, Lion and AdaHessian; `beta2` is their second $\beta$ (RMSprop's
# $\alpha$). A learning rate that is too large says *diverged* instead of drawing.

# %% slideshow={"slide_type": "subslide"}
VIEW = {"rosenbrock": ((-2, -1), (2, 3), (-1.5, 2.0)), "beale": ((-4.5, -4.5), (4.5, 4.5), (1.0, 1.5)),
        "rastrigin": ((-5.12, -5.12), (5.12, 5.12), (-2.0, 3.5))}


def zoo(function: str = "rosenbrock", optimizer: str = "adam", log10_lr: float = -1.5,
        momentum: float = 0.9, beta2: float = 0.999):
    lo, hi, x0 = VIEW[function]
    f, lr = op.FUNCTIONS[function], 10.0**log10_lr
    hyper = {"lr": lr}
    if optimizer in ("momentum", "nesterov"):
        hyper["momentum"] = momentum
    elif optimizer == "rmsprop":
        hyper["alpha"] = beta2
    elif optimizer in ("adam", "adamw", "lion", "adahessian"):
        hyper["betas"] = (momentum, beta2)
    path = op.run(optimizer, f, x0, 300, **hyper)
    if not torch.isfinite(path).all() or path.abs().max() > 1e6:
        raise FloatingPointError(f"{optimizer} with η = {lr:.3g} left the plot after {len(path) - 1} steps")
    fig, ax = plt.subplots(figsize=(6, 4.5))
    _ = contour(ax, f, lo, hi)
    _ = ax.plot(path[:, 0], path[:, 1], "o-", ms=2, lw=1, color="tab:orange")
    _ = ax.plot(*op.MINIMA[function], "r*", ms=12)
    ax.set(title=f"{optimizer}, η = {lr:.2g}: f after 300 steps = {f(path[-1]).item():.3g}",
           xlabel="x", ylabel="y", xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    return fig


live(zoo, function=choice("test function", list(VIEW)), optimizer=choice("optimizer", list(op.OPTIMIZERS)),
     log10_lr=slider("log₁₀ learning rate η", -4.0, 0.5, 0.25), momentum=slider("momentum β", 0.0, 0.99, 0.01),
     beta2=slider("Adam β₂", 0.9, 0.999, 0.001))

# %% [markdown] slideshow={"slide_type": "notes"}
# Things to try: SGD on Rosenbrock at 10^-2.75 (converges, slowly) vs 10^-2.5 (diverges); momentum 0.99 overshooting; Adam on
# Beale; Lion at 10^-1.5 (every step has the same length — watch it zig-zag at the end); AdaHessian
# on Rastrigin, where the Hessian diagonal is negative on the ridges.

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


def diag_quadratic(x):
    return 0.5 * (a3 * x * x).sum()


step1 = op.run("adahessian", diag_quadratic, (1.0, -2.0, 3.0), 1, lr=1.0, betas=(0.0, 0.0), eps=0.0)
assert step1[-1].abs().max() < 1e-12
print("AdaHessian, one step from (1, −2, 3):", [f"{v:.1e}" for v in step1[-1].abs().tolist()], "(absolute values)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## $|Hv|$ in the authors' code
# The released AdaHessian code averages $|v \odot Hv| = |Hv|$ (it notes that $|v_i| = 1$). That is not
# an estimate of $|\mathrm{diag}\,H|$ once $H$ has off-diagonal entries. For $A = \begin{pmatrix}1 & 2\\ 2 & 1\end{pmatrix}$
# the four Rademacher vectors give $v \odot Av \in \{(3, 3), (-1, -1)\}$: the mean is $(1, 1) = \mathrm{diag}\,A$,
# but the mean of $|Av|$ is $(2, 2)$. And the second moment AdaHessian tracks,
# $\mathbb E[(v\odot Hv)_i^2] = \sum_j H_{ij}^2$, is the squared **row norm** — the diagonal only for
# a diagonal $H$.

# %% slideshow={"slide_type": "-"}
A = torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=F64)
gen = torch.Generator().manual_seed(0)
unbiased = op.hutchinson_diag(lambda v: A @ v, 2, 20_000, generator=gen)
with_abs = op.hutchinson_diag(lambda v: A @ v, 2, 20_000, absolute=True, generator=gen)
assert torch.allclose(unbiased, torch.ones(2, dtype=F64), atol=0.05)
assert torch.allclose(with_abs, torch.full((2,), 2.0, dtype=F64), atol=0.05)
print(f"mean of v⊙Av: ({unbiased[0]:.2f}, {unbiased[1]:.2f})   mean of |Av|: ({with_abs[0]:.2f}, {with_abs[1]:.2f})"
      "   diag A: (1, 1)")

# %% [markdown] slideshow={"slide_type": "notes"}
# The authors' code also averages |Hv| over each convolution kernel ("spatial averaging"), which we leave
# out. The step is still sensible as a curvature-like scale, it is just not the diagonal. BackPACK
# (Dangel et al. 2020) computes exact diagonals and other second-order quantities for inspection.

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
assert rel < 0.02
print(f"Beale at (1, 1.5): ∇f = ({true_grad[0]:.1f}, {true_grad[1]:.1f}), mean of 1e5 forward gradients "
      f"= ({samples.mean(0)[0]:.1f}, {samples.mean(0)[1]:.1f}), relative error {rel:.3f}")
fg_path = op.forward_gradient_descent(op.beale, (1.0, 1.5), 2000, lr=0.01, seed=0)
fg_final = op.beale(fg_path[-1]).item()
assert fg_final < 1e-6
print(f"forward-gradient descent on Beale, 2000 steps (η = 0.01): f < 1e-6 at "
      f"({fg_path[-1][0]:.3f}, {fg_path[-1][1]:.3f})")

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
acc_bp, acc_dfa = runs["backprop"]["test_acc"][-1], runs["dfa"]["test_acc"][-1]
align = runs["dfa"]["alignment"]
assert abs(acc_bp - acc_dfa) < 0.05 and abs(align[0]) < 0.1 and align[-1] > 0.2
print(f"test accuracy: backprop {acc_bp:.3f}, DFA {acc_dfa:.3f}")
print(f"cosine(DFA update, gradient) of the hidden layers: {align[0]:.2f} at the start → {align[-1]:.2f}")

# %% slideshow={"slide_type": "subslide"}
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
for m, h in runs.items():
    _ = ax.plot(h["test_acc"], "o-", ms=3, label=m)
_ = ax2.plot(align, "o-", ms=3, color="tab:orange")
ax.set(title="Teacher task: test accuracy", xlabel="epoch", ylabel="accuracy")
ax.legend()
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
# ## A small LSTM optimizer
# `op.LSTMOptimizer` follows Andrychowicz et al.: 2 layers × 20 units, shared by all coordinates, fed
# the preprocessed gradient $(\log|g|/10, \mathrm{sign}\, g)$. It was meta-trained for about a minute of CPU on
# random 10-d quadratics $f(\theta) = \lVert W\theta - y\rVert^2$ (200 batches of 32 functions, horizon 100,
# truncated every 20 steps; `op.load_l2o(recompute=True)` repeats it). On 500 *new* functions we
# compare it with plain gradient descent whose learning rate is tuned on those very functions:

# %% slideshow={"slide_type": "subslide"}
l2o = op.load_l2o()
Wq, yq, thq = op.random_quadratics(500, generator=torch.Generator().manual_seed(123))
sgd_lr, _ = op.tune_sgd(Wq, yq, thq, steps=100)
quad_curves = {f"gradient descent, tuned η = {sgd_lr:.3f}": op.sgd_losses(sgd_lr, Wq, yq, thq, 100),
               "LSTM optimizer (learned)": op.l2o_losses(l2o, Wq, yq, thq, 100)}
sgd_100, l2o_100 = (c[-1].mean().item() for c in quad_curves.values())
assert l2o_100 * 2 <= sgd_100
print(f"mean loss at step 100: tuned GD {sgd_100:.2f}, LSTM {l2o_100:.2f} ({sgd_100 / l2o_100:.1f}× lower)")
fig, ax = plt.subplots(figsize=(6, 3.8))
for label, c in quad_curves.items():
    _ = ax.semilogy(c.mean(1), label=label)
ax.set(title="Random 10-d quadratics: mean loss over 500 functions", xlabel="step", ylabel="‖Wθ − y‖²")
ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The learned rule is cheap to train here because the optimizee is tiny and the gradient input is
# treated as a constant (no second derivatives, as in the paper). It generalizes to new quadratics of
# the same family; ask what happens for 100-d ones or a network (the paper's MNIST experiments): it
# degrades out of distribution, which is VeLO's problem at scale too.

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
assert torch.allclose(moves, torch.full_like(moves, 1e-4), rtol=0, atol=1e-15)
print(f"Lion: all {moves.numel()} coordinate moves in 20 steps have |Δw| = η = {moves.max():.0e}")

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
# The first term of EI rewards a good mean (exploitation), the second a large uncertainty (exploration).

# %% slideshow={"slide_type": "subslide"}
BOX = [(-5.0, 10.0), (0.0, 15.0)]
bo_runs = [hs.bayes_opt(op.branin, BOX, 30, seed=s) for s in range(3)]
bo_best = np.median([y.min().item() for _, y in bo_runs])
rs_curves = torch.stack([hs.best_so_far(hs.random_search(op.branin, BOX, 30, seed=s)[1]) for s in range(200)])
rs_best = rs_curves[:, -1].median().item()
assert bo_best < 0.45 and 1.0 < rs_best < 2.5
print(f"Branin (f* = 0.397887), best after 30 evaluations, median: GP-BO + EI {bo_best:.3f} (3 seeds), "
      f"random search {rs_best:.2f} (200 seeds; {rs_curves[:, 19].median().item():.2f} after 20)")

# %% slideshow={"slide_type": "subslide"}
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
n_eval = np.arange(1, 31)
_ = ax.semilogy(n_eval, rs_curves.median(0).values - 0.397887, label="random search (median of 200)")
for s, (_, y) in enumerate(bo_runs):
    _ = ax.semilogy(n_eval, hs.best_so_far(y) - 0.397887, color="tab:orange", alpha=0.7,
                    label="GP-BO + EI (3 seeds)" if s == 0 else None)
ax.set(title="Branin: best so far", xlabel="evaluations", ylabel="best f − f* (log scale)")
ax.legend()
_ = contour(ax2, op.branin, (-5, 0), (10, 15))
X0 = bo_runs[0][0]
_ = ax2.scatter(X0[:5, 0], X0[:5, 1], c="tab:blue", s=20, label="initial (random)")
_ = ax2.scatter(X0[5:, 0], X0[5:, 1], c="tab:orange", s=20, label="chosen by EI")
ax2.set(title="Branin: where BO evaluated (seed 0)", xlabel="x₁", ylabel="x₂")
ax2.legend(fontsize=8)
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The syllabus quotes random search at about 2.1 after 30 evaluations. With 200 seeds (and the exact
# population value from 20000 repetitions) the median best after 30 uniform evaluations on Branin's
# standard box is about 1.6; about 2.1–2.2 is the median after 20. With only a few seeds the median
# of random search scatters between 0.6 and 3, so compare curves over many seeds.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## CMA-ES at work
# `hs.CMAES` is the classic $(\mu/\mu_W, \lambda)$-CMA-ES with the parameters of Hansen's tutorial: in 2-D a
# generation is $\lambda = 4 + \lfloor 3 \ln 2 \rfloor = 6$ samples, the mean moves to a weighted
# average of the best 3, and $C$ and $\sigma$ adapt from the selected steps. It ranks the samples and
# never looks at the values, so it needs several generations before it beats chance. Same Branin box,
# 100 evaluations, 100 seeds each:

# %% slideshow={"slide_type": "subslide"}
cma_runs = [hs.cma_es(op.branin, BOX, 100, seed=s) for s in range(100)]
cma_curves = torch.stack([hs.best_so_far(y) for _, y in cma_runs]) - 0.397887
rs100 = torch.stack([hs.best_so_far(hs.random_search(op.branin, BOX, 100, seed=s)[1]) for s in range(100)]) - 0.397887
gap = {"CMA-ES": cma_curves.median(0).values, "random search": rs100.median(0).values}
assert gap["CMA-ES"][-1] < 0.1 < gap["random search"][-1]
print("median gap to f* after 30 / 100 evaluations: " + ";  ".join(
    f"{name} {g[29]:.2f} / {g[-1]:.3f}" for name, g in gap.items()))

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
for name, g in gap.items():
    _ = ax.semilogy(np.arange(1, 101), g, label=f"{name} (median of 100)")
ax.set(title="Branin: best so far", xlabel="evaluations", ylabel="best f − f* (log scale)")
ax.legend()
_ = contour(ax2, op.branin, (-5, 0), (10, 15))
median_seed = int(torch.argsort(cma_curves[:, -1])[50])  # a typical run, not the luckiest
X_cma = cma_runs[median_seed][0]
cloud = ax2.scatter(X_cma[:, 0], X_cma[:, 1], c=np.arange(100) // 6, cmap="viridis", s=14)
fig.colorbar(cloud, ax=ax2, label="generation")
ax2.set(title=f"CMA-ES samples, the median run (seed {median_seed})", xlabel="x₁", ylabel="x₂")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The cloud starts wide (σ₀ is 0.3 of the box), settles in one of Branin's three basins and shrinks
# there; a larger population or a smaller σ₀ trades exploration for speed. With tens of evaluations
# BO is the better choice; CMA-ES pays off with hundreds of cheap
# evaluations or tens of dimensions, where a GP struggles. The test suite checks that on an
# ill-conditioned quadratic $C$ becomes proportional to the inverse Hessian.

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
assert [b[0][0] for b in paper] == [81, 34, 15, 8, 5] and [b[0][0] for b in hpb] == [81, 27, 9, 6, 5]
print("R = 81, η = 3: (configurations n_i, resource r_i) per round")
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
assert budget == 423 and len(rs_log) == 15 and n_rates == 49
print(f"total resource {budget:g} units: Hyperband tried {n_rates} rates in {len(hb_log)} trainings, "
      f"random search {len(rs_log)} rates")
print(f"Hyperband: best η = {10 ** hb_c:.3f}, f = {hb_loss:.4f};  random search: best η = {10 ** rs_c:.3f}, "
      f"f = {rs_loss:.4f}")

# %% [markdown] slideshow={"slide_type": "-"}
# Hyperband looked at 27 + 12 + 6 + 4 = 49 rates with the budget random search spent on 15 — most of
# them for only 10 or 30 steps. (One run on a toy: compare over seeds before concluding more.) Its risk: a rate that looks bad early (a slow start) is cut
# before it could win; the brackets with fewer, longer runs hedge against that.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In practice
# - For small problems: random search, or a TPE/BO sampler — **Optuna** is the tool of choice
#   (define-by-run search spaces, pruning of bad trials, dashboards).
# - For large problems where a run can be stopped early: **BOHB** (HpBandSter) or Hyperband/ASHA.
# - For hundreds of cheap evaluations over tens of continuous hyperparameters: **CMA-ES**.
# - Search learning rates and weight decay on a log scale; fix what the literature already fixes
#   (Adam's $\beta$s, $\epsilon$).
#
# **Takeaways.** Every optimizer is a short, exactly specified update rule — conventions included.
# Adaptivity changes *which* minimum and how fast, not whether a local method is global. Decoupled
# weight decay is not L2 under Adam. Curvature, forward gradients and feedback alignment trade
# exactness for cost. And tuning it all is itself an optimization problem: random search first, BO
# when evaluations are expensive, Hyperband when they can be cut short.
