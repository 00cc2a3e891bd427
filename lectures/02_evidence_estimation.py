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
# # 02 · Evidence estimation during gradient descent
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mlcourse/mlcourse/HEAD?urlpath=lab/tree/lectures/02_evidence_estimation.ipynb)
#
# Gradient descent from a random start does not return one point: over many starts it returns a
# distribution. We follow that distribution's entropy step by step and get a lower bound on the
# evidence at every step — the bound peaks where overfitting starts, with no validation set needed
# (Maclaurin, Duvenaud & Adams 2016, *Early stopping as nonparametric variational inference*).

# %% slideshow={"slide_type": "skip"} tags=["colab", "remove-cell"]
# On Google Colab only: install the course into this runtime (Colab's GPU is used when present).
import os
import sys

if "google.colab" in sys.modules:
    import subprocess

    source = os.environ.get("MLCOURSE_SOURCE", "git+https://github.com/mlcourse/mlcourse@main")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"mlcourse @ {source}"], check=True)

# %% slideshow={"slide_type": "skip"}
import functools
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch

import mlcourse
from mlcourse import evidence as ev
from mlcourse import hyperparams as hp
from mlcourse.widgets import live, slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Gradient descent moves a cloud of points
# Draw the starting point at random, $w_0 \sim q^0$, and apply the same update to every draw,
# $$w_{t+1} = T(w_t) = w_t - \eta \nabla L(w_t), \qquad L(w) = -\log p(w, \mathcal D).$$
# After $t$ steps the draws follow some distribution $q^t$: the *push-forward* of $q^0$ by $t$ steps.
# It has no formula, but it is a distribution over weights, so it has an evidence lower bound:
# $$\log p(\mathcal D) \;\ge\; \mathbb E_{q^t}\!\left[\log p(w, \mathcal D)\right] + S(q^t).$$
# The first term is easy to estimate: average $\log p(w_t^g, \mathcal D)$ over $r$ parallel runs
# $g = 1\dots r$. The entropy $S(q^t)$ is the hard part.

# %% [markdown] slideshow={"slide_type": "notes"}
# The learning rate here is not a metaparameter in the usual sense: it shapes q^t, the approximate
# posterior, so it changes the value of the bound (lecture 01's "GD as variational inference" view).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How one step changes the entropy
# If $T$ is a bijection, change of variables gives $q^{t+1}(T(w)) = q^t(w)\,/\,|\det J(w)|$ with the
# Jacobian $J = \partial T / \partial w = I - \eta H$, $H = \nabla^2 L$. Then
# $$S(q^{t+1}) = -\mathbb E_{q^t}\log q^{t+1}(T(w)) = S(q^t) + \mathbb E_{q^t} \log\left|\det(I - \eta H(w))\right|.$$
# Summing the steps, the bound at step $t$ is
# $$\log p(\mathcal D) \;\ge\; \mathbb E_{q^t}[\log p(w_t, \mathcal D)] + S(q^0) + \sum_{b<t} \mathbb E\log|\det(I - \eta H(w_b))|.$$
# The entropy only falls when $H$ is positive: GD concentrates the cloud, and concentration costs.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Two expansions of $\log|\det(I - \eta H)|$
# With eigenvalues $\lambda_i$ of $H$, $\log|\det(I-\eta H)| = \sum_i \log|1 - \eta\lambda_i|$, exact but it
# needs every eigenvalue. Two cheaper forms:
# - the **Taylor series** $\log(1-x) = -x - x^2/2 - x^3/3 - \dots$ gives
#   $-\eta\operatorname{tr}H - \tfrac{\eta^2}{2}\operatorname{tr}H^2 - \dots$ — neither side of the truth once truncated;
# - the **lower bound** $\log(1-x) \ge -x - x^2$, valid for $x \le 0.684$, gives
#   $$\log|\det(I - \eta H)| \;\ge\; -\eta\operatorname{tr}H - \eta^2\operatorname{tr}(H^2) \quad\text{while } \eta\lambda_{\max} \le 0.684 .$$
#
# The lecture slides (and the authors' code) use the second one: a bound on a bound keeps the ELBO a
# lower bound.

