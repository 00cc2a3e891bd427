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
# A hypernetwork is a network whose output is the weights of another network. Fed a metaparameter, it
# learns the whole map "metaparameter → trained weights" at once. We use it four ways: to tune a ridge
# penalty against the exact answer, as the compact layer of Self-Tuning Networks, to learn a whole
# Pareto front, and to remember tasks in continual learning.

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
from mlcourse.widgets import live, slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen
problem = H.ridge_problem(n=20, d=50, noise=1.0, seed=0, device=device)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Definition
# Let $\Lambda$ be a set of metaparameters (penalties, preferences, task identities …). A
# **hypernetwork** is a parametric map
# $$G : \Lambda \times \mathbb{R}^u \to \mathbb{R}^n, \qquad (\lambda, \varphi) \mapsto \mathbf{w},$$
# from a metaparameter $\lambda$ and its own parameters $\varphi \in \mathbb{R}^u$ to the $n$ parameters
# $\mathbf{w}$ of a model $f$ (Ha, Dai & Le 2016). Only $\varphi$ is trained; $\mathbf{w}$ is computed.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Tuning as a bilevel problem, and the best response
# $$\lambda^* = \arg\min_\lambda \mathcal{L}_{val}\big(\mathbf{w}^*(\lambda)\big), \qquad
# \mathbf{w}^*(\lambda) = \arg\min_{\mathbf{w}} \mathcal{L}_{train}(\mathbf{w}, \lambda).$$
# The inner solution $\mathbf{w}^*(\lambda)$ is the **best response** to $\lambda$. Its derivative is
# what a gradient step on $\lambda$ needs:
# $$\frac{d\mathcal{L}_{val}}{d\lambda} = \frac{\partial \mathcal{L}_{val}}{\partial \lambda} +
# \frac{\partial \mathcal{L}_{val}}{\partial \mathbf{w}^*}\,\frac{d\mathbf{w}^*}{d\lambda}.$$
# Idea: *learn* $\hat{\mathbf{w}}_\varphi(\lambda) \approx \mathbf{w}^*(\lambda)$ with a hypernetwork, then
# differentiate through it — no retraining from scratch for every $\lambda$.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A problem with an exact best response: ridge regression
# $n = 20$ training points, $d = 50$ features ($d > n$), noise $\sigma = 1$, 20 validation points, and
# $$\mathcal{L}_{train}(\mathbf{w}, \lambda) = \tfrac1n\lVert X\mathbf{w} - \mathbf{y}\rVert^2 + e^{\lambda}\lVert\mathbf{w}\rVert^2
# \quad\Rightarrow\quad \mathbf{w}^*(\lambda) = \big(X^\top X/n + e^{\lambda} I\big)^{-1} X^\top\mathbf{y}/n .$$
# The penalty is parameterised by $\lambda = \log(\text{penalty})$ so that it can range over many orders.

# %% slideshow={"slide_type": "subslide"}
lams = torch.linspace(-8, 4, 1201, dtype=torch.float64, device=device)
exact_curve = H.validation_curve(problem, lams)
exact_argmin = lams[exact_curve.argmin()].item()
assert abs(exact_argmin - 0.28) < 0.02
print(f"exact validation argmin: log λ = {exact_argmin:.2f}, validation MSE {exact_curve.min().item():.3f}")

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
# (Their MNIST experiment penalised the *non-squared* norm $e^{\lambda}\lVert\mathbf{w}\rVert_2$; we keep the
# square, which gives ridge its closed form.)

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
assert curve_gap < 0.05 and abs(hyper_argmin - exact_argmin) < 0.3
print(f"hypernet argmin: log λ = {hyper_argmin:.2f} (exact {exact_argmin:.2f})")
print(f"largest gap to the exact validation curve on [-6, 2]: {curve_gap:.3f}")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
_ = ax.plot(lams.cpu(), exact_curve.cpu(), color="black", label="exact best response $w^*(\\lambda)$")
_ = ax.plot(lams.cpu(), approx_curve.cpu(), linestyle="--", label="hypernet $\\hat w_\\varphi(\\lambda)$")
_ = ax.axvline(exact_argmin, color="gray", linewidth=1)
ax.set(title="Validation loss along the best response", xlabel="$\\log\\lambda$", ylabel="validation MSE",
       ylim=(1.7, 2.4))
ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Second loop: gradient descent on $\hat\lambda$ alone, through the frozen hypernet, from $\hat\lambda = -4$.
# Each step costs one forward and backward pass of the hypernet — no inner training.

