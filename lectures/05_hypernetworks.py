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
# # 05 · Hypernetworks
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mlcourse/mlcourse/HEAD?urlpath=lab/tree/lectures/05_hypernetworks.ipynb)
#
# **Every value of a penalty $\lambda$ has its own trained weights $\mathbf{w}^*(\lambda)$. Could one network
# output them all at once, well enough to tune $\lambda$ by gradient descent?**

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
from mlcourse import hypernets as H
from mlcourse.widgets import live, log_slider, slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen
problem = H.ridge_problem(n=20, d=50, noise=1.0, seed=0, device=device)
lams = torch.linspace(-8, 4, 1201, dtype=torch.float64, device=device)
exact_curve = H.validation_curve(problem, lams)
exact_argmin = lams[exact_curve.argmin()].item()
LAM = "λ (log penalty)"

# %% slideshow={"slide_type": "-"}
paths = H.best_response(problem[0], problem[1], lams).cpu()  # [1201, 50]: w*(λ) for every λ
biggest = paths[lams.cpu().argmin()].abs().argsort(descending=True)[:6]
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
for j in biggest:
    _ = left.plot(lams.cpu(), paths[:, j], linewidth=1.5)
left.set(title="The best response: 6 of the 50 weights w*(λ)", xlabel=LAM, ylabel="trained weight")
_ = right.plot(lams.cpu(), exact_curve.cpu(), color="black")
_ = right.plot([exact_argmin], [exact_curve.min().item()], "o", color="C1", markersize=9)
right.set(title=f"Validation MSE along it: best at λ = {exact_argmin:.2f}", xlabel=LAM,
          ylabel="validation MSE", ylim=(1.7, 2.4))
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Left: each curve is one weight of ridge regression trained to convergence at penalty e^λ: the
# "best-response function" of the seed. Right: the validation loss along it. Tuning λ means finding the
# minimum on the right, and every point of that curve normally costs one training run. A hypernetwork
# learns the whole left picture as a function; then the right curve and its slope cost one forward and
# backward pass. The lecture: the best response and the hypernet's place in the bilevel problem,
# global and local best responses (with the sampling width σ as the live control), Self-Tuning
# Networks, Pareto fronts, continual learning, chunking and complexity control.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Definition
# Let $\Lambda$ be a set of metaparameters (penalties, preferences, task identities …). A
# **hypernetwork** is a parametric map
# $$G : \Lambda \times \mathbb{R}^u \to \mathbb{R}^n, \qquad (\lambda, \varphi) \mapsto \mathbf{w},$$
# from a metaparameter $\lambda$ and its own parameters $\varphi \in \mathbb{R}^u$ to the $n$ parameters
# $\mathbf{w}$ of a model $f$ (Ha, Dai & Le 2016). Only $\varphi$ is trained; $\mathbf{w}$ is computed.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Tuning is a bilevel problem
# $$\lambda^* = \arg\min_\lambda \mathcal{L}_{val}\big(\mathbf{w}^*(\lambda)\big), \qquad
# \mathbf{w}^*(\lambda) = \arg\min_{\mathbf{w}} \mathcal{L}_{train}(\mathbf{w}, \lambda).$$
# The inner solution $\mathbf{w}^*(\lambda)$ is the **best response** to $\lambda$. A gradient step on $\lambda$
# needs its slope:
# $$\frac{d\mathcal{L}_{val}}{d\lambda} = \frac{\partial \mathcal{L}_{val}}{\partial \lambda} +
# \frac{\partial \mathcal{L}_{val}}{\partial \mathbf{w}^*}\,\frac{d\mathbf{w}^*}{d\lambda}.$$
# Idea: *learn* $\hat{\mathbf{w}}_\varphi(\lambda) \approx \mathbf{w}^*(\lambda)$ with a hypernetwork and
# differentiate through it, instead of retraining for every $\lambda$ or unrolling training.

# %% slideshow={"slide_type": "subslide"}
fig = H.bilevel_diagram()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The simplest exact case: ridge regression
# $n = 20$ training points, $d = 50$ features ($d > n$), noise $\sigma = 1$, 20 validation points, and
# $$\mathcal{L}_{train}(\mathbf{w}, \lambda) = \tfrac1n\lVert X\mathbf{w} - \mathbf{y}\rVert^2 + e^{\lambda}\lVert\mathbf{w}\rVert^2
# \quad\Rightarrow\quad \mathbf{w}^*(\lambda) = \big(X^\top X/n + e^{\lambda} I\big)^{-1} X^\top\mathbf{y}/n .$$
# The metaparameter $\lambda$ is the **log** of the penalty, so that it ranges over many orders of
# magnitude; $\mathbf{w}^*(\lambda)$ and its slope are known exactly, so every approximation below can be
# judged against the truth.

