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
# A learning-rate schedule is a hyperparameter we can *differentiate*: the validation loss after $T$
# training steps is a function of it. This lecture computes that hypergradient three ways, measures
# what each costs when $T$ is long, and surveys the escapes: short horizons, forward mode,
# sharing, truncation, evolution strategies, implicit differentiation and reversible learning.

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
from mlcourse import hpo
from mlcourse.widgets import live, slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Hyperparameter optimisation as a bilevel problem
# $$\lambda^* = \arg\min_\lambda \; \mathcal{L}_{val}\big(\theta_T(\lambda)\big)
# \quad\text{s.t.}\quad \theta_{t+1} = \Phi\big(\theta_t, \nabla\mathcal{L}_{train}(\theta_t), \lambda\big),
# \; t = 0, \dots, T-1 .$$
# The **outer loop** changes the hyperparameters $\lambda$; the **inner loop** is $T$ steps of an
# optimiser $\Phi$. What we want is the **hypergradient** $d\mathcal{L}_{val}(\theta_T)/d\lambda$.
# MAML needs $T \approx 5$ inner steps; training a CIFAR-10 network needs $T \sim 10^4$.

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
# ## Reverse mode: backpropagation through the unroll
# Run the $T$ steps forward, keep every $(\theta_t, v_t)$, then backpropagate $\mathcal{L}_{val}(\theta_T)$
# through all of them (BPTT). One backward pass gives the gradient for **all** hyperparameters at once.
# The price is **memory $O(T)$**: every inner step is stored.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Forward mode: carry the tangents
# Differentiate the update itself (Franceschi et al. 2017). With $Z_t = d\theta_t/d\lambda$ and
# $U_t = dv_t/d\lambda$ (one row per hyperparameter) and $H_t = \nabla^2\mathcal{L}_{train}(\theta_t)$:
# $$U_{t+1} = \mu U_t + Z_t H_t, \qquad
# Z_{t+1} = Z_t - \alpha_t U_{t+1} - \frac{\partial\alpha_t}{\partial\lambda}\, v_{t+1}^\top,
# \qquad \frac{d\mathcal{L}_{val}}{d\lambda} = Z_T\, \nabla\mathcal{L}_{val}(\theta_T).$$
# Nothing of size $T$ is kept: **memory is constant in $T$**, but the tangents have one row per
# hyperparameter, so the **cost grows with the number of hyperparameters**.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Three hypergradients, one answer
# Reverse mode, forward mode and central finite differences (float64, $T = 200$, $W = 4$).