# %% slideshow={"slide_type": "-"}
path = H.tune_lambda(hypernet, problem, -4.0, steps=150, lr=0.1)
assert abs(path[-1].item() - exact_argmin) < 0.3
print(f"λ̂ after 150 steps: {path[-1].item():.2f}  (exact argmin {exact_argmin:.2f})")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try it: slide $\log\lambda$
# Left: the 50 weights the hypernet outputs for this $\lambda$ against the exact best response.
# Right: where this $\lambda$ sits on the validation curve. The hypernet is trained once above; the
# widget only evaluates it.

# %% slideshow={"slide_type": "subslide"}
def best_response_live(log_lam: float = 0.3):
    """The hypernet's weights and validation loss at one λ against the exact best response."""
    lam = torch.tensor([log_lam], dtype=torch.float64, device=device)
    with torch.no_grad():
        w_hat = hypernet(lam)[0].cpu()
    w_star = H.best_response(problem[0], problem[1], lam)[0].cpu()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    order = torch.argsort(w_star)
    _ = left.plot(w_star[order], color="black", label="exact $w^*(\\lambda)$")
    _ = left.plot(w_hat[order], marker=".", linestyle="none", label="hypernet $\\hat w(\\lambda)$")
    left.set(title=f"Weights at log λ = {log_lam:.1f}", xlabel="weight index (sorted by $w^*$)",
             ylabel="weight value")
    left.legend(fontsize=9)
    _ = right.plot(lams.cpu(), exact_curve.cpu(), color="black", label="exact")
    _ = right.plot(lams.cpu(), approx_curve.cpu(), linestyle="--", label="hypernet")
    val = H.validation_curve(problem, lam, hypernet)[0].item()
    _ = right.plot([log_lam], [val], marker="o", color="C1", markersize=9)
    right.set(title=f"Validation MSE here: {val:.3f}", xlabel="$\\log\\lambda$", ylabel="validation MSE",
              ylim=(1.7, 2.4))
    right.legend(fontsize=9)
    return fig


live(best_response_live, log_lam=slider("log penalty λ", -8.0, 4.0, 0.1))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Two obstacles to scaling up (MacKay, Vicol et al. 2019)
# 1. Modelling $\hat{\mathbf{w}}_\varphi(\lambda)$ over the *whole* metaparameter space is intractable for a
#    large network → approximate the best response **locally**, around the current $\hat\lambda$.
# 2. A map $\lambda \mapsto \mathbf{w}$ with millions of outputs is too big → a **compact** layer that only
#    modulates an ordinary layer.
#
# Local best response: alternate
# - $\lambda \sim p(\lambda \mid \hat\lambda, \sigma)$, $\;\varphi \mathrel{-}= \alpha\nabla_\varphi \mathcal{L}_{train}(\hat{\mathbf{w}}_\varphi(\lambda), \lambda)$ — fit around the current value;
# - $\hat\lambda \mathrel{-}= \beta \nabla_{\hat\lambda}\mathcal{L}_{val}(\hat{\mathbf{w}}_\varphi(\hat\lambda))$ — move it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The sampling width $\sigma$
# A local model only needs the right *slope* $d\hat{\mathbf{w}}/d\lambda$ at $\hat\lambda$ — that is what the
# hypergradient uses. We fit an affine-in-$\lambda$ model (the STN layer below) at $\hat\lambda = -2$ with
# $\lambda = \hat\lambda + \sigma\varepsilon$ for three widths, and compare
# $\tfrac{d}{d\lambda}\mathcal{L}_{val}(\hat{\mathbf{w}}(\lambda))$ with the exact hypergradient.

# %% slideshow={"slide_type": "subslide"}
center = -2.0
widths = {"too small": 0.02, "just right": 1.0, "too wide": 4.0}
local = {name: H.train_local_hypernet(problem, center, s, seed=0) for name, s in widths.items()}
exact_hg = H.exact_hypergradient(problem, center)
local_hg = {name: H.approx_hypergradient(lambda l, m=m: H.stn_weights(m, l), problem, center)
            for name, m in local.items()}
