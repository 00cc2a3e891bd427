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
# # 06 · Gradient-based HPO over long horizons
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mlcourse/mlcourse/HEAD?urlpath=lab/tree/lectures/06_long_horizon_hpo.ipynb)
#
# **A learning-rate schedule for $10^4$ training steps is a hyperparameter we can differentiate. The
# exact gradient needs the whole run in memory; tuning the rate a few steps at a time is cheap. Why does
# the cheap way lose?**

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

import mlcourse
from mlcourse import hpo, memory
from mlcourse.widgets import live, log_slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen
h_nqm, sigma2_nqm = hpo.noisy_quadratic(1000)
sweep = hpo.pretrained_horizon_sweep()  # {H: the horizon-H schedule}, computed once (a few minutes of CPU)
final_loss = {H: hpo.nqm_losses(lrs, h_nqm, sigma2_nqm)[-1] for H, lrs in sweep.items()}
irreducible = 0.5 * float(np.sum(h_nqm * sigma2_nqm))

# %% slideshow={"slide_type": "-"}
fig, ax = plt.subplots(figsize=(10, 3.6))
for H, colour, name in ((1, "C1", "tuned one step at a time (greedy)"), (1000, "C0", "tuned for the final loss")):
    _ = ax.semilogy(np.arange(1, 1001), hpo.nqm_losses(sweep[H], h_nqm, sigma2_nqm), color=colour,
                    label=f"{name}: final {final_loss[H]:.3f}")
ax.set(title="Two learning-rate schedules for the same 1000 steps of SGD", xlabel="training step t",
       ylabel="expected loss (log scale)")
ax.legend(loc="upper right")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The puzzle: the greedy schedule is ahead for the first few hundred steps, then finishes about 20 times
# worse. The full-horizon schedule even lets the loss climb by orders of magnitude at first: its early
# rates sit at the stability edge 2/h_max, which trains every flat direction fast while the sharpest one
# only collects noise, and the final windows remove that noise. Only the final loss counts. Same problem, same number of steps, both schedules "optimal" for what they were asked. The
# lecture: the bilevel problem and its hypergradient; reverse and forward accumulation and what each
# costs; how hypergradients degrade over long horizons (shown on a network, not asserted); why short
# horizons are biased (the noisy quadratic, with a widget on the horizon); hyperparameter sharing;
# truncation, evolution strategies, implicit differentiation and reversible learning.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Hyperparameter optimisation as a bilevel problem
# $$\lambda^* = \arg\min_\lambda \; \mathcal{L}_{val}\big(\theta_T(\lambda)\big)
# \quad\text{s.t.}\quad \theta_{t+1} = \Phi\big(\theta_t, \nabla\mathcal{L}_{train}(\theta_t), \lambda\big),
# \; t = 0, \dots, T-1 .$$
# The **outer loop** changes the hyperparameters $\lambda$; the **inner loop** is $T$ steps of an
# optimiser $\Phi$. What we want is the **hypergradient** $d\mathcal{L}_{val}(\theta_T)/d\lambda$.
# MAML (lecture 04) needs $T \approx 5$ inner steps; training a CIFAR-10 network needs $T \sim 10^4$.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Our inner loop
# SGD with momentum $\mu = 0.9$ on a 10-dimensional least-squares problem (train and validation split),
# $$v_{t+1} = \mu v_t + \nabla\mathcal{L}_{train}(\theta_t), \qquad \theta_{t+1} = \theta_t - \alpha_t v_{t+1},$$
# with a learning-rate schedule **shared over $W$ contiguous windows**: $\alpha_t = e^{\lambda_{w(t)}}$,
# $w(t) = \lfloor tW/T \rfloor$. So $\lambda \in \mathbb{R}^W$ are log learning rates.