# %% slideshow={"slide_type": "-"}
rev = hpo.hypergradient_reverse(problem, lam, T)
fwd = hpo.hypergradient_forward(problem, lam, T)
fd = hpo.hypergradient_fd(problem, lam, T)
gap_fwd = float((fwd - rev).norm() / rev.norm())
gap_fd = float((fd - rev).norm() / rev.norm())
assert gap_fwd < 1e-6 and gap_fd < 1e-6
print("dL_val/dλ (reverse):", np.array2string(rev.cpu().numpy(), precision=4))
print(f"relative gap forward vs reverse < 1e-6: {gap_fwd < 1e-6};  finite differences vs reverse < 1e-6: {gap_fd < 1e-6}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Memory against the horizon
# Peak tensor memory of one hypergradient, measured with `torch.profiler` (CPU) or the CUDA allocator:
# reverse mode grows linearly with $T$, forward mode stays flat.

# %% slideshow={"slide_type": "-"}
horizons = [50, 100, 200, 300, 400]
mem_rev = np.array([hpo.hypergradient_memory("reverse", h, device=device) for h in horizons]) / 1e3
mem_fwd = np.array([hpo.hypergradient_memory("forward", h, device=device) for h in horizons]) / 1e3
slopes = np.diff(mem_rev) / np.diff(horizons)
assert np.all(slopes > 0) and np.ptp(slopes) < 0.1 * slopes.mean() and np.ptp(mem_fwd) < 0.05 * mem_fwd.mean()
fig, ax = plt.subplots()
_ = ax.plot(horizons, mem_rev, "o-", label="reverse mode (BPTT)")
_ = ax.plot(horizons, mem_fwd, "s-", label="forward mode")
ax.set(title="Peak memory of one hypergradient", xlabel="inner steps T", ylabel="peak memory (kB)")
_ = ax.legend()
plt.show()
print("reverse: linear in T; forward: flat")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Gradient degradation
# The hypergradient is a product of $T$ Jacobians of the update. With a small rate the unroll forgets
# $\lambda$ (vanishing); near the edge of stability the product blows up (exploding). On a real
# network the map is nonlinear and can be **chaotic**: tiny changes of $\lambda$ change $\theta_T$
# erratically, and hypergradients have **high variance** across seeds.

# %% slideshow={"slide_type": "subslide"}
Ts = np.unique(np.geomspace(2, 400, 16).astype(int))
fig, ax = plt.subplots()
for rate in (0.05, 1.0, 3.4):
    one = torch.tensor([math.log(rate)], dtype=torch.float64, device=problem.theta0.device)
    sizes = [float(hpo.hypergradient_forward(problem, one, int(t)).abs()) for t in Ts]
    _ = ax.loglog(Ts, sizes, "o-", label=f"α = {rate}")
ax.set(title="Hypergradient size against the horizon (one shared rate)", xlabel="inner steps T",
       ylabel=r"$|d\mathcal{L}_{val}/d\lambda|$")
_ = ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# With mu = 0.9, heavy-ball SGD is stable on a quadratic while alpha * h_max < 2(1 + mu) = 3.8; here
# h_max ≈ 1.08, so alpha = 3.4 (edge ≈ 3.5) is just inside: the hypergradient jumps by orders of magnitude
# within a few steps and then decays erratically. alpha = 1 converges quickly and its hypergradient vanishes;
# alpha = 0.05 is still far from convergence at T = 400, so its hypergradient stays sizeable.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Greediness: a short horizon $H \ll T$
# Update $\lambda$ every $H$ inner steps, using $\mathcal{L}_{val}$ after those $H$ steps only.
# - ✓ solves the memory problem of BPTT (store $H$ steps, not $T$)
# - ✓ avoids gradient degradation (short products)
# - ✓ cheaper: many hyperparameter updates per training run
# - ✗ **optimises the wrong objective**: what is best for the next $H$ steps is not best at step $T$.
#
# Wu, Ren, Liao & Grosse (2018) show this *short-horizon bias* exactly on a noisy quadratic.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The noisy quadratic
# $\mathcal{L} = \tfrac12\sum_i h_i(\theta_i - c_i)^2$ with $c_i \sim \mathcal{N}(0, \sigma_i^2)$: 1000 dimensions,
# $h_i$ log-spaced in $[10^{-3}, 1]$, $\sigma_i^2 = h_i$, $T = 1000$. SGD with rate $\alpha$ maps
# $$\mathbb{E}[\theta_i^2] \mapsto (1 - \alpha h_i)^2\,\mathbb{E}[\theta_i^2] + \alpha^2 h_i^2 \sigma_i^2,$$
# so the expected loss is a closed-form recursion, no sampling. The **greedy** schedule ($H = 1$)
# picks each $\alpha_t$ to minimise the next expected loss.

# %% slideshow={"slide_type": "subslide"}
h, sigma2 = hpo.noisy_quadratic(1000)
greedy = hpo.greedy_schedule(h, sigma2, 1000)
greedy_curve = hpo.nqm_losses(greedy, h, sigma2)
best, lr1, lr2 = hpo.best_two_stage(h, sigma2, 1000)
two_stage = np.r_[np.full(500, lr1), np.full(500, lr2)]
two_curve = hpo.nqm_losses(two_stage, h, sigma2)
assert abs(greedy_curve[-1] - 1.920) < 2e-3 and abs(best - 0.220) < 2e-3
fig, (a1, a2) = plt.subplots(1, 2, figsize=(9.6, 3.6))
_ = a1.semilogy(greedy, label="greedy (H = 1)")
_ = a1.semilogy(two_stage, label="best two-stage")
a1.set(title="Learning-rate schedules", xlabel="step t", ylabel=r"$\alpha_t$")
_ = a2.semilogy(greedy_curve, label="greedy (H = 1)")
_ = a2.semilogy(two_curve, label="best two-stage")
a2.set(title="Expected loss", xlabel="step t", ylabel="loss")
_ = a2.legend()
plt.show()
print(f"final loss: greedy {greedy_curve[-1]:.3f}, best two-stage {best:.3f} "
      f"(≈ {greedy_curve[-1] / best:.1f}× better)")

# %% [markdown] slideshow={"slide_type": "notes"}
# The greedy schedule decays its rate almost at once: a smaller rate always lowers the *next* loss by
# cutting noise, but the low-curvature directions then never get trained. The two-stage schedule here
# switches at T/2 (α1 ≈ 0.97, α2 ≈ 0.012), which is the setting of the reference number 0.220; letting the
# switch step move too (best near t = 280) gives 0.1996, about 9.6× better than greedy.

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
assert abs(sim_none / 0.0625 - 1) < 0.03 and abs(sim_flat / 0.0015625 - 1) < 0.03
assert abs(bound - 0.85436) < 1e-5 and abs(sim_drift / bound - 1) < 0.03
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
fig, ax = plt.subplots()
_ = ax.semilogy(Wgrid, [hpo.sharing_bound(sigma**2, eps, w) for w in Wgrid], label=r"$\epsilon = 0.08$")
_ = ax.semilogy(Wgrid, [hpo.sharing_bound(sigma**2, 0.005, w) for w in Wgrid], label=r"$\epsilon = 0.005$")
_ = ax.axvline(w_star, color="gray", ls=":")
ax.set(title=r"Sharing bound, $\sigma = 0.25$", xlabel="window W", ylabel=r"bound on MSE$_W$")
_ = ax.legend()
plt.show()
print(f"W* = {w_star:.2f} (best integer {w_int}) for ε = 0.08;  "
      f"W* = {hpo.optimal_window(sigma**2, 0.005)[0]:.1f} for ε = 0.005")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try it: horizon and sharing
# Learn a schedule for $T = 100$ steps of minibatch SGD (batch 10) by signed hypergradient steps,
# with the hypergradient taken over a horizon of $H$ steps (greedy when $H < T$), and $n$ shared
# rates (windows of $W = T/n$ steps). Left: the learned schedule, against the full-horizon one.
# Right: the hypergradient's noise per window (std over 8 minibatch seeds / |mean|).

# %% slideshow={"slide_type": "subslide"}
def schedule_live(H: int = 10, n_lrs: int = 4, progress=False):
    """Learned schedule with horizon H and n_lrs shared rates, and its hypergradient noise."""
    T_live = 100
    short = hpo.learn_schedule(problem, T_live, n_lrs, H, meta_steps=8, meta_lr=0.2, progress=progress)
    full = hpo.learn_schedule(problem, T_live, n_lrs, T_live, meta_steps=8, meta_lr=0.2)
    noise = hpo.hypergradient_noise(problem, short, T_live).cpu()  # 8 minibatch seeds, batch 10
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9.6, 3.6))
    _ = a1.step(np.arange(T_live), hpo.lr_schedule(full, T_live).cpu(), where="post", label=f"H = T = {T_live}")
    _ = a1.step(np.arange(T_live), hpo.lr_schedule(short, T_live).cpu(), where="post", label=f"H = {H}")
    loss_s, loss_f = (float(hpo.validation_loss(problem, x, T_live)) for x in (short, full))
    a1.set(title=f"val loss {loss_s:.4f} (H = {H}) vs {loss_f:.4f} (full)", xlabel="step t",
           ylabel=r"$\alpha_t$", yscale="log")
    _ = a1.legend()
    _ = a2.bar(np.arange(n_lrs), noise)
    a2.set(title=f"hypergradient noise, W = {T_live // n_lrs} steps", xlabel="window", ylabel="std / |mean|")
    return fig