# %% [markdown] slideshow={"slide_type": "notes"}
# Ask the room: the slide formula has beta^2 Tr(HH), not beta^2/2. Typo or choice? It is a choice: the
# full quadratic term makes a *lower* bound, which is what the ELBO needs. 0.684 is where the two
# curves cross: the root of log x = (x - 1) - (x - 1)^2 at x ≈ 0.316.

# %% slideshow={"slide_type": "subslide"}
x = np.linspace(-0.5, 0.95, 300)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # above the limit the bound warns: that is the point
    exact = [ev.logdet_step_exact(np.array([[v]]), 1.0) for v in x]
    bound = [ev.logdet_step_bound(np.array([[v]]), 1.0) for v in x]
fig, ax = plt.subplots()
_ = ax.plot(x, exact, label=r"exact $\log(1-\eta\lambda)$")
_ = ax.plot(x, -x - x**2 / 2, "--", label=r"Taylor, 2 terms: $-\eta\lambda - (\eta\lambda)^2/2$")
_ = ax.plot(x, bound, label=r"bound: $-\eta\lambda - (\eta\lambda)^2$")
_ = ax.axvline(ev.BOUND_LIMIT, color="gray", linewidth=1)
_ = ax.text(ev.BOUND_LIMIT - 0.02, -2.6, f"ηλ = {ev.BOUND_LIMIT:.3f}", ha="right")
ax.set(title="One eigenvalue's share of the entropy change", xlabel=r"$\eta\lambda$",
       ylabel="entropy change (nats)", ylim=(-3, 0.5))
_ = ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Check on lecture 01's regression
# Bayesian linear regression with a degree-9 polynomial, $\alpha = 5\cdot10^{-3}$, $\beta = 11.1$: the loss is
# quadratic, so $H = \alpha I + \beta\Phi^\top\Phi$ is the same at every step. Take $\eta = 0.5/\lambda_{\max}$.