# %% slideshow={"slide_type": "-"}
print(f"exact validation argmin: λ = {exact_argmin:.2f} (penalty e^λ = {np.exp(exact_argmin):.2f}), "
      f"validation MSE {exact_curve.min().item():.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Global best response (Lorraine & Duvenaud 2018)
# Train the hypernetwork for all $\lambda$ of a distribution at once, then tune $\lambda$ through it:
# 1. repeat: $\lambda \sim p(\lambda)$, $\;\varphi \mathrel{-}= \alpha \nabla_\varphi \mathcal{L}_{train}(\hat{\mathbf{w}}_\varphi(\lambda), \lambda)$
# 2. repeat: $\hat\lambda \mathrel{-}= \beta \nabla_{\hat\lambda} \mathcal{L}_{val}(\hat{\mathbf{w}}_\varphi(\hat\lambda))$
#
# Their theorem: a sufficiently powerful hypernetwork trained on
# $\mathbb{E}_{\lambda\sim p}\,\mathcal{L}_{train}(\hat{\mathbf{w}}_\varphi(\lambda), \lambda)$ learns the best
# response on the whole support of $p$ (if it is convex). Here: $p = U(-8, 4)$, an MLP
# $1 \to 64 \to 64 \to 50$, 2000 Adam steps of 64 fresh $\lambda$'s.

# %% [markdown] slideshow={"slide_type": "notes"}
# Lorraine & Duvenaud's MNIST experiment penalised the *non-squared* norm, exp(λ)·‖w‖₂, not ‖w‖₂²; we use
# the squared norm so that ridge has its closed form. The last layer of the hypernet starts at zero: the
# training gradient then keeps its output in the row space of X (d > n), as w*(λ) is. A random start
# leaves null-space components that the tiny penalty at λ ≈ −6 removes only very slowly.

# %% slideshow={"slide_type": "subslide"}
hypernet = H.train_global_hypernet(problem, lam_range=(-8.0, 4.0), seed=0)
approx_curve = H.validation_curve(problem, lams, hypernet)
window = (lams >= -6) & (lams <= 2)
curve_gap = (approx_curve - exact_curve)[window].abs().max().item()
hyper_argmin = lams[approx_curve.argmin()].item()
fig, ax = plt.subplots()
_ = ax.plot(lams.cpu(), exact_curve.cpu(), color="black", label="exact best response $w^*(\\lambda)$")
_ = ax.plot(lams.cpu(), approx_curve.cpu(), linestyle="--", label="hypernet $\\hat w_\\varphi(\\lambda)$")
_ = ax.axvline(exact_argmin, color="gray", linewidth=1)
ax.set(title="Validation loss along the best response", xlabel=LAM, ylabel="validation MSE", ylim=(1.7, 2.4))
ax.legend(loc="upper left")
plt.show()
print(f"hypernet argmin: λ = {hyper_argmin:.2f} (exact {exact_argmin:.2f}); "
      f"largest gap to the exact validation curve on [-6, 2]: {curve_gap:.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Second loop: gradient descent on $\hat\lambda$ alone, through the frozen hypernet, from $\hat\lambda = -4$.
# Each step costs one forward and backward pass of the hypernet, and no training.

# %% slideshow={"slide_type": "-"}
path = H.tune_lambda(hypernet, problem, -4.0, steps=150, lr=0.1)
print(f"λ̂ after 150 steps: {path[-1].item():.2f}  (exact argmin {exact_argmin:.2f})")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Two obstacles to scaling up (MacKay, Vicol et al. 2019)
# 1. Modelling $\hat{\mathbf{w}}_\varphi(\lambda)$ over the *whole* metaparameter space is hard for a large
#    network → approximate the best response **locally**, around the current $\hat\lambda$.
# 2. A map $\lambda \mapsto \mathbf{w}$ with millions of outputs is too big → a **compact** layer that only
#    modulates an ordinary layer.
#
# Local best response: alternate
# - $\lambda \sim p(\lambda \mid \hat\lambda, \sigma)$, $\;\varphi \mathrel{-}= \alpha\nabla_\varphi \mathcal{L}_{train}(\hat{\mathbf{w}}_\varphi(\lambda), \lambda)$ — fit around the current value;
# - $\hat\lambda \mathrel{-}= \beta \nabla_{\hat\lambda}\mathcal{L}_{val}(\hat{\mathbf{w}}_\varphi(\hat\lambda))$ — move it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The sampling width $\sigma$
# A local model only needs the right **slope** $d\hat{\mathbf{w}}/d\lambda$ at $\hat\lambda$: that is what the
# hypergradient uses. We fit a model that is affine in $\lambda$ (the STN layer below) at $\hat\lambda = -2$
# from samples $\lambda = \hat\lambda + \sigma\varepsilon$, $\varepsilon \sim \mathcal{N}(0, 1)$:
# - **too small**: every sample sits at $\hat\lambda$; the fit is right there but its slope gets no signal;
# - **too wide**: a straight line cannot follow the curved $\mathbf{w}^*(\lambda)$; its slope is a secant;
# - **just right**: the slope, and with it the hypergradient, matches.

# %% slideshow={"slide_type": "subslide"}
center = -2.0
exact_hg = H.exact_hypergradient(problem, center)
widths = {"too small": 0.02, "just right": 1.0, "too wide": 4.0}
local = {name: H.train_local_hypernet(problem, center, s, seed=0) for name, s in widths.items()}
print(f"hypergradient dL_val/dλ at λ̂ = {center}:  exact {exact_hg:+.4f}")
for name, model in local.items():
    g = H.approx_hypergradient(lambda l, m=model: H.stn_weights(m, l), problem, center)
    print(f"  local fit with σ = {widths[name]:<4} ({name:>10}): {g:+.4f}   (error {abs(g / exact_hg - 1):.0%})")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Try it: the sampling width
# Left: the best response projected on the direction it moves at $\hat\lambda$, exact against the local fit,
# with the sampling distribution $p(\lambda \mid \sigma)$ shaded. Right: the validation loss along both,
# with their tangents at $\hat\lambda$: the slopes are the two hypergradients. Each move of the slider
# fits a new local model (600 Adam steps).

# %% slideshow={"slide_type": "subslide"}
u = H.implicit_jacobian(problem[0], problem[1], center)
u = u / u.norm()  # the direction in which w* moves at λ̂
near = torch.linspace(center - 4, center + 4, 161, dtype=torch.float64, device=device)
exact_near = H.best_response(problem[0], problem[1], near)
exact_val_near = H.validation_curve(problem, near)


def sigma_live(sigma: float = 1.0):
    """A local best response fitted with sampling width σ at λ̂ = −2, against the exact one."""
    model = H.train_local_hypernet(problem, center, sigma, seed=0)
    approx = H.stn_weights(model, near).detach()
    g = H.approx_hypergradient(lambda l: H.stn_weights(model, l), problem, center)
    error = abs(g / exact_hg - 1)
    verdict = "just right" if error < 0.15 else ("too small" if sigma < 1 else "too wide")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    _ = left.plot(near.cpu(), (exact_near @ u).cpu(), color="black", label="exact $w^*(\\lambda)$")
    _ = left.plot(near.cpu(), (approx @ u).cpu(), color="C0", linestyle="--", label="local fit $\\hat w(\\lambda)$")
    lo, hi = left.get_ylim()
    density = torch.exp(-0.5 * ((near - center) / sigma) ** 2).cpu()
    _ = left.fill_between(near.cpu(), lo, lo + 0.35 * (hi - lo) * density, color="C2", alpha=0.25,
                          label="$p(\\lambda \\mid \\sigma)$, scaled")
    left.set(title=f"σ = {sigma:.2g}: {verdict}", xlabel=LAM, ylabel="$u^\\top w$ (moving direction)",
             ylim=(lo, hi))
    left.legend(loc="upper left", fontsize=9)
    val_local = H.validation_curve(problem, near, lambda l: H.stn_weights(model, l))
    v0 = exact_curve[(lams - center).abs().argmin()].item()
    _ = right.plot(near.cpu(), exact_val_near.cpu(), color="black", label="exact")
    _ = right.plot(near.cpu(), val_local.cpu(), color="C0", linestyle="--", label="local fit")
    for slope, colour in ((exact_hg, "black"), (g, "C1")):
        _ = right.plot([center - 2, center + 2], [v0 - 2 * slope, v0 + 2 * slope], color=colour,
                       linestyle=":", linewidth=2.5)
    right.set(title=f"hypergradient {g:+.3f} vs exact {exact_hg:+.3f}", xlabel=LAM, ylabel="validation MSE",
              ylim=(1.6, 2.8))
    right.legend(loc="upper right", fontsize=9)
    return fig


live(sigma_live, background=True, sigma=log_slider("sampling width σ", 0.01, 10.0))

# %% [markdown] slideshow={"slide_type": "notes"}
# Things to try: σ = 0.01 (the slope keeps its random start, and the hypergradient has the wrong sign),
# σ ≈ 1 (slopes agree), σ = 10 (the fitted line averages w* over λ̂ ± 20 and its slope says almost nothing).
# The error is not monotone in σ between these regimes: with 600 steps the slope is still learning for
# σ ≈ 0.1–0.3.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The STN compact layer
# $$\hat W_\varphi(\lambda) = W_{elem} + (V\lambda) \odot_{row} W_{hyper}, \qquad
# \hat{\mathbf{b}}_\varphi(\lambda) = \mathbf{b}_{elem} + (C\lambda) \odot \mathbf{b}_{hyper}.$$
# $V\lambda$ has one entry per output unit and scales the corresponding row of $W_{hyper}$. On the
# pre-activations it is an ordinary layer plus a correction:
# $$\hat W(\lambda)\mathbf{x} + \hat{\mathbf{b}}(\lambda) = [W_{elem}\mathbf{x} + \mathbf{b}_{elem}] + (V\lambda)\odot(W_{hyper}\mathbf{x}) + (C\lambda)\odot\mathbf{b}_{hyper},$$
# so each example of a batch can carry its own $\lambda$. The cost: two copies of the layer plus $V$ and $C$
# ($h$ numbers per output unit each, for $h$ metaparameters).

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
torch.manual_seed(0)
layer = H.STNLinear(in_features=5, out_features=4, n_hyper=3).double()
x = torch.randn(6, 5, dtype=torch.float64)
lam3 = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
with torch.no_grad():
    explicit = layer.elem.weight + torch.diag(layer.V @ lam3) @ layer.hyper.weight  # the formula
    bias = layer.elem.bias + (layer.C @ lam3) * layer.hyper.bias
    gap = (layer(x, lam3) - (x @ explicit.T + bias)).abs().max().item()
print(f"layer output vs explicit Ŵ(λ)x + b̂(λ): largest gap {gap:.1e}")
for n_in, n_out in ((5, 4), (512, 512)):
    stn = H.STNLinear(n_in, n_out, n_hyper=3)
    plain = n_in * n_out + n_out
    print(f"{n_in:>3} → {n_out:<3} layer, 3 metaparameters: plain {plain:>7,} numbers, STN {H.n_parameters(stn):>7,} "
          f"({H.n_parameters(stn) / plain:.2f}×)")

# %% [markdown] slideshow={"slide_type": "-"}
# For a wide layer the STN costs about twice the parameters; for our tiny $5 \to 4$ example $V$ and $C$
# are as large as the layer itself, so it costs three times.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The STN algorithm, with its entropy term
# The perturbation width $\sigma$ is tuned too. Alternate
# - $T_{train}$ steps: $\varepsilon \sim p(\varepsilon\mid\sigma)$, $\;\varphi \leftarrow \varphi - \alpha_1 \partial_\varphi f(\lambda+\varepsilon, \hat{\mathbf{w}}_\varphi(\lambda+\varepsilon))$
# - $T_{val}$ steps: $(\lambda, \sigma) \leftarrow (\lambda, \sigma) - \alpha_{2,3}\, \partial\big[F(\lambda+\varepsilon, \hat{\mathbf{w}}_\varphi(\lambda+\varepsilon)) - \tau\,\mathbb{H}[p(\varepsilon\mid\sigma)]\big]$
#
# ($f$ training, $F$ validation loss.) Without the entropy bonus $\tau\mathbb{H} = \tau\log\sigma + c$ the
# validation loss alone would shrink $\sigma$ to 0, and a local model trained on no spread has no
# slope (the "too small" regime above). The bonus keeps $\sigma$ as large as the validation loss tolerates.

# %% slideshow={"slide_type": "subslide"}
history = H.stn_search(problem, log_lam0=-4.0, sigma0=0.5, tau=1e-3, rounds=300, seed=0)
fig, ax = plt.subplots()
_ = ax.plot(history["log_lam"], label="$\\hat\\lambda$")
_ = ax.fill_between(np.arange(len(history["log_lam"])), history["log_lam"] - history["sigma"],
                    history["log_lam"] + history["sigma"], alpha=0.25, label="$\\hat\\lambda \\pm \\sigma$")
_ = ax.axhline(exact_argmin, color="black", linewidth=1, linestyle=":", label="exact argmin")
ax.set(title="Self-Tuning Network on ridge: λ and σ tuned jointly", xlabel="round", ylabel=LAM)
ax.legend(loc="lower right")
plt.show()
print(f"STN: λ̂ = {history['log_lam'][-1].item():.2f} (exact {exact_argmin:.2f}), "
      f"σ = {history['sigma'][-1].item():.2f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What STNs can and cannot tune
# **Can**: most regularisation metaparameters: weight decay, dropout rates, continuous
# data-augmentation strengths (hue, contrast …), even discrete ones (number and length of cutout holes)
# through a relaxation.
#
# **Cannot**: metaparameters *of the inner optimisation*: learning rate, momentum, the number of steps.
# The bilevel problem was collapsed into one joint training run, so there is no inner training loop
# whose speed or path these would change. $\hat{\mathbf{w}}_\varphi(\lambda)$ models the *result* of
# training, not the process.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Three gradient-based families of hyperparameter optimisation
# | | how $d\mathbf{w}^*/d\lambda$ is obtained | cost |
# |---|---|---|
# | **implicit** | $\partial_\mathbf{w}\mathcal{L}_{train} = 0 \Rightarrow \frac{d\mathbf{w}^*}{d\lambda} = -\big(\partial^2_{\mathbf{w}}\mathcal{L}_{train}\big)^{-1}\partial^2_{\lambda\mathbf{w}}\mathcal{L}_{train}$ | assumes convergence; Hessian solves (CG, Hessian–vector products) |
# | **iterative** | backprop through the unrolled training steps | memory/time grow with the number of steps (lectures 04, 06) |
# | **hypernetwork** | differentiate $\hat{\mathbf{w}}_\varphi(\lambda)$ | no unrolling, no Hessian; discrete/stochastic $\lambda$ possible; approximate |
#
# On ridge the implicit formula is exact: $d\mathbf{w}^*/d\lambda = -(X^\top X/n + e^\lambda I)^{-1} e^\lambda \mathbf{w}^*$.

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
ift = H.implicit_jacobian(problem[0], problem[1], center)
autograd_jac = torch.autograd.functional.jacobian(
    lambda l: H.best_response(problem[0], problem[1], l), torch.tensor(center, dtype=torch.float64, device=device))
slope_local = (local["just right"].V[0, 0] * local["just right"].hyper.weight[0]).detach()
cosine = torch.nn.functional.cosine_similarity(slope_local, ift, dim=0).item()
print(f"implicit vs autograd dw*/dλ: largest gap {(ift - autograd_jac).abs().max().item():.1e}; "
      f"cosine(slope of the σ = 1 local fit, dw*/dλ) = {cosine:.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Multi-objective optimisation and the Pareto front
# With losses $\boldsymbol\ell = (\ell_1, \dots, \ell_m)$ there is no single best model but a **Pareto
# front** of trade-offs that no model improves in every loss at once. A preference ray
# $\mathbf{r} \in \Delta^{m-1}$ ($r_j \ge 0, \sum_j r_j = 1$) picks one trade-off.
#
# Toy problem (Lin et al. 2019), $x \in \mathbb{R}^{20}$:
# $$f_1(x) = 1 - e^{-\lVert x - \mathbf{1}/\sqrt{d}\rVert^2}, \qquad f_2(x) = 1 - e^{-\lVert x + \mathbf{1}/\sqrt{d}\rVert^2}.$$
# The Pareto set is the segment $x = t\,\mathbf{1}/\sqrt d$, $t\in[-1,1]$. Its front is **concave** (it bulges
# towards $(1, 1)$) for $|t| < 1/\sqrt2$ and convex beyond, where the smaller loss is below
# $1 - e^{-(1 - 1/\sqrt2)^2} \approx 0.082$.
#
# **Hypervolume**: the area dominated by a set of loss vectors, bounded by a reference point (here
# $(1, 1)$); larger is better; it rewards both closeness to the front and spread along it.

# %% slideshow={"slide_type": "subslide"}
front = H.pareto_front(100001)
hv_front = H.hypervolume_2d(front, ref=(1.0, 1.0))
rays = H.circle_rays(25, min_angle=0.1)
ray_points = torch.stack([H.ray_front_point(r) for r in rays])
hv_rays = H.hypervolume_2d(ray_points)
print(f"hypervolume of the true front: {hv_front:.4f}; of 25 exact ray points: {hv_rays:.4f}; "
      f"the front is convex where a loss is below {H.front_inflection():.3f}")

# %% [markdown] slideshow={"slide_type": "notes"}
# Curvature of the front: with f₁(t) = 1 − e^{−(1−t)²}, f₂(t) = 1 − e^{−(1+t)²}, the second derivative of f₂
# as a function of f₁ has the sign of 2(1 − t²) − 1, which vanishes at t = ±1/√2. Linear scalarisation
# minimises a weighted sum, so it can only land on the convex hull of the front: the two convex end
# pieces.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Pareto HyperNetworks (Navon et al. 2021)
# One hypernet $h_\varphi(\mathbf{r})$ maps a preference ray to model weights (here the point $x$ itself).
# Each step draws rays $\mathbf{r} \sim \mathrm{Dir}(\alpha)$, $\alpha = 0.2$, and descends a scalarised loss:
# - **linear scalarisation** (LS): $\sum_i r_i \ell_i$: on this front its minimisers lie only on the
#   convex end pieces;
# - **ray targeting**: EPO (Mahapatra & Rajan 2020) steers to the point with $r_1\ell_1 = r_2\ell_2 = \dots$;
#   we reach the same point with the Chebyshev scalarisation $\max_i r_i \ell_i$.
#
# At test time any ray gives a model with no retraining. Both PHNs: MLP $2 \to 100 \to 100 \to 20$,
# 2000 Adam steps of 16 rays (trained once and loaded here).

# %% slideshow={"slide_type": "subslide"}
phn = {m: H.pretrained_phn(m, device=device) for m in ("ls", "chebyshev")}  # H.train_phn(m), cached
phn_points = {m: H.phn_front(net, rays) for m, net in phn.items()}
hv_phn = {m: H.hypervolume_2d(p) for m, p in phn_points.items()}
fig, ax = plt.subplots(figsize=(6.4, 4.6))
_ = ax.plot(front[:, 0], front[:, 1], color="black", linewidth=1, label="true front")
for m, marker in (("ls", "s"), ("chebyshev", "o")):
    _ = ax.scatter(phn_points[m][:, 0], phn_points[m][:, 1], marker=marker, s=22, zorder=3,
                   label=f"PHN-{m} (HV {hv_phn[m]:.2f})")
ax.set(title="25 test rays: linear scalarisation collapses", xlabel="$f_1$", ylabel="$f_2$",
       xlim=(0, 1.02), ylim=(0, 1.02), aspect="equal")
ax.legend(fontsize=9, loc="lower left")
plt.show()
print(f"hypervolume: PHN-LS {hv_phn['ls']:.3f}, PHN-Chebyshev {hv_phn['chebyshev']:.3f} (true front {hv_front:.3f})")

# %% [markdown] slideshow={"slide_type": "notes"}
# The exact LS minimisers of these 25 rays on the front have hypervolume 0.042: they sit on the convex
# end pieces. The trained PHN-LS is not yet there for the central rays (its hypervolume falls with longer
# training: ≈ 0.28 after 500 steps, 0.19 after 2000); the reference value for this setup is ≈ 0.18.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## EPO: ray targeting without a scalarisation
# Exact Pareto Optimal search (Mahapatra & Rajan 2020) trains one model for one ray. Each step moves
# along $-G^\top\beta$, a convex combination of the loss gradients ($G$: the Jacobian), with $\beta$ from
# a small linear program: off the ray, level $r_1 f_1, r_2 f_2$ without letting the worst of them
# rise; on the ray, lower every loss without leaving it. Five rays, one start:

# %% slideshow={"slide_type": "subslide"}
x_start = 0.3 * torch.randn(H.PARETO_DIM, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
epo_rays = H.circle_rays(5, min_angle=0.2)
epo_paths = [H.epo_search(r, x_start)[0] for r in epo_rays]
miss = max((p[-1] - H.ray_front_point(r)).abs().max().item() for p, r in zip(epo_paths, epo_rays))
fig, ax = plt.subplots(figsize=(6.4, 4.6))
_ = ax.plot(front[:, 0], front[:, 1], color="black", linewidth=1, label="true front")
for k, (path, r) in enumerate(zip(epo_paths, epo_rays)):
    end = H.ray_front_point(r)
    _ = ax.plot([0, 1.4 * end[0]], [0, 1.4 * end[1]], ":", color=f"C{k}", linewidth=1)  # r₁f₁ = r₂f₂
    _ = ax.plot(path[:, 0], path[:, 1], color=f"C{k}", linewidth=1.5)
    _ = ax.plot(path[-1, 0], path[-1, 1], "o", color=f"C{k}")
_ = ax.plot(*epo_paths[0][0], "k*", markersize=10, label="start")
ax.set(title="EPO: each path ends where its ray (dotted) meets the front",
       xlabel="$f_1$", ylabel="$f_2$", xlim=(0, 1.02), ylim=(0, 1.02), aspect="equal")
ax.legend(fontsize=9, loc="lower left")
plt.show()
print(f"after 100 EPO steps the farthest end point is {miss:.1e} from its ray's front point")

# %% [markdown] slideshow={"slide_type": "notes"}
# PHN-EPO (Navon et al. 2021) runs this step for the ray drawn at each hypernet update. On this toy
# the Chebyshev scalarisation aims at the same points with a plain gradient and no LP; EPO also
# constrains the path (while balancing, the worst relative loss may not rise, to first order in the
# step), which matters when the losses start far from the ray.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try it: move the preference ray
# The dashed line is where ray targeting aims ($r_1 f_1 = r_2 f_2$); the markers are the two PHNs'
# answers for this ray. Linear scalarisation jumps between the two ends.

# %% slideshow={"slide_type": "subslide"}
def preference_live(r1: float = 0.5):
    """The PHNs' Pareto points for the preference ray (r1, 1 − r1)."""
    if not 0 < r1 < 1:
        raise ValueError("r1 must lie strictly between 0 and 1")
    ray = torch.tensor([[r1, 1 - r1]], dtype=torch.float64)
    target = H.ray_front_point(ray[0])
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    _ = ax.plot(front[:, 0], front[:, 1], color="black", linewidth=1, label="true front")
    _ = ax.plot([0, 1.5 * target[0]], [0, 1.5 * target[1]], color="gray", linestyle="--",
                linewidth=1, label="$r_1 f_1 = r_2 f_2$")
    for m, marker in (("ls", "s"), ("chebyshev", "o")):
        p = H.phn_front(phn[m], ray)[0]
        _ = ax.scatter([p[0]], [p[1]], marker=marker, s=70, zorder=3, label=f"PHN-{m}")
    ax.set(title=f"Preference r = ({r1:.2f}, {1 - r1:.2f})", xlabel="$f_1$", ylabel="$f_2$",
           xlim=(0, 1.02), ylim=(0, 1.02), aspect="equal")
    ax.legend(fontsize=9, loc="lower left")
    return fig


live(preference_live, r1=slider("preference r₁", 0.02, 0.98, 0.02))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Continual learning with a task-conditioned hypernet (von Oswald et al. 2020)
# Tasks arrive one at a time: $(X^{(1)}, Y^{(1)}), \dots, (X^{(T)}, Y^{(T)})$, and a model trained on the
# next task forgets the previous ones. Move the problem one level up: a hypernet maps a learned **task
# embedding** $\mathbf{e}^{(t)}$ to the target network's weights, and must only keep *its outputs for old
# embeddings* fixed: a few numbers per task, no stored data:
# $$\mathcal{L}_{total} = \mathcal{L}_{task}\big(\Theta_h, \mathbf{e}^{(T)}, X^{(T)}, Y^{(T)}\big)
# + \frac{\beta}{T-1}\sum_{t=1}^{T-1}\big\lVert f_h(\mathbf{e}^{(t)}, \Theta_h^*) - f_h(\mathbf{e}^{(t)}, \Theta_h)\big\rVert^2 .$$
# $\Theta_h^*$: the hypernet before task $T$. (The paper adds a look-ahead $\Delta\Theta_h$; we omit it.)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Three 1-D regressions learned in order: $x + 3$ on $[-4,-2]$, $2x^2 - 1$ on $[-1,1]$, $(x-3)^3$ on
# $[2,4]$, 100 noisy points each ($\sigma = 0.05$). Target network 1-10-10-1 with tanh units (141
# weights), hypernet $\mathbb{R}^2 \to 100 \to 100 \to 141$, 2000 Adam steps per task at rate $10^{-3}$
# (trained once, loaded here). Fine-tuning is $\beta = 0$.

# %% slideshow={"slide_type": "subslide"}
continual = {beta: H.pretrained_continual(beta, device=device) for beta in (0.0, 0.005)}
tests = H.continual_test_sets(device=device)
data = H.continual_tasks(seed=0, device=device)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
for ax, (beta, (thetas, _)) in zip(axes, continual.items()):
    for t, ((x, y), (xt, _)) in enumerate(zip(data, tests)):
        _ = ax.scatter(x.cpu()[:, 0], y.cpu()[:, 0], s=6, color="gray")
        _ = ax.plot(xt.cpu()[:, 0], H.main_net(thetas[t], xt).cpu()[:, 0], label=f"task {t + 1}")
    ax.set(title=f"After task 3, β = {beta}" + (" (fine-tuning)" if beta == 0 else " (regularised)"),
           xlabel="x", ylim=(-5, 5))
axes[0].set_ylabel("y")
axes[0].legend(fontsize=9, loc="upper left")
plt.show()
print("test MSE after all three tasks        task 1   task 2   task 3")
for beta, (_, after) in continual.items():
    print(f"  β = {beta:<5} {'(fine-tuning)' if beta == 0 else '(regularised)':>14}      "
          + "  ".join(f"{m:7.4f}" for m in after[-1]))

# %% [markdown] slideshow={"slide_type": "notes"}
# Paper (von Oswald et al.): 0.0042 / 0.0024 / 0.0061 with the regulariser; ours is lower on all three.
# Both runs are identical until task 2 starts; β changes only what happens to the old tasks. With ReLU
# target units (an earlier version of this lecture) task 3 was fitted by a straight line in both runs
# (MSE 0.0245): the generated network's kinks all lay outside [2, 4]. Robustness over seeds: see the
# docstring of mlcourse.hypernets.train_continual.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Chunking: a hypernet smaller than its output
# A hypernet whose last layer outputs all $n$ target weights has at least $n \times$ (last hidden width)
# parameters, usually more than the target network itself. A **chunked** hypernet outputs one chunk of
# the weights at a time, conditioned on the task embedding $\mathbf{e}^{(t)}$ *and* a learned chunk
# embedding $\mathbf{c}^{(k)}$: $(\mathbf{e}^{(t)}, \mathbf{c}^{(k)}) \mapsto$ chunk $k$ of task $t$'s weights.
# Chunk embeddings are shared across tasks and the same small network serves every chunk. Here: chunks of
# 24 weights (6 chunks for 141), a $4 \to 40 \to 40 \to 24$ network, the same continual run with $\beta = 0.005$.

# %% slideshow={"slide_type": "subslide"}
chunked_weights, chunked_after = H.pretrained_continual(0.005, chunked=True, device=device)
print("chunked hypernet, test MSE after all three tasks: " + "  ".join(f"{m:.4f}" for m in chunked_after[-1]))
mnist = 784 * 1000 + 1000 + 1000 * 1000 + 1000 + 1000 * 10 + 10  # a 784-1000-1000-10 network
print(f"{'target network':<26}{'its weights':>13}{'hypernet':>14}{'chunked':>10}{'shrunk by':>11}")
for name, n_target, hidden, chunk in (("1-10-10-1 (here)", H.main_net_size(), 100, 24),
                                      ("784-1000-1000-10 (MNIST)", mnist, 100, 1000)):
    full = H.hypernet_size(n_target, hidden=hidden, n_tasks=3)
    small = H.hypernet_size(n_target, hidden=H.CHUNKED["hidden"] if chunk == 24 else hidden, chunk_size=chunk,
                            n_tasks=3)
    print(f"{name:<26}{n_target:>13,}{full:>14,}{small:>10,}{full / small:>10.0f}×")

# %% [markdown] slideshow={"slide_type": "-"}
# For the MNIST-size network (100 hidden units, chunks of 1000 weights) the chunked hypernet is about 16
# times *smaller* than the network it generates; the unchunked one would be 100 times larger.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Complexity control (Grebenkova, Bakhteev & Strijov 2023)
# The metaparameter can be the model's **complexity** itself. A Bayesian linear model with a Gaussian
# variational posterior $q = \mathcal{N}(\boldsymbol\mu, \operatorname{diag}\boldsymbol\sigma^2)$ is trained on
# $$\mathbb{E}_q\big[-\log p(\mathbf{y} \mid X, \mathbf{w})\big] + c\cdot \mathrm{KL}\big(q \,\Vert\, \mathcal{N}(0, I)\big),
# \qquad \lambda = \log c .$$
# Large $c$ keeps $q$ near the prior: few weights stand out from their noise, and **pruning** the weights
# with signal-to-noise ratio $|\mu_i|/\sigma_i < 1$ leaves a small model. A hypernet
# $\lambda \mapsto (\boldsymbol\mu(\lambda), \boldsymbol\sigma(\lambda))$ trained once for all $\lambda$ gives the model at
# every complexity level, including its variances (the "statistical properties" of the seed's theorem).
# Here the exact optimum is known: $\boldsymbol\mu^* = \Lambda^{-1}\tfrac{\beta}{c}X^\top\mathbf{y}$,
# $\sigma^{*2}_i = 1/\Lambda_{ii}$ with $\Lambda = \tfrac{\beta}{c}X^\top X + I$.

# %% slideshow={"slide_type": "subslide"}
sparse = H.complexity_problem(device=device)  # 30 points, 20 features, 4 of them matter, noise 0.5
complexity_net = H.train_complexity_hypernet(sparse)
log_c = torch.linspace(-1, 5, 61, dtype=torch.float64, device=device)
mu_exact, sd_exact = H.complexity_best_response(sparse[0], sparse[1], log_c)
with torch.no_grad():
    mu_net, sd_net = complexity_net(log_c)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
for (mu, sd), style, name in (((mu_exact, sd_exact), "-", "exact optimum"), ((mu_net, sd_net), "o", "hypernet")):
    pruned = H.prune_by_snr(mu, sd)
    kept = (pruned != 0).sum(-1).cpu()
    val = H.validation_loss(sparse[2], sparse[3], pruned).cpu()
    _ = left.plot(log_c.cpu(), kept, style, color="C0" if style == "-" else "C1", markersize=4, label=name)
    _ = right.plot(log_c.cpu(), val, style, color="C0" if style == "-" else "C1", markersize=4, label=name)
left.set(title="Weights kept (|μ|/σ ≥ 1)", xlabel="complexity weight λ = log c", ylabel="weights kept")
right.set(title="Validation MSE of the pruned model", xlabel="complexity weight λ = log c",
          ylabel="validation MSE", yscale="log")
left.legend(loc="upper right")
right.legend(loc="upper left")
plt.show()
best = H.validation_loss(sparse[2], sparse[3], H.prune_by_snr(mu_net, sd_net)).argmin()
kept_best = int((H.prune_by_snr(mu_net, sd_net)[best] != 0).sum())
print(f"hypernet, one training run: best validation MSE {H.validation_loss(sparse[2], sparse[3], H.prune_by_snr(mu_net, sd_net))[best]:.3f} "
      f"at λ = {log_c[best]:.1f} with {kept_best} of 20 weights kept (4 matter); noise variance 0.25")

# %% [markdown] slideshow={"slide_type": "notes"}
# Noise precision β = 4 (noise σ = 0.5), prior precision 1. The hypernet is an MLP 1 → 32 → 32 → 40 (means
# and log standard deviations), 1000 Adam steps of 16 random λ ∈ [−1, 5]; its objective is the closed-form
# expectation of the loss under q, so training needs no sampling. Grebenkova et al. do the same for deep
# networks (CIFAR-10 CNNs), where no exact optimum is available.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What to remember
# - A hypernetwork learns the map metaparameter → weights. Differentiating through it gives
#   hypergradients without unrolling training or inverting a Hessian.
# - A **global** best response covers a whole range of $\lambda$; a **local** one needs the sampling width
#   $\sigma$ just right (too small: no slope, too wide: a secant). STNs tune $\sigma$ with an entropy bonus
#   and use a compact layer of about twice the size.
# - STNs cannot tune inner-optimisation metaparameters (learning rate, steps): there is no inner loop.
# - The same idea learns a whole **Pareto front** (if the scalarisation targets rays), **remembers tasks**
#   (an output regulariser), and gives a model for every **complexity** level from one run.
#
# **Links.** Lecture 04 differentiated *through* a short inner loop; here the loop is replaced by a
# learned map; lecture 06 returns to long inner loops where no such map is available. In the course's
# terms: $\lambda$ (penalty, preference, task, complexity) is the metaparameter (the penalty and the
# complexity weight are also hyperparameters of a prior), $\mathbf{w}$ are the parameters, and the
# hypernet's $\varphi$ are parameters of a model of the training procedure itself.