live(schedule_live, background=True, H=slider("horizon H (steps)", 5, 100, 5),
     n_lrs=slider("learning rates in the schedule", 1, 20, 1))

# %% [markdown] slideshow={"slide_type": "notes"}
# Things to try: H = 5 vs H = 100 with 4 rates (the greedy schedule is larger early, and ends worse);
# 1 rate vs 20 rates at H = 100 (more rates = fewer steps per window = noisier hypergradients).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Truncated backpropagation
# Split the long unroll into slices of $K$ steps; after each slice backpropagate through that slice
# only, update $\lambda$, detach the state and go on.
# - ✓ simple: autograd does everything, memory $O(K)$
# - ✗ **biased**: the influence of $\lambda$ on the state the slice started from is dropped, so
#   long-range dependencies are invisible; $K$ trades correctness for memory.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Influence balancing: truncation goes the wrong way
# Vicol, Metz & Sohl-Dickstein (2021), after Tallec & Ollivier (2017): a linear system
# $s_{t+1} = A s_t + \theta b$ with $n = 23$ units, loss $\tfrac12(s_t[0] - 1)^2$. One step after $\theta$ moves, only
# a *positive* input has reached $s[0]$; in the long run 13 negative ones outweigh 10 positive ones,
# and the optimum is $\theta^* = -1/6$. With $K = 1$, truncated BPTT sees only the short-term sign.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Evolution strategies
# Estimate the gradient from loss values alone: perturb, evaluate, weight by the perturbation,
# $$\hat g = \frac{1}{N\sigma^2}\sum_{i=1}^{N} \epsilon_i\, \mathcal{L}(\theta + \epsilon_i), \qquad \epsilon_i \sim \mathcal{N}(0, \sigma^2)$$
# (antithetic pairs $\pm\epsilon_i$ cut the variance). The classic variant keeps the best particles and
# refits their mean and variance (CMA-ES style).
# - ✓ constant memory ✓ parallel over particles ✓ inner steps need not be differentiable
# - ✗ struggles in high dimensions and on complex loss surfaces (variance grows with $\dim\theta$)
#
# Run over truncated slices, ES is as biased as truncated BPTT. **Persistent ES** (PES) keeps each
# particle's own inner state and accumulates its perturbations $\xi_i = \sum_\tau \epsilon_i^{(\tau)}$,
# using $\xi_i$ in place of $\epsilon_i$: unbiased for the whole unroll, still constant memory.