assert abs(local_hg["just right"] - exact_hg) < 0.1 * abs(exact_hg)
assert all(abs(local_hg[k] - exact_hg) > 0.5 * abs(exact_hg) for k in ("too small", "too wide"))
print(f"exact hypergradient at log λ = {center}: {exact_hg:+.4f}")
for name, g in local_hg.items():
    print(f"  σ = {widths[name]:<5} ({name:>10}): {g:+.4f}")

# %% slideshow={"slide_type": "subslide"}
near = torch.linspace(center - 4, center + 4, 161, dtype=torch.float64, device=device)
exact_near = H.validation_curve(problem, near).cpu()
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
for ax, (name, model) in zip(axes, local.items()):
    s = widths[name]
    _ = ax.plot(near.cpu(), exact_near, color="black", label="exact $w^*$")
    _ = ax.plot(near.cpu(), H.validation_curve(problem, near, lambda l, m=model: H.stn_weights(m, l)).cpu(),
                linestyle="--", label="local $\\hat w$")
    density = torch.exp(-0.5 * ((near - center) / s) ** 2).cpu()
    _ = ax.fill_between(near.cpu(), 1.6, 1.6 + 0.6 * density / density.max(), color="C2", alpha=0.2,
                        label="$p(\\lambda\\mid\\sigma)$ (scaled)")
    ax.set(title=f"{name}: σ = {s}", xlabel="$\\log\\lambda$", ylim=(1.6, 2.8))