# %% slideshow={"slide_type": "-"}
x_data, t_data = hp.sine_data()
Phi = hp.polynomial_design(x_data, 9)
alpha, beta = 5e-3, 11.1
H = alpha * torch.eye(10, dtype=torch.float64) + beta * Phi.T @ Phi
lr = 0.5 / torch.linalg.eigvalsh(H).max().item()
step_exact, step_bound = ev.logdet_step_exact(H, lr), ev.logdet_step_bound(H, lr)
step_taylor = (-lr * torch.trace(H) - lr**2 / 2 * torch.trace(H @ H)).item()  # the 2-term series
assert abs(step_exact - (-0.82632)) < 1e-5 and abs(step_bound - (-0.88909)) < 1e-5
assert step_bound <= step_exact <= step_taylor  # all ηλ in [0, 0.5]: bound below, series above
print(f"bound  -ηtrH - η²trH²   = {step_bound:.5f}")
print(f"exact  log|det(I - ηH)| = {step_exact:.5f}")
print(f"series -ηtrH - η²trH²/2 = {step_taylor:.5f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Without the eigenvalues: Hutchinson's estimator
# For a random vector $r$ with $\mathbb E[rr^\top] = I$ (random signs, or Gaussian), $\mathbb E[r^\top A r] = \operatorname{tr}A$. So
# $$-\eta\, r^\top H r - \eta^2\, \|Hr\|^2$$
# is an unbiased estimate of the bound from **one Hessian-vector product** $Hr$ — cheap with autodiff,
# even when $H$ has a million rows. The authors write it as $r^\top(-2r + 3Jr - J^2 r)$ with $J = I - \eta H$:
# expand it, it is the same number.

# %% slideshow={"slide_type": "-"}
def H_times(v: torch.Tensor) -> torch.Tensor:
    return H @ v  # a Hessian-vector product; for a network it comes from autodiff, H is never formed


values = ev.logdet_step_estimate(H_times, 10, lr, n_probes=2000, dtype=torch.float64,
                                 generator=torch.Generator().manual_seed(0))
mean, se = values.mean().item(), values.std().item() / len(values) ** 0.5
assert abs(mean - step_bound) < 3 * se
print(f"estimate over {len(values)} probes = {mean:.3f} ± {se:.3f}  (bound {step_bound:.3f})")
print(f"one probe: standard deviation {values.std().item():.2f} — average over runs and steps")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The exact ELBO along gradient descent
# In the linear-Gaussian case every step is the same affine map, so a Gaussian $q^0$ stays Gaussian and the
# ELBO has a closed form at every step. Start from the prior $q^0 = \mathcal N(0, \alpha^{-1} I)$:

# %% slideshow={"slide_type": "-"}
steps = 400
elbo = ev.linear_gaussian_elbo(Phi, t_data, alpha, beta, lr, steps)
peak = int(elbo.argmax())
log_evidence = hp.log_evidence(Phi, t_data, alpha, beta)
assert peak == 117 and abs(elbo[peak].item() - (-165.64)) < 0.01
assert abs(log_evidence - (-15.705)) < 1e-3 and (elbo < log_evidence).all()
print(f"ELBO peak {elbo[peak].item():.2f} at step {peak}; exact log evidence {log_evidence:.3f}")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
k = np.arange(steps + 1)
_ = ax.plot(k, elbo.numpy(), label="exact ELBO of $q^t$")
_ = ax.plot(peak, elbo[peak].item(), "o", label=f"peak: step {peak}")
_ = ax.axhline(log_evidence, color="gray", linestyle="--", label=r"$\log p(t\mid\alpha,\beta)$")
ax.set(title="Gradient descent as variational inference (linear-Gaussian)", xlabel="GD step $t$",
       ylabel="nats", ylim=(-500, 50))
_ = ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.9))
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Why it rises, then falls:
# - **rises**: the expected log joint improves as the draws move towards the data;
# - **falls**: each step removes $|\log|\det J||$ = 0.83 nats of entropy. Once the fit stops improving,
#   GD keeps shrinking $q^t$ towards a point, and a point has entropy $-\infty$.
#
# The gap to the true evidence (about 150 nats) is $\mathrm{KL}(q^t \,\|\, p(w\mid\mathcal D))$: GD
# does not minimize that KL, so the best $q^t$ is still far from the posterior. The bound is loose,
# but its *peak* is informative.

# %% [markdown] slideshow={"slide_type": "notes"}
# The eigenbasis matters in practice: propagating the covariance S <- J S J^T directly loses the small
# variances to rounding after ~20 steps and reports a wrong, higher ELBO. The module works per eigenvalue.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The overfitting start on a neural network
# A tanh network $10 \to 50 \to 1$ on scikit-learn's diabetes data (50 training points, 392 held out),
# Gaussian likelihood (σ = 0.5), prior $\mathcal N(0, I)$, starts $q^0 = \mathcal N(0, 0.1^2 I)$.
# `gd_evidence` runs $r$ starts in parallel and, at each step, uses one Hessian-vector product per
# run for the entropy term. Nothing here looks at the held-out points except the plot.

# %% slideshow={"slide_type": "-"}
x_train, y_train, x_held, y_held = ev.diabetes_regression(n_train=50, seed=0, device=device)