# %% slideshow={"slide_type": "subslide"}
ib = hpo.influence_balancing(device=device)
paths = {
    "truncated BPTT (K = 1)": hpo.train_truncated(ib, K=1, steps=3000),
    "ES (K = 1)": hpo.train_es(ib, persistent=False, K=1, steps=3000, n_particles=200),
    "persistent ES (K = 1)": hpo.train_es(ib, persistent=True, K=1, steps=3000),
}
tb, es, pes = paths.values()
assert tb[-1] > tb[0] + 1 and es[-1] > es[0] + 1 and abs(pes[-1] - ib.optimum) < 0.01
fig, ax = plt.subplots()
for (name, path), style in zip(paths.items(), ["-", "--", "-"]):
    _ = ax.plot(path, style, label=name)
_ = ax.axhline(ib.optimum, color="gray", ls=":", label=r"$\theta^* = -1/6$")
ax.set(title="Influence balancing: outer steps (lr 1e-4)", xlabel="outer step", ylabel=r"$\theta$")
_ = ax.legend()
plt.show()
print(f"θ after 3000 steps: truncated {tb[-1]:.2f}, ES {es[-1]:.2f}, PES {pes[-1]:.4f} (θ* = {ib.optimum:.4f})")

# %% [markdown] slideshow={"slide_type": "notes"}
# Setting of Vicol et al.'s code: A = ½(I + upper shift), 10 positive and 13 negative inputs, state starts
# at ones, θ0 = 0.5, SGD with lr 1e-4, σ = 0.1, 1000 PES particles (200 for ES here: it is only there to
# show the bias, and its trajectory barely depends on N). The dashed ES curve lies on top of the truncated-BPTT one:
# with K = 1 both estimate the same short-term derivative.

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
assert all(e <= rate ** (K + 1) + 1e-15 for e, K in zip(ihvp_err, Ks))
assert hyper_err[list(Ks).index(50)] < 1e-5
fig, ax = plt.subplots()
_ = ax.semilogy(Ks, ihvp_err, "o-", label=r"$H^{-1}v$")
_ = ax.semilogy(Ks, hyper_err, "s-", label="hypergradient")
_ = ax.semilogy(Ks, rate ** (Ks + 1.0), "k:", label=r"$(1 - \alpha\lambda_{min})^{K+1}$")
ax.set(title="Neumann-series IFT on ridge (n = 20, d = 50)", xlabel="Neumann terms K", ylabel="relative error")
_ = ax.legend()
plt.show()
print(f"1 − αλ_min = {rate:.3f};  hypergradient relative error at K = 50 below 1e-5: {hyper_err[10] < 1e-5}")

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
horizons = [50, 100, 200, 400]
naive = [hpo.naive_reverse_error(problem, lam, t) for t in horizons]
state = hpo.reversible_unroll(problem, lam, T)  # θ, v as integers with 48 fractional bits
stored = T * 2 * len(problem.theta0) * 64  # bits to keep every (θ_t, v_t) in float64
print(f"T = {T}: the buffers hold {state.buffer_bits} bits; storing every state takes {stored}"
      f" ({stored / state.buffer_bits:.0f}×); log2(1/μ)·T·d = {T * len(problem.theta0) * math.log2(1 / 0.9):.0f}")