axes[0].set_ylabel("validation MSE")
axes[0].legend(fontsize=8, loc="upper right")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Too small: the fit is right at λ̂ but the slope barely receives a training signal (it is multiplied by
# σε), so after the same number of steps it is still mostly its random start — here the wrong sign.
# Too wide: a straight line cannot follow the curved w*(λ) over ±8 units, so the slope becomes a secant
# (almost flat). In between, the slope — and the hypergradient — match.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The STN compact layer
# $$\hat W_\varphi(\lambda) = W_{elem} + (V\lambda) \odot_{row} W_{hyper}, \qquad
# \hat{\mathbf{b}}_\varphi(\lambda) = \mathbf{b}_{elem} + (C\lambda) \odot \mathbf{b}_{hyper}.$$
# $V\lambda$ has one entry per output unit and scales the corresponding row of $W_{hyper}$. On the
# pre-activations it is an ordinary layer plus a correction:
# $$\hat W(\lambda)\mathbf{x} + \hat{\mathbf{b}}(\lambda) = [W_{elem}\mathbf{x} + \mathbf{b}_{elem}] + (V\lambda)\odot(W_{hyper}\mathbf{x}) + (C\lambda)\odot\mathbf{b}_{hyper}.$$
# About twice the parameters of a plain layer, and each example of a batch can carry its own $\lambda$.

# %% slideshow={"slide_type": "subslide"}
torch.manual_seed(0)
layer = H.STNLinear(in_features=5, out_features=4, n_hyper=3).double()
x = torch.randn(6, 5, dtype=torch.float64)
lam3 = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
with torch.no_grad():
    explicit = layer.elem.weight + torch.diag(layer.V @ lam3) @ layer.hyper.weight  # the formula
    bias = layer.elem.bias + (layer.C @ lam3) * layer.hyper.bias
    gap = (layer(x, lam3) - (x @ explicit.T + bias)).abs().max().item()
assert gap < 1e-12
n_plain = 5 * 4 + 4
n_stn = sum(p.numel() for p in layer.parameters())
print("layer output vs explicit Ŵ(λ)x + b̂(λ): max gap < 1e-12")
print(f"parameters: plain linear {n_plain}, STN layer {n_stn} (2 × {n_plain} + V and C: {n_stn - 2 * n_plain})")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The STN algorithm, with its entropy term
# The perturbation width $\sigma$ is tuned too. Alternate
# - $T_{train}$ steps: $\varepsilon \sim p(\varepsilon\mid\sigma)$, $\;\varphi \leftarrow \varphi - \alpha_1 \partial_\varphi f(\lambda+\varepsilon, \hat{\mathbf{w}}_\varphi(\lambda+\varepsilon))$
# - $T_{val}$ steps: $(\lambda, \sigma) \leftarrow (\lambda, \sigma) - \alpha_{2,3}\, \partial\big[F(\lambda+\varepsilon, \hat{\mathbf{w}}_\varphi(\lambda+\varepsilon)) - \tau\,\mathbb{H}[p(\varepsilon\mid\sigma)]\big]$
#
# ($f$ training, $F$ validation loss.) Without the entropy bonus $\tau\mathbb{H} = \tau\log\sigma + c$ the
# validation loss alone would shrink $\sigma$ to 0 — and a local model trained on no spread has no
# slope (the "too small" panel). The bonus keeps $\sigma$ as large as the validation loss tolerates.

# %% slideshow={"slide_type": "subslide"}
history = H.stn_search(problem, log_lam0=-4.0, sigma0=0.5, tau=1e-3, rounds=300, seed=0)
assert abs(history["log_lam"][-1].item() - exact_argmin) < 0.1
print(f"STN: λ̂ = {history['log_lam'][-1].item():.2f} (exact {exact_argmin:.2f}), "
      f"σ = {history['sigma'][-1].item():.2f}")
fig, ax = plt.subplots()
_ = ax.plot(history["log_lam"], label="$\\hat\\lambda$")
_ = ax.fill_between(np.arange(len(history["log_lam"])), history["log_lam"] - history["sigma"],
                    history["log_lam"] + history["sigma"], alpha=0.25, label="$\\hat\\lambda \\pm \\sigma$")
_ = ax.axhline(exact_argmin, color="black", linewidth=1, linestyle=":", label="exact argmin")
ax.set(title="Self-Tuning Network on ridge: λ and σ tuned jointly", xlabel="round",
       ylabel="$\\log\\lambda$")
ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What STNs can and cannot tune
# **Can**: most regularisation metaparameters — weight decay, dropout rates, continuous
# data-augmentation strengths (hue, contrast …), even discrete ones (number and length of cutout holes)
# through a relaxation.
#
# **Cannot**: metaparameters *of the inner optimisation* — learning rate, momentum, the number of steps.
# The bilevel problem was collapsed into one joint training run: there is no inner training loop whose
# speed or path these would change. $\hat{\mathbf{w}}_\varphi(\lambda)$ is the *result* of training,
# not the process.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Three gradient-based families of hyperparameter optimisation
# | | how $d\mathbf{w}^*/d\lambda$ is obtained | cost |
# |---|---|---|
# | **implicit** | $\partial_\mathbf{w}\mathcal{L}_{train} = 0 \Rightarrow \frac{d\mathbf{w}^*}{d\lambda} = -\big(\partial^2_{\mathbf{w}}\mathcal{L}_{train}\big)^{-1}\partial^2_{\lambda\mathbf{w}}\mathcal{L}_{train}$ | assumes convergence; Hessian solves (CG, Hessian–vector products) |
# | **iterative** | backprop through the unrolled training steps | memory/time grow with the number of steps (lectures 04, 06) |
# | **hypernetwork** | differentiate $\hat{\mathbf{w}}_\varphi(\lambda)$ | no unrolling, no Hessian; discrete/stochastic $\lambda$ possible; approximate |
#
# On ridge the implicit formula is exact: $d\mathbf{w}^*/d\lambda = -(X^\top X/n + e^\lambda I)^{-1} e^\lambda \mathbf{w}^*$.

# %% slideshow={"slide_type": "subslide"}
ift = H.implicit_jacobian(problem[0], problem[1], center)
autograd_jac = torch.autograd.functional.jacobian(
    lambda l: H.best_response(problem[0], problem[1], l), torch.tensor(center, dtype=torch.float64, device=device))
slope_local = (local["just right"].V[0, 0] * local["just right"].hyper.weight[0]).detach()
assert (ift - autograd_jac).abs().max() < 1e-10
cosine = torch.nn.functional.cosine_similarity(slope_local, ift, dim=0).item()
print(f"implicit vs autograd dw*/dλ: max gap < 1e-10; cosine(local STN slope, dw*/dλ) = {cosine:.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Multi-objective optimisation and the Pareto front
# With losses $\boldsymbol\ell = (\ell_1, \dots, \ell_m)$ there is no single best model but a **Pareto
# front** of trade-offs nobody improves on in every loss at once. A preference ray
# $\mathbf{r} \in \Delta^{m-1}$ ($r_j \ge 0, \sum_j r_j = 1$) picks one trade-off.
#
# Toy problem (Lin et al. 2019), $x \in \mathbb{R}^{20}$:
# $$f_1(x) = 1 - e^{-\lVert x - \mathbf{1}/\sqrt{d}\rVert^2}, \qquad f_2(x) = 1 - e^{-\lVert x + \mathbf{1}/\sqrt{d}\rVert^2}.$$
# The Pareto set is the segment $x = t\,\mathbf{1}/\sqrt d$, $t\in[-1,1]$; its front is **concave**.
#
# **Hypervolume**: the area dominated by a set of loss vectors, bounded by a reference point (here
# $(1, 1)$) — larger is better; it rewards both closeness to the front and spread along it.

# %% slideshow={"slide_type": "subslide"}
front = H.pareto_front(100001)
hv_front = H.hypervolume_2d(front, ref=(1.0, 1.0))
rays = H.circle_rays(25, min_angle=0.1)
ray_points = torch.stack([H.ray_front_point(r) for r in rays])
hv_rays = H.hypervolume_2d(ray_points)
assert abs(hv_front - 0.3421) < 5e-4 and abs(hv_rays - 0.3209) < 5e-4
print(f"hypervolume of the true front: {hv_front:.4f}; of 25 exact ray points: {hv_rays:.4f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Pareto HyperNetworks (Navon et al. 2021)
# One hypernet $h_\varphi(\mathbf{r})$ maps a preference ray to model weights (here the point $x$ itself).
# Each step draws rays $\mathbf{r} \sim \mathrm{Dir}(\alpha)$, $\alpha = 0.2$, and descends a scalarised loss:
# - **linear scalarisation** (LS): $\sum_i r_i \ell_i$ — on a concave front its minimisers are only near the
#   two ends;
# - **ray targeting**: EPO (Mahapatra & Rajan 2020) steers to the point with $r_1\ell_1 = r_2\ell_2 = \dots$;
#   we reach the same point with the Chebyshev scalarisation $\max_i r_i \ell_i$.
#
# At test time any ray gives a model — no retraining. Both PHNs: MLP $2 \to 100 \to 100 \to 20$,
# 2000 Adam steps of 16 rays (≈ 3 s each; cached in `mlcourse/data/`, retrain with
# `python -m mlcourse.hypernets` or `H.train_phn(method)`).

# %% slideshow={"slide_type": "subslide"}
phn = {m: H.pretrained_phn(m, device=device) for m in ("ls", "chebyshev")}  # H.train_phn(m), cached
phn_points = {m: H.phn_front(net, rays) for m, net in phn.items()}
hv_phn = {m: H.hypervolume_2d(p) for m, p in phn_points.items()}
assert hv_phn["ls"] < 0.25 and hv_phn["chebyshev"] >= 0.30
print(f"PHN-LS hypervolume {hv_phn['ls']:.2f}, PHN-Chebyshev {hv_phn['chebyshev']:.2f} "
      f"(true front {hv_front:.2f})")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots(figsize=(5.2, 4.6))
_ = ax.plot(front[:, 0], front[:, 1], color="black", linewidth=1, label="true front")
for m, marker in (("ls", "s"), ("chebyshev", "o")):
    _ = ax.scatter(phn_points[m][:, 0], phn_points[m][:, 1], marker=marker, s=22, zorder=3,
                   label=f"PHN-{m} (HV {hv_phn[m]:.2f})")
ax.set(title="25 test rays: linear scalarisation collapses", xlabel="$f_1$", ylabel="$f_2$",
       xlim=(0, 1.02), ylim=(0, 1.02), aspect="equal")
ax.legend(fontsize=9, loc="lower left")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The exact LS minimisers of these 25 rays on the front have hypervolume 0.042: they sit in the last few
# percent of the front next to each end, where the front is slightly convex. The trained PHN-LS is not yet
# there for the central rays (its hypervolume falls with longer training: ≈ 0.28 after 500 steps, 0.19
# after 2000); the syllabus reports ≈ 0.18.

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
assert miss < 1e-3
print(f"after 100 EPO steps every end point is within {miss:.1e} of its ray's front point")

fig, ax = plt.subplots(figsize=(5.2, 4.6))
_ = ax.plot(front[:, 0], front[:, 1], color="black", linewidth=1, label="true front")
for k, (path, r) in enumerate(zip(epo_paths, epo_rays)):
    end = H.ray_front_point(r)
    _ = ax.plot([0, 1.4 * end[0]], [0, 1.4 * end[1]], ":", color=f"C{k}", linewidth=1)  # r₁f₁ = r₂f₂
    _ = ax.plot(path[:, 0], path[:, 1], color=f"C{k}", linewidth=1.5)
    _ = ax.plot(path[-1, 0], path[-1, 1], "o", color=f"C{k}")
_ = ax.plot(*epo_paths[0][0], "k*", markersize=10, label="start")
ax.set(title="EPO search: each path ends where its ray (dotted) meets the front",
       xlabel="$f_1$", ylabel="$f_2$", xlim=(0, 1.02), ylim=(0, 1.02), aspect="equal")
ax.legend(fontsize=9, loc="lower left")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# PHN-EPO (Navon et al. 2021) runs this step for the ray drawn at each hypernet update. On this toy
# the Chebyshev scalarisation aims at the same points with a plain gradient and no LP; EPO also
# constrains the path (while balancing, the worst relative loss may not rise, to first order in the
# step), which matters when the losses start far from the ray.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try it: move the preference ray
# The dashed line is where ray targeting aims ($r_1 f_1 = r_2 f_2$); the markers are the two PHNs'
# answers for this ray.

# %% slideshow={"slide_type": "subslide"}
def preference_live(r1: float = 0.5):
    """The PHNs' Pareto points for the preference ray (r1, 1 − r1)."""
    if not 0 < r1 < 1:
        raise ValueError("r1 must lie strictly between 0 and 1")
    ray = torch.tensor([[r1, 1 - r1]], dtype=torch.float64)
    target = H.ray_front_point(ray[0])
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
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
# Tasks arrive one at a time: $(X^{(1)}, Y^{(1)}), \dots, (X^{(T)}, Y^{(T)})$; a model trained on the
# next task forgets the previous ones. Move the problem one level up: a hypernet maps a learned **task
# embedding** $\mathbf{e}^{(t)}$ to the target network's weights, and must only keep *its outputs for old
# embeddings* fixed — a few numbers per task, no stored data:
# $$\mathcal{L}_{total} = \mathcal{L}_{task}\big(\Theta_h, \mathbf{e}^{(T)}, X^{(T)}, Y^{(T)}\big)
# + \frac{\beta}{T-1}\sum_{t=1}^{T-1}\big\lVert f_h(\mathbf{e}^{(t)}, \Theta_h^*) - f_h(\mathbf{e}^{(t)}, \Theta_h)\big\rVert^2 .$$
# $\Theta_h^*$: the hypernet before task $T$. (The paper adds a look-ahead $\Delta\Theta_h$; we omit it.)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Three 1-D regressions learned in order: $x + 3$ on $[-4,-2]$, $2x^2 - 1$ on $[-1,1]$, $(x-3)^3$ on
# $[2,4]$, 100 noisy points each ($\sigma = 0.05$). Target network 1-10-10-1 (141 weights), hypernet
# $\mathbb{R}^2 \to 100 \to 100 \to 141$, 2000 Adam steps per task at rate $10^{-3}$ (≈ 11 s per run;
# cached, retrain with `H.train_continual(beta)`). Fine-tuning is $\beta = 0$.

# %% slideshow={"slide_type": "subslide"}
# the weights each run's hypernet generates for the three tasks, and its test MSEs (cached)
continual = {beta: H.pretrained_continual(beta, device=device) for beta in (0.0, 0.005)}
final = {beta: after[-1] for beta, (_, after) in continual.items()}
assert final[0.0][0] > 0.1 and max(final[0.005]) < 0.05
print("test MSE after all three tasks   task 1   task 2   task 3")
for beta, mse in final.items():
    print(f"  β = {beta:<5} {'(fine-tuning)' if beta == 0 else '(regularised)':>14}  "
          + "  ".join(f"{m:7.4f}" for m in mse))

# %% [markdown] slideshow={"slide_type": "notes"}
# Paper (von Oswald et al.): 0.0042 / 0.0024 / 0.0061 with the regulariser. Our task-3 network settles on
# an almost straight line through the cubic (MSE 0.0245 ≈ 0.023, the best linear fit of (x − 3)³ on
# [2, 4]): an optimisation plateau of this short run, in both runs. Both runs are identical until task 2
# starts; β changes only what happens to the old tasks. Robustness (11 seeds, CPU): β = 0.005 keeps all
# MSEs < 0.05 in 10; fine-tuning leaves task 1 above 0.1 in 9 (in the other two it wrecks task 2 instead).
# With a 2-10-10 hypernet or Adam at 1e-2 the regulariser failed far more often: the hypernet needs
# room to fit the new task without moving its old outputs.

# %% slideshow={"slide_type": "subslide"}
tests = H.continual_test_sets(device=device)
data = H.continual_tasks(seed=0, device=device)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, (beta, (thetas, _)) in zip(axes, continual.items()):
    for t, ((x, y), (xt, _)) in enumerate(zip(data, tests)):
        _ = ax.scatter(x.cpu()[:, 0], y.cpu()[:, 0], s=6, color="gray")
        _ = ax.plot(xt.cpu()[:, 0], H.main_net(thetas[t], xt).cpu()[:, 0], label=f"task {t + 1}")
    ax.set(title=f"After task 3, β = {beta}" + (" (fine-tuning)" if beta == 0 else ""), xlabel="x",
           ylim=(-2, 2))
axes[0].set_ylabel("y")
axes[0].legend(fontsize=9)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Chunking: a hypernet smaller than its target
# A hypernet whose last layer outputs all $n$ target weights has at least $n \times$ (last hidden
# width) parameters — more than the target network itself. A **chunked** hypernet outputs one chunk
# (e.g. a slice of a layer) at a time, conditioned on the task embedding $\mathbf{e}^{(t)}$ *and* a learned
# chunk embedding $\mathbf{c}^{(k)}$: $(\mathbf{e}^{(t)}, \mathbf{c}^{(k)}) \mapsto$ chunk $k$ of task $t$'s weights.
# Chunk embeddings are shared across tasks; the same small network is reused for every chunk, so the
# hypernet can have *fewer* parameters than the network it generates (von Oswald et al. on permuted
# MNIST, CIFAR).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Complexity control (Grebenkova, Bakhteev & Strijov 2023)
# The metaparameter need not be a penalty, a preference or a task: it can be the model's
# **complexity** itself. A hypernet conditioned on a complexity or pruning level $\lambda$ outputs the
# (variational) parameters of a model for every level at once, trained with $\lambda$ sampled during
# training. Theorem (Grebenkova 2023): such hypernetworks learn not only the best response but the
# statistical properties of the models along $\lambda$, so after one training run one can move
# $\lambda$ — prune more or less, choose a simpler or richer model — without retraining (shown on CIFAR-10
# CNNs).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - A hypernetwork $G(\lambda; \varphi)$ learns the map metaparameter → weights; differentiating through it
#   gives hypergradients without unrolling training or inverting a Hessian.
# - Ridge: a global hypernet reproduces the exact validation curve (gap 0.01) and its argmin.
# - Local best response: the sampling width must be neither too small nor too wide; STNs tune it with an
#   entropy bonus and use a compact layer $W_{elem} + (V\lambda)\odot_{row}W_{hyper}$. They cannot tune
#   inner-optimiser metaparameters such as the learning rate.
# - PHNs learn a whole Pareto front; linear scalarisation collapses on a concave front, ray targeting covers it.
# - Task-conditioned hypernets with an output regulariser remember old tasks; chunking keeps them small.
#
# References: Ha et al. 2016; Lorraine & Duvenaud 2018; MacKay et al. 2019; Lin et al. 2019; Mahapatra &
# Rajan 2020; von Oswald et al. 2020; Navon et al. 2021; Grebenkova et al. 2023.