@functools.lru_cache(maxsize=16)
def run(lr: float, runs: int, steps: int = 150) -> ev.EvidenceTrace:
    net = torch.nn.Sequential(torch.nn.Linear(10, 50), torch.nn.Tanh(), torch.nn.Linear(50, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the widget reports lr·λ_max itself
        return ev.gd_evidence(net.to(device, torch.float64), x_train, y_train, x_heldout=x_held,
                              y_heldout=y_held, lr=lr, steps=steps, runs=runs, noise_std=0.5,
                              prior_std=1.0, init_std=0.1, seed=0)


trace = run(2e-4, 8)
assert trace.evidence_peak < trace.heldout_peak
assert 2e-4 * trace.curvature.max() < ev.BOUND_LIMIT
held = trace.heldout_loglik.mean(1)
print(f"evidence estimate peaks at step {trace.evidence_peak}, held-out log-likelihood at step {trace.heldout_peak}")
print(f"held-out log-likelihood per point: {held[trace.evidence_peak].item():.3f} at the evidence peak, "
      f"{held.max().item():.3f} at its own peak, {held[-1].item():.3f} at step {len(held) - 1}")
print(f"largest lr·λ_max along the runs: {2e-4 * trace.curvature.max().item():.2f} (bound valid below {ev.BOUND_LIMIT:.3f})")


# %% slideshow={"slide_type": "subslide"}
def explore(lr: float = 2e-4, runs: int = 8):
    """Evidence estimate (mean ± s.e. over runs), training and held-out log-likelihood, peaks marked."""
    trace = run(lr, runs, steps=round(0.03 / lr))  # the same horizon ηt = 0.03 at every rate
    k = np.arange(len(trace.evidence))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    mean, se = trace.evidence.numpy(), trace.evidence_se.numpy()
    _ = left.plot(k, mean, label=f"estimate, r = {runs}")
    _ = left.fill_between(k, mean - 2 * se, mean + 2 * se, alpha=0.25, label="± 2 s.e.")
    _ = left.plot(trace.evidence_peak, mean[trace.evidence_peak], "o", label=f"peak: step {trace.evidence_peak}")
    worst = lr * trace.curvature.max().item()
    status = "bound valid" if worst <= ev.BOUND_LIMIT else "NOT a bound"
    left.set(title=f"Evidence estimate (max lr·λ = {worst:.2f}: {status})", xlabel="GD step", ylabel="nats")
    _ = left.legend(loc="lower right")
    train, held = trace.train_loglik.mean(1).numpy(), trace.heldout_loglik.mean(1).numpy()
    _ = right.plot(k, train, label="training")
    _ = right.plot(k, held, label="held-out")
    _ = right.plot(trace.heldout_peak, held[trace.heldout_peak], "o", label=f"held-out peak: {trace.heldout_peak}")
    _ = right.axvline(trace.evidence_peak, color="gray", linestyle="--", label="evidence peak")
    right.set(title="Log-likelihood per point", xlabel="GD step", ylabel="nats", ylim=(-2.3, -0.6))
    _ = right.legend(loc="lower right")
    return fig


live(explore, background=True, lr=slider("learning rate η", 1e-4, 8e-4, 1e-4, fmt=".1e"),
     runs=slider("runs averaged", 2, 16, 2))

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to try:
# - **lr**: both peaks move together as $1/\eta$ (what matters is $\eta t$, so the widget trains for
#   $0.03/\eta$ steps: the same horizon $\eta t = 0.03$ at every rate); past $\eta \approx 6\cdot10^{-4}$
#   the power iteration reports $\eta\lambda_{\max} > 0.684$ and the curve is no longer a bound.
# - **r**: fewer runs, wider band; the mean does not move, only its standard error.
#
# The evidence estimate peaks earlier than the held-out likelihood (paper, Boston housing: iteration 70
# vs 180). It stops when the entropy each step removes outweighs what the step gains in fit — before
# the held-out fit has stopped improving. Here it stops *too* early: the held-out fit at the evidence
# peak is worse than even at step 150. A loose bound gives a conservative stopping point, not the
# held-out optimum.

# %% [markdown] slideshow={"slide_type": "notes"}
# Training log-likelihood keeps rising the whole time; the evidence estimate turns around early. That
# is the seed's "overfitting start": GD keeps optimizing, the KL to the posterior gets worse.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
# - GD from random starts defines $q^t$; a bijective step changes its entropy by $\log|\det(I - \eta H)|$.
# - $-\eta\operatorname{tr}H - \eta^2\operatorname{tr}H^2$ is a **lower bound** on that change while
#   $\eta\lambda_{\max} \le 0.684$ (the slides' formula); the 2-term Taylor series is not.
# - One Hessian-vector product per run and step gives an unbiased estimate of it.
# - The ELBO rises, then falls: its peak is an early-stopping point found without a validation set
#   (linear-Gaussian: step 117, −165.64 nats, far below the true −15.705).
#
# Code: `mlcourse/evidence.py`; exercises: `exercises/02_evidence_estimation.ipynb`.