back = hpo.reverse_unroll(problem, lam, T, state)
zero = [0] * len(problem.theta0)
assert back.theta == zero and back.v == zero  # θ_0 = 0, v_0 = 0, bit for bit
rev_g, exact_g = hpo.hypergradient_reversible(problem, lam, T), hpo.hypergradient_reverse(problem, lam, T)
print(f"run backwards exactly: θ_0 and v_0 recovered bit for bit; hypergradient vs autograd: "
      f"relative difference {((rev_g - exact_g).norm() / exact_g.norm()).item():.1e}")

fig, ax = plt.subplots()
_ = ax.semilogy(horizons, naive, "o-", label="float64, run backwards")
_ = ax.semilogy(horizons, [naive[0] * 0.9 ** (horizons[0] - t) for t in horizons], "--", color="gray",
                label="grows like $\\mu^{-T}$")
ax.set(title="Reversing SGD with momentum in floating point", xlabel="horizon T",
       ylabel="error of the recovered start ‖θ̂₀ − θ₀‖ + ‖v̂₀‖")
_ = ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where hypergradients over long horizons are used
# - **learning-rate schedules** and other optimiser hyperparameters (this lecture; Micaelli & Storkey 2021)
# - **dataset distillation**: learn a small synthetic training set (Wang et al. 2018; gradient matching)
# - **data augmentation** policies and augmentation networks (Lorraine et al. 2020)
# - **architecture** search by gradient (e.g. DARTS)
# - **optimizer learning**: learned optimizers trained over long unrolls with PES
# - regularisers, loss functions and initialisations (MAML, lecture 04)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Take-aways
# | method | memory in $T$ | objective | noise / bias |
# |---|---|---|---|
# | reverse mode (BPTT) | $O(T)$ | exact | degrades for long $T$ |
# | reversible learning | $T d \log_2(1/\mu)$ bits | exact | needs exact (fixed-point) arithmetic |
# | greedy, horizon $H$ | $O(H)$ | wrong (short-horizon bias) | low |
# | forward mode | $O(1)$, $\times$ #hyperparameters | exact | degrades; sharing helps |
# | truncated BPTT | $O(K)$ | biased | low |
# | ES / persistent ES | $O(1)$ | smoothed; PES unbiased | high variance |
# | implicit (IFT) | $O(1)$ | exact at convergence | Neumann/CG error |
#
# Sharing hyperparameters over windows of $W^* = (6\,\text{MSE}_1/\epsilon^2)^{1/3}$ steps trades
# variance for bias at the best rate.