# %% slideshow={"slide_type": "subslide"}
problem = hpo.make_problem(device=device)
T = 200
lam = torch.log(torch.tensor([0.05, 0.03, 0.02, 0.01], dtype=torch.float64, device=problem.theta0.device))
alphas = hpo.lr_schedule(lam, T).cpu()
fig, ax = plt.subplots(figsize=(6.4, 2.6))
_ = ax.step(np.arange(T), alphas, where="post")
ax.set(title="A schedule with W = 4 shared learning rates", xlabel="inner step t", ylabel=r"$\alpha_t$")
plt.show()
print(f"validation loss at θ_0: {float(problem.val_loss(problem.theta0)):.3f}, "
      f"after T = {T} steps: {float(hpo.validation_loss(problem, lam, T)):.4f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Two ways through the chain rule
# $\theta_T$ depends on $\lambda$ through every step, so $d\mathcal{L}_{val}/d\lambda$ is a chain of $T$
# Jacobians. **Reverse mode** (backpropagation through time) runs the loop, keeps every state, and
# multiplies from the loss backwards: one pass for all hyperparameters, memory $O(T)$. **Forward mode**
# multiplies from $\lambda$ forwards, carrying $Z_t = d\theta_t/d\lambda$ with the state: nothing of size $T$
# is kept, but there is one tangent per hyperparameter.

# %% slideshow={"slide_type": "-"}
fig = hpo.accumulation_figure()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Forward mode for SGD with momentum
# Differentiate the update itself (Franceschi et al. 2017). With $Z_t = d\theta_t/d\lambda$,
# $U_t = dv_t/d\lambda$ (one row per hyperparameter) and $H_t = \nabla^2\mathcal{L}_{train}(\theta_t)$:
# $$U_{t+1} = \mu U_t + Z_t H_t, \qquad
# Z_{t+1} = Z_t - \alpha_t U_{t+1} - \frac{\partial\alpha_t}{\partial\lambda}\, v_{t+1}^\top,
# \qquad \frac{d\mathcal{L}_{val}}{d\lambda} = Z_T\, \nabla\mathcal{L}_{val}(\theta_T).$$

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Three hypergradients, one answer
# Reverse mode, forward mode and central finite differences (float64, $T = 200$, $W = 4$).

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
rev = hpo.hypergradient_reverse(problem, lam, T)
fwd = hpo.hypergradient_forward(problem, lam, T)
fd = hpo.hypergradient_fd(problem, lam, T)
print("dL_val/dλ (reverse):", np.array2string(rev.cpu().numpy(), precision=4))
print(f"relative gap, forward vs reverse: {float((fwd - rev).norm() / rev.norm()):.1e}; "
      f"finite differences vs reverse: {float((fd - rev).norm() / rev.norm()):.1e}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Memory against the horizon
# What reverse mode keeps, measured two ways for one hypergradient: the **tensor storage** PyTorch
# allocates (the profiler's count; what a GPU must hold) and the **heap memory** the process holds while
# the autograd graph is alive (everything: tensors and the graph's own bookkeeping, one C++ node per
# operation). Forward mode holds nothing that grows.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
horizons = np.array([250, 500, 1000, 2000])
graph = np.array([memory.heap_growth(lambda: hpo.validation_loss(problem, lam.clone().requires_grad_(), int(t)))
                  for t in horizons]) / 1e6
tangents = np.array([memory.heap_growth(lambda: hpo.hypergradient_forward(problem, lam, int(t)))
                     for t in horizons]) / 1e6
tensors = np.array([hpo.hypergradient_memory("reverse", int(t), device="cpu") for t in horizons]) / 1e6
fig, ax = plt.subplots(figsize=(10, 3.3))
_ = ax.plot(horizons, graph, "o-", label="reverse mode: heap memory (what the machine holds)")
_ = ax.plot(horizons, tensors, "s-", label="reverse mode: tensor storage only")
_ = ax.plot(horizons, tangents, "^-", label="forward mode: heap memory")
ax.set(title="Memory held for one hypergradient", xlabel="inner steps T", ylabel="memory (MB)")
ax.legend(loc="upper left", fontsize=10)
plt.show()
per_step = np.polyfit(horizons, graph, 1)[0] * 1e6
print(f"reverse mode: +{per_step / 1e3:.1f} kB per inner step in total, of which "
      f"{np.polyfit(horizons, tensors, 1)[0] * 1e6:.0f} B are tensors; forward mode: "
      f"{tangents.max() * 1e3:.1f} kB at most")

# %% [markdown] slideshow={"slide_type": "-"}
# Here the graph's bookkeeping dominates (10 weights per step); for a large network the tensors do
# (lecture 04's arithmetic: a copy of the weights and activations per step).

# %% [markdown] slideshow={"slide_type": "notes"}
# The heap reading uses glibc's malloc statistics (bytes in use), which are exact and ignore memory the
# allocator keeps cached; on systems without glibc the resident set size is used and the numbers are
# noisier. The first reading of a session includes one-off allocations, so we start at T = 250.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Gradient degradation on a quadratic: vanishing and exploding
# The hypergradient is a sum of products of step Jacobians $I - \alpha_t H$. On our quadratic they are
# constant, so the products shrink or grow geometrically:
# - $\alpha = 1$ converges within a few dozen steps; after that $\theta_T$ sits at the optimum *whatever* the
#   rate, and the hypergradient **vanishes**;
# - $\alpha = 0.05$ is still far from converged at $T = 400$: the hypergradient stays sizeable;
# - $\alpha = 3.4$ is just inside the edge of stability: the products grow by orders of magnitude before
#   they decay, and the hypergradient **explodes**.

# %% slideshow={"slide_type": "subslide"}
Ts = np.unique(np.geomspace(2, 400, 16).astype(int))
fig, ax = plt.subplots()
for rate in (0.05, 1.0, 3.4):
    one = torch.tensor([math.log(rate)], dtype=torch.float64, device=problem.theta0.device)
    sizes = [float(hpo.hypergradient_forward(problem, one, int(t)).abs()) for t in Ts]
    _ = ax.loglog(Ts, sizes, "o-", label=f"α = {rate}")
ax.set(title="Hypergradient size against the horizon (one shared rate)", xlabel="inner steps T",
       ylabel=r"$|d\mathcal{L}_{val}/d\lambda|$")
_ = ax.legend(loc="lower left")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# With mu = 0.9, heavy-ball SGD is stable on a quadratic while alpha * h_max < 2(1 + mu) = 3.8; here
# h_max ≈ 1.08, so alpha = 3.4 (edge ≈ 3.5) is just inside. A quadratic cannot do worse than this: its
# dynamics are linear, so the hypergradient is a smooth function of the rate.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Gradient degradation on a network: chaos
# Replace the quadratic by a small network: $f(x) = \tanh(xW_1^\top + b_1)W_2^\top + b_2$ with 8 hidden units,
# fitted to 16 noisy points of $\sin 2x$ by $T$ steps of gradient descent with rate $\alpha = e^\lambda$. Below
# the edge of stability the final validation loss is a smooth function of $\alpha$. Beyond it, gradient
# descent no longer settles smoothly but still ends at a low loss, and that loss becomes a **rugged**
# function of $\alpha$: the exact hypergradient jumps by orders of magnitude and flips sign between
# neighbouring rates.

# %% slideshow={"slide_type": "subslide"}
net_problem = hpo.tanh_regression(device=device)
rates = torch.linspace(math.log(0.05), math.log(1.1), 200, dtype=torch.float64, device=device)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
for T_net, colour in ((10, "C2"), (100, "C1"), (1000, "C0")):
    val, hyper = (t.cpu().numpy() for t in hpo.tanh_unroll(net_problem, rates, T_net))
    ok = np.isfinite(val) & np.isfinite(hyper) & (val < 1)
    _ = left.plot(rates.exp().cpu()[ok], val[ok], color=colour, label=f"T = {T_net}")
    _ = right.plot(rates.exp().cpu()[ok], np.abs(hyper[ok]), color=colour, linewidth=1.2, label=f"T = {T_net}")
left.set(title="Validation loss after T steps", xlabel="learning rate α (log scale)", ylabel="validation MSE",
         xscale="log", yscale="log")
right.set(title="Size of the exact hypergradient", xlabel="learning rate α (log scale)",
          ylabel=r"$|d\mathcal{L}_{val}/d\lambda|$", xscale="log", yscale="log")
left.legend(loc="upper left", fontsize=10)
right.legend(loc="upper left", fontsize=10)
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Runs whose loss exceeds 1 (diverged, or on the way) are left out of the plot. The hypergradient is
# computed by forward mode, by hand (hpo.tanh_unroll carries dθ/dλ next to θ), for all 200 rates at
# once. Metz et al. (2021, "Gradients are not all you need") show the same on learned optimisers and
# physics simulators; lecture 08 zooms into the same edge and finds a fractal.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## … and high variance
# With minibatches of 4 points the hypergradient also depends on which points each step drew. Over 16
# minibatch sequences, its spread relative to its mean:

# %% slideshow={"slide_type": "-"}
print(f"{'rate α':>8}" + "".join(f"{f'T = {t}':>12}" for t in (10, 100, 1000)) + "    (std / |mean| over 16 seeds)")
for rate in (0.1, 0.3):
    ratios = []
    for T_net in (10, 100, 1000):
        _, g = hpo.tanh_unroll(net_problem, torch.full((16,), math.log(rate), dtype=torch.float64, device=device),
                               T_net, batch_size=4, seeds=torch.arange(16))
        ratios.append((g.std() / g.mean().abs()).item())
    print(f"{rate:>8}" + "".join(f"{r:>12.2f}" for r in ratios))

# %% [markdown] slideshow={"slide_type": "-"}
# At $\alpha = 0.1$ averaging over a long run makes the hypergradient *more* reliable; at $\alpha = 0.3$ its
# noise grows with the horizon until the sign of a single estimate means little. Long horizons need
# either many seeds (an ensemble) or another way to average.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Greediness: a short horizon $H \ll T$
# Update $\lambda$ every $H$ inner steps, using the loss after those $H$ steps only.
# - ✓ solves the memory problem of reverse mode (store $H$ steps, not $T$)
# - ✓ avoids gradient degradation (short products)
# - ✓ cheaper: many hyperparameter updates per training run
# - ✗ **optimises the wrong objective**: what is best for the next $H$ steps is not best at step $T$.
#
# Wu, Ren, Liao & Grosse (2018) show this *short-horizon bias* exactly, on a noisy quadratic.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The noisy quadratic: the simplest exact case
# $\mathcal{L} = \tfrac12\sum_i h_i(\theta_i - c_i)^2$ with $c_i \sim \mathcal{N}(0, \sigma_i^2)$ drawn afresh at every
# step: 1000 dimensions, $h_i$ log-spaced in $[10^{-3}, 1]$, $\sigma_i^2 = h_i$, $T = 1000$, and the start
# $\mathbb{E}[\theta_i^2] = 1$. A stochastic gradient is $h_i(\theta_i - c_i)$, so SGD with rate $\alpha$ maps
# $$\mathbb{E}[\theta_i^2] \mapsto (1 - \alpha h_i)^2\,\mathbb{E}[\theta_i^2] + \alpha^2 h_i^2 \sigma_i^2 .$$
# The expected loss is $\tfrac12\sum_i h_i\mathbb{E}[\theta_i^2]$ plus the irreducible $\tfrac12\sum_i h_i\sigma_i^2$,
# which no schedule changes and which we leave out. Everything is a closed-form recursion, no sampling.

# %% slideshow={"slide_type": "-"}
print(f"irreducible term ½ Σ h_i σ_i² = {irreducible:.1f} (left out of every loss below); "
      f"loss at the start: {0.5 * h_nqm.sum():.1f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The **greedy** schedule ($H = 1$) picks each $\alpha_t$ to minimise the next expected loss (in closed form,
# $\alpha_t = \sum h^2 A / \sum h^3 (A + \sigma^2)$ with $A = \mathbb{E}[\theta_t^2]$). We compare it with the best
# **two-stage** schedule (one rate for 500 steps, another for the rest):

# %% slideshow={"slide_type": "-"}
greedy = hpo.greedy_schedule(h_nqm, sigma2_nqm, 1000)
greedy_curve = hpo.nqm_losses(greedy, h_nqm, sigma2_nqm)
best, lr1, lr2 = hpo.best_two_stage(h_nqm, sigma2_nqm, 1000)
two_stage = np.r_[np.full(500, lr1), np.full(500, lr2)]
two_curve = hpo.nqm_losses(two_stage, h_nqm, sigma2_nqm)
fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
_ = a1.semilogy(greedy, label="greedy (H = 1)")
_ = a1.semilogy(two_stage, label="best two-stage")
a1.set(title="Learning-rate schedules", xlabel="step t", ylabel=r"$\alpha_t$")
_ = a2.semilogy(greedy_curve, label="greedy (H = 1)")
_ = a2.semilogy(two_curve, label="best two-stage")
a2.set(title="Expected loss", xlabel="step t", ylabel="loss")
_ = a2.legend(loc="upper right")
plt.show()
print(f"final loss: greedy {greedy_curve[-1]:.3f}, best two-stage {best:.3f} "
      f"({greedy_curve[-1] / best:.1f}× better)")

# %% [markdown] slideshow={"slide_type": "notes"}
# The greedy schedule decays its rate almost at once: a smaller rate always lowers the *next* loss by
# cutting noise, but the low-curvature directions then never get trained. The two-stage schedule here
# switches at T/2 (α1 ≈ 0.97, α2 ≈ 0.012); letting the switch step move too (best near t = 280) gives
# 0.1996, about 9.6× better than greedy. Wu et al. report the same qualitative picture; our numbers are
# for our setting (the paper's NQM uses other curvatures and noise).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try it: the horizon changes the answer
# Between greedy ($H = 1$) and the full horizon ($H = T$): cut the run into blocks of $H$ steps and choose
# each block's rates to minimise the expected loss at the **end of that block**. Every schedule has about
# 20 constant pieces over the run (a short block is one constant rate). Left: the schedule; right: its
# final loss at $T = 1000$ against $H$.

# %% slideshow={"slide_type": "subslide"}
horizon_grid = np.array(sorted(sweep))


def horizon_live(horizon: float = 10.0):
    """The schedule chosen with horizon H (blocks of H steps, each tuned for its own end) and its
    final loss, against greedy and the full horizon (all precomputed: the slider only looks up)."""
    H = int(horizon_grid[np.abs(np.log(horizon_grid) - math.log(horizon)).argmin()])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for key, colour, name in ((1, "#999999", "greedy, H = 1"), (1000, "black", "full horizon, H = 1000"),
                              (H, "C1", f"horizon H = {H}")):
        _ = left.semilogy(np.arange(1000), sweep[key], color=colour, linewidth=2.5 if key == H else 1.2, label=name)
    left.set(title="Learning-rate schedule", xlabel="step t", ylabel=r"$\alpha_t$ (log scale)", ylim=(1e-3, 3))
    left.legend(loc="lower left", fontsize=9)
    _ = right.loglog(horizon_grid, [final_loss[k] for k in horizon_grid], "o-", color="C0")
    _ = right.plot([H], [final_loss[H]], "o", markersize=12, color="C1")
    right.set(title=f"H = {H}: final loss {final_loss[H]:.3f} ({final_loss[H] / final_loss[1000]:.1f}× the full horizon's)",
              xlabel="horizon H (steps)", ylabel="final expected loss")
    return fig


live(horizon_live, background=True, horizon=log_slider("horizon H (steps)", 1, 1000, steps_per_decade=5, fmt=".0f"))

# %% [markdown] slideshow={"slide_type": "notes"}
# Things to try: H = 1 to 10 (the rate collapses within a few steps: short horizons favour noise
# reduction over progress), H = 100 (each block still ends with a decay, so the schedule saw-tooths:
# every block "finishes training" early), H = 1000 (one long block: high rates first, the decay only at the
# end). All schedules are compared at the same resolution (about 20 constant pieces over the run); the
# sweep is computed once (hpo.horizon_sweep, about 3 minutes of CPU) and the slider only looks it up.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Forward mode: the balance sheet
# - ✓ memory constant in the horizon $T$
# - ✓ the **correct** objective ($\mathcal{L}_{val}$ at step $T$, no greediness)
# - ✗ cost and memory scale with the number of hyperparameters (one tangent per $\lambda_j$)
# - ✗ does **not** fix gradient degradation: it is the same derivative, computed in another order.
#
# Micaelli & Storkey (2021) make forward mode practical by keeping the number of hyperparameters
# small: **share** each one over a window of contiguous steps.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Ensemble averaging vs time averaging
# Each seed gives a different, noisy hypergradient. Averaging over an ensemble of seeds is the clean
# fix but costs a training run per member. **Time averaging** is free: sharing $\lambda$ over $W$
# contiguous steps sums their per-step hypergradients. If the per-step hypergradient has noise MSE
# $\text{MSE}_1$ and drifts by at most $\epsilon$ per step,
# $$\text{MSE}_W \le \frac{\text{MSE}_1}{W} + \frac{\epsilon^2 (W^2 - 1)}{12}:$$
# variance shrinks like $1/W$, bias grows like $W^2$.

# %% slideshow={"slide_type": "subslide"}
sigma, eps, W = 0.25, 0.08, 40
sim_none = hpo.simulate_sharing(400, 1, sigma, eps, drift=False)
sim_flat = hpo.simulate_sharing(400, W, sigma, eps, drift=False)
sim_drift = hpo.simulate_sharing(400, W, sigma, eps, drift=True)
bound = hpo.sharing_bound(sigma**2, eps, W)
print(f"no sharing:                 MSE {sim_none:.4f}   (theory {sigma**2:.4f})")
print(f"W = 40, no drift:           MSE {sim_flat:.5f}  (theory {sigma**2 / W:.7f})")
print(f"W = 40, maximal drift:      MSE {sim_drift:.4f}   (bound {bound:.5f}: sharing hurts)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The best window
# Setting $d\,\text{MSE}_W/dW = -\text{MSE}_1/W^2 + \epsilon^2 W/6 = 0$ gives
# $$W^* = \left(\frac{6\,\text{MSE}_1}{\epsilon^2}\right)^{1/3}.$$

# %% slideshow={"slide_type": "-"}
w_star, w_int = hpo.optimal_window(sigma**2, eps)
Wgrid = np.arange(1, 41)
fig, ax = plt.subplots(figsize=(10, 3.2))
_ = ax.semilogy(Wgrid, [hpo.sharing_bound(sigma**2, eps, w) for w in Wgrid], label=r"$\epsilon = 0.08$")
_ = ax.semilogy(Wgrid, [hpo.sharing_bound(sigma**2, 0.005, w) for w in Wgrid], label=r"$\epsilon = 0.005$")
_ = ax.axvline(w_star, color="gray", ls=":")
ax.set(title=r"Sharing bound, $\sigma = 0.25$", xlabel="window W", ylabel=r"bound on MSE$_W$")
_ = ax.legend(loc="upper center")
plt.show()
print(f"W* = {w_star:.2f} (best integer {w_int}) for ε = 0.08;  "
      f"W* = {hpo.optimal_window(sigma**2, 0.005)[0]:.1f} for ε = 0.005")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Truncated backpropagation
# Split the long unroll into slices of $K$ steps; after each slice backpropagate through that slice
# only, update $\lambda$, detach the state and go on.
# - ✓ simple: autograd does everything, memory $O(K)$
# - ✗ **biased**: the influence of $\lambda$ on the state the slice started from is dropped, so
#   long-range dependencies are invisible; $K$ trades correctness for memory.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Influence balancing: truncation goes the wrong way
# Vicol, Metz & Sohl-Dickstein (2021), after Tallec & Ollivier (2017): a linear system of $n = 23$ units,
# $$s_{t+1} = A s_t + \theta\, b, \qquad A = \tfrac12(I + S), \qquad b = (\underbrace{+1, \dots, +1}_{10},
# \underbrace{-1, \dots, -1}_{13}), \qquad \text{loss } \tfrac12\big(s_t[0] - 1\big)^2,$$
# where $S$ shifts the state by one unit ($(Ss)[i] = s[i+1]$), the state starts at all ones and $\theta_0 = 0.5$.
# One step after $\theta$ moves, only the *positive* input $b_0$ has reached $s[0]$; in the long run all 23
# inputs arrive, 13 negative against 10 positive, and the optimum is $\theta^* = -1/6$. With slices of
# $K = 1$ step, truncated backpropagation sees only the short-term sign.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Evolution strategies
# Estimate the gradient from loss values alone: perturb, evaluate, weight by the perturbation,
# $$\hat g = \frac{1}{N\sigma^2}\sum_{i=1}^{N} \epsilon_i\, \mathcal{L}(\theta + \epsilon_i), \qquad \epsilon_i \sim \mathcal{N}(0, \sigma^2)$$
# (antithetic pairs $\pm\epsilon_i$ cut the variance). The classic variant keeps the best particles and
# refits their mean and variance (CMA-ES style).
# - ✓ constant memory ✓ parallel over particles ✓ inner steps need not be differentiable
# - ✗ struggles in high dimensions and on complex loss surfaces (variance grows with $\dim\theta$)
#
# Run over truncated slices, ES is as biased as truncated backpropagation. **Persistent ES** (PES) keeps
# each particle's own inner state and accumulates its perturbations $\xi_i = \sum_\tau \epsilon_i^{(\tau)}$,
# using $\xi_i$ in place of $\epsilon_i$: unbiased for the whole unroll, still constant memory.

# %% slideshow={"slide_type": "subslide"}
ib = hpo.influence_balancing(device=device)
paths = {
    "truncated backprop (K = 1)": hpo.train_truncated(ib, K=1, steps=3000),
    "ES (K = 1)": hpo.train_es(ib, persistent=False, K=1, steps=3000, n_particles=200),
    "persistent ES (K = 1)": hpo.train_es(ib, persistent=True, K=1, steps=3000),
}
tb, es, pes = paths.values()
fig, ax = plt.subplots()
for (name, path), style in zip(paths.items(), ["-", "--", "-"]):
    _ = ax.plot(path, style, label=name)
_ = ax.axhline(ib.optimum, color="gray", ls=":", label=r"$\theta^* = -1/6$")
ax.set(title="Influence balancing: outer steps (rate 1e-4)", xlabel="outer step", ylabel=r"$\theta$")
_ = ax.legend(loc="center right")
plt.show()
print(f"θ after 3000 steps: truncated {tb[-1]:.2f}, ES {es[-1]:.2f}, PES {pes[-1]:.4f} (θ* = {ib.optimum:.4f})")

# %% [markdown] slideshow={"slide_type": "notes"}
# Setting of Vicol et al.'s code: SGD with rate 1e-4, σ = 0.1, 1000 PES particles (200 for ES here: it is
# only there to show the bias, and its trajectory barely depends on N). The dashed ES curve lies on top
# of the truncated-backprop one: with K = 1 both estimate the same short-term derivative.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Implicit differentiation
# If the inner loop converges, $\theta^*(\lambda)$ satisfies $\nabla_\theta\mathcal{L}_{train}(\theta^*, \lambda) = 0$,
# and the implicit function theorem gives the hypergradient without unrolling at all
# (Lorraine, Vicol & Duvenaud 2020):
# $$\frac{d\mathcal{L}_{val}}{d\lambda} = -\,\frac{\partial^2\mathcal{L}_{train}}{\partial\lambda\,\partial\theta}^{\!\top}
# \Big[\nabla^2_\theta\mathcal{L}_{train}\Big]^{-1}\nabla_\theta\mathcal{L}_{val}(\theta^*).$$
# The inverse-Hessian-vector product comes from conjugate gradients or a **Neumann series**
# $H^{-1}v \approx \alpha\sum_{k=0}^{K}(I - \alpha H)^k v$, whose relative error is at most
# $(1 - \alpha\lambda_{min})^{K+1}$ (for $\alpha = 2/(\lambda_{min} + \lambda_{max})$).

# %% slideshow={"slide_type": "subslide"}
ridge = hpo.make_ridge(n=20, d=50, device=device)
log_lam = torch.tensor(0.0, dtype=torch.float64, device=ridge.x_train.device)
H = ridge.hessian(log_lam)
eig = torch.linalg.eigvalsh(H)
step = 2 / float(eig[0] + eig[-1])
v = torch.func.grad(ridge.val_loss)(hpo.ridge_solution(ridge, log_lam))
exact_ihvp = torch.linalg.solve(H, v)
exact = float(hpo.hypergradient_ift(ridge, log_lam))
Ks = np.arange(0, 61, 5)
ihvp_err = [float((hpo.neumann_ihvp(lambda z: H @ z, v, step, int(K)) - exact_ihvp).norm() / exact_ihvp.norm()) for K in Ks]
hyper_err = [abs(float(hpo.hypergradient_ift(ridge, log_lam, K=int(K))) / exact - 1) for K in Ks]
rate = 1 - step * float(eig[0])
fig, ax = plt.subplots()
_ = ax.semilogy(Ks, ihvp_err, "o-", label=r"$H^{-1}v$")
_ = ax.semilogy(Ks, hyper_err, "s-", label="hypergradient")
_ = ax.semilogy(Ks, rate ** (Ks + 1.0), "k:", label=r"$(1 - \alpha\lambda_{min})^{K+1}$")
ax.set(title="Neumann-series IFT on ridge (n = 20, d = 50)", xlabel="Neumann terms K", ylabel="relative error")
_ = ax.legend(loc="lower left")
plt.show()
print(f"1 − αλ_min = {rate:.3f};  hypergradient relative error at K = 50: {hyper_err[10]:.1e}")

# %% [markdown] slideshow={"slide_type": "notes"}
# n = 20 < d = 50, so XᵀX/n is singular and the ridge term e^λ = 1 sets λ_min(H) = 1; λ_max ≈ 7.6. The bound
# is for the vector H⁻¹v; the scalar hypergradient's error is not bounded by it term by term (at K = 0
# it is larger), but it falls at the same geometric rate.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Reversible learning: a memory trick for reverse mode
# Maclaurin, Duvenaud & Adams (2015) run SGD with momentum **backwards** instead of storing it:
# $$\theta_t = \theta_{t+1} + \alpha_t v_{t+1}, \qquad v_t = \big(v_{t+1} - \nabla\mathcal{L}_{train}(\theta_t)\big)/\mu .$$
# The backward pass recomputes each state from the next one, so memory does not grow with $T$.
# The catch: dividing by $\mu < 1$ amplifies rounding errors like $\mu^{-T}$. Momentum *destroys*
# $\log_2(1/\mu)$ bits of information per step; storing exactly those lost bits (exact fixed-point
# arithmetic) makes the reversal exact at a small fraction of the memory of storing every state.

# %% slideshow={"slide_type": "subslide"}
horizons_rev = [50, 100, 200, 400]
naive = [hpo.naive_reverse_error(problem, lam, t) for t in horizons_rev]
state = hpo.reversible_unroll(problem, lam, T)  # θ, v as integers with 48 fractional bits
stored = T * 2 * len(problem.theta0) * 64  # bits to keep every (θ_t, v_t) in float64
print(f"T = {T}: the buffers hold {state.buffer_bits} bits; storing every state takes {stored}"
      f" ({stored / state.buffer_bits:.0f}×); log2(1/μ)·T·d = {T * len(problem.theta0) * math.log2(1 / 0.9):.0f}")
back = hpo.reverse_unroll(problem, lam, T, state)
miss = max(abs(int(q)) for q in list(back.theta) + list(back.v))  # θ_0 = v_0 = 0, in units of 2⁻⁴⁸
rev_g, exact_g = hpo.hypergradient_reversible(problem, lam, T), hpo.hypergradient_reverse(problem, lam, T)
print(f"run backwards exactly: largest |θ_0|, |v_0| reached = {miss} × 2⁻⁴⁸; "
      f"hypergradient vs autograd: relative difference {((rev_g - exact_g).norm() / exact_g.norm()).item():.0e}")

fig, ax = plt.subplots()
_ = ax.semilogy(horizons_rev, naive, "o-", label="float64, run backwards")
_ = ax.semilogy(horizons_rev, [naive[0] * 0.9 ** (horizons_rev[0] - t) for t in horizons_rev], "--", color="gray",
                label="grows like $\\mu^{-T}$")
ax.set(title="Reversing SGD with momentum in floating point", xlabel="horizon T",
       ylabel="error of the recovered start ‖θ̂₀ − θ₀‖ + ‖v̂₀‖")
_ = ax.legend(loc="upper left")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where hypergradients over long horizons are used
# - **learning-rate schedules** and other optimiser hyperparameters (this lecture; Micaelli & Storkey 2021)
# - **dataset distillation**: learn a small synthetic training set (Wang et al. 2018; gradient matching)
# - **data augmentation** policies and augmentation networks (Lorraine et al. 2020)
# - **architecture** search by gradient (e.g. DARTS)
# - **optimizer learning**: learned optimizers trained over long unrolls with PES (lecture 07)
# - regularisers, loss functions and initialisations (MAML, lecture 04)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The methods side by side
# | method | memory in $T$ | objective | noise / bias |
# |---|---|---|---|
# | reverse mode (BPTT) | $O(T)$ | exact | degrades for long $T$ |
# | reversible learning | $T d \log_2(1/\mu)$ bits | exact | needs exact (fixed-point) arithmetic |
# | greedy, horizon $H$ | $O(H)$ | wrong (short-horizon bias) | low |
# | forward mode | $O(1)$, $\times$ #hyperparameters | exact | degrades; sharing helps |
# | truncated backprop | $O(K)$ | biased | low |
# | ES / persistent ES | $O(1)$ | smoothed; PES unbiased | high variance |
# | implicit (IFT) | $O(1)$ | exact at convergence | Neumann/CG error |

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What to remember
# - A hypergradient through $T$ steps is a chain of $T$ Jacobians: reverse mode stores the run (memory
#   $\propto T$), forward mode carries one tangent per hyperparameter.
# - Long chains degrade: they vanish or explode on a quadratic, turn **chaotic** on a network near the
#   edge of stability, and grow noisy with minibatches.
# - Short horizons are cheap but optimise the wrong objective: greedy ends about 20× worse here.
# - Sharing over $W$ steps trades variance for bias; truncation is biased, persistent ES is not.
#
# **Links.** Lecture 04 differentiated through five inner steps; 05 replaced the inner loop by a
# hypernetwork; 07 tunes without gradients and learns optimisers; 08 zooms into the chaotic edge.
# The learning-rate schedule is a metaparameter of the inner optimisation; its hypergradient turns
# tuning it into one more gradient-based optimisation.
