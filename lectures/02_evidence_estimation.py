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
# **Can gradient descent tell us when to stop, without a validation set?** Its evidence bound (left)
# peaks at step 117 while the fit keeps improving (right). Why?

# %% slideshow={"slide_type": "skip"} tags=["colab", "remove-cell"]
# On Google Colab only: install the course into this runtime (Colab's GPU is used when present).
import os
import sys

if "google.colab" in sys.modules:
    import subprocess

    source = os.environ.get("MLCOURSE_SOURCE", "git+https://github.com/mlcourse/mlcourse@main")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"mlcourse @ {source}"], check=True)

# %% slideshow={"slide_type": "skip"}
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Ellipse

import mlcourse
from mlcourse import evidence as ev
from mlcourse import hyperparams as hp
from mlcourse.widgets import live, log_slider, slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen

# Lecture 01's model: degree-9 polynomial, alpha = 5e-3, beta = 11.1, ten training points, 100 held out.
ALPHA, BETA = 5e-3, 11.1
x_data, t_data = hp.sine_data()
x_val, t_val = hp.sine_data(n=100, seed=1)
Phi, Phi_val = hp.polynomial_design(x_data, 9), hp.polynomial_design(x_val, 9)
H = ALPHA * torch.eye(10, dtype=torch.float64) + BETA * Phi.T @ Phi  # curvature of -log p(w, D)
lr = 0.5 / torch.linalg.eigvalsh(H).max().item()

# %% slideshow={"slide_type": "-"}
STEPS = 1000
elbo = ev.linear_gaussian_elbo(Phi, t_data, ALPHA, BETA, lr, STEPS)
fit_train = ev.linear_gaussian_heldout(Phi, t_data, Phi, t_data, ALPHA, BETA, lr, STEPS)
fit_val = ev.linear_gaussian_heldout(Phi, t_data, Phi_val, t_val, ALPHA, BETA, lr, STEPS)
peak = int(elbo.argmax())
k = np.arange(STEPS + 1)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
_ = left.plot(k, elbo.numpy(), label="exact ELBO of $q_t$")
_ = left.plot(peak, elbo[peak].item(), "o", color="C1", label=f"peak: step {peak}")
left.set(title="Evidence lower bound along GD", xlabel="GD step $t$", ylabel="nats", ylim=(-500, 0))
_ = left.legend(loc="lower right")
_ = right.plot(k, fit_train.numpy(), color="C2", label="training points")
_ = right.plot(k, fit_val.numpy(), color="C3", label="100 held-out points")
_ = right.axvline(peak, color="C1", linestyle="--", label="ELBO peak")
right.set(title="Fit of the same $q_t$", xlabel="GD step $t$", ylabel="log-likelihood per point", ylim=(-8, 0.5))
_ = right.legend(loc="lower right")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The puzzle
# Run GD from many random starts and it returns a whole distribution over weights, which has a lower
# bound on the evidence (Maclaurin, Duvenaud & Adams 2016). On lecture 01's regression that bound rises
# and then falls at step 117 (left), while the fit of the same distribution to the training *and* to
# held-out data keeps improving (right). Why does it fall, and what is its peak good for?

# %% [markdown] slideshow={"slide_type": "notes"}
# Both panels are exact (closed forms, no sampling): GD on lecture 01's degree-9 posterior from starts
# drawn from the prior, learning rate 0.5/λ_max. Right: the expected log-likelihood per point under the
# GD distribution q_t, for the ten training points and for 100 fresh points. The answer to the
# question comes at the end of the "exact ELBO" section.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Gradient descent moves a cloud of points
# Draw the starting point at random, $\mathbf w_0 \sim q^0$, and apply the same update to every draw,
# $$\mathbf w_{t+1} = T(\mathbf w_t) = \mathbf w_t - \eta \nabla L(\mathbf w_t), \qquad L(\mathbf w) = -\log p(\mathbf w, \mathcal D).$$
# After $t$ steps the draws follow some distribution $q^t$, the *push-forward* of $q^0$ by $t$ steps.
# It has no formula in general, but it is a distribution over weights, so it has an evidence lower bound:
# $$\log p(\mathcal D) \;\ge\; \mathbb E_{q^t}\!\left[\log p(\mathbf w, \mathcal D)\right] + S(q^t).$$
# The first term is an average of $\log p(\mathbf w_t^g, \mathcal D)$ over $r$ parallel runs
# $g = 1\dots r$. The entropy $S(q^t)$ is the hard part: a cloud of points has no density to plug in.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The simplest exact case: a quadratic
# Take $L(\mathbf w) = \tfrac12(\mathbf w - \mathbf w^*)^\top H (\mathbf w - \mathbf w^*)$. One step is the linear map
# $\mathbf w \mapsto \mathbf w^* + J(\mathbf w - \mathbf w^*)$ with Jacobian $J = I - \eta H$. A Gaussian cloud stays
# Gaussian, and along an eigenvector of $H$ with curvature $\lambda$ its spread is multiplied by
# $|1 - \eta\lambda|$ every step. So the entropy changes by exactly
# $$S(q^{t+1}) - S(q^t) = \log|\det(I - \eta H)| = \sum_i \log|1 - \eta\lambda_i| .$$

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The cloud, step by step
# 2000 starts from $\mathcal N(0, I)$, curvatures $\lambda = 3$ and $0.5$ along rotated axes, $\eta = 0.1$
# ($\eta\lambda = 0.3$ and $0.05$): the cloud collapses across the valley first, then slides along its floor.

# %% slideshow={"slide_type": "-"}
c30, s30 = np.cos(np.pi / 6), np.sin(np.pi / 6)
R = torch.tensor([[c30, -s30], [s30, c30]], dtype=torch.float64)  # a 30° rotation
H2 = R @ torch.diag(torch.tensor([3.0, 0.5], dtype=torch.float64)) @ R.T
W_STAR = [3.0, 2.0]
cloud = ev.quadratic_gd_cloud(H2, 0.1, 30, n=2000, minimum=W_STAR, seed=0)


def draw_cloud(ax, points, colour, label):
    """Scatter a cloud and its two-standard-deviation ellipse (from the sample covariance)."""
    _ = ax.scatter(points[:, 0], points[:, 1], s=2, color=colour, alpha=0.35)
    values, vectors = np.linalg.eigh(np.cov(points.numpy().T))
    angle = np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1]))
    ax.add_patch(Ellipse(points.mean(0).numpy(), 4 * np.sqrt(values[1]), 4 * np.sqrt(max(values[0], 1e-12)),
                         angle=angle, fill=False, color=colour, linewidth=2, label=label))


fig, ax = plt.subplots()
for step, colour in [(0, "C0"), (3, "C2"), (10, "C4"), (30, "C3")]:
    draw_cloud(ax, cloud[step], colour, f"$q_{{{step}}}$")
_ = ax.plot(*W_STAR, "k*", markersize=14, label="minimum $w^*$")
ax.set(title="GD pushes a cloud of starts towards the minimum", xlabel="$w_1$", ylabel="$w_2$", aspect="equal",
       xlim=(-3.5, 5.5), ylim=(-3, 4))
_ = ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Measured on the cloud
# The entropy of the 2000 points (through their sample covariance) against $t \log|\det J|$:

# %% slideshow={"slide_type": "-"}
formula = ev.entropy_change_per_eigenvalue(0.1 * np.array([3.0, 0.5])).sum()
S0 = ev.sample_entropy_gaussian(cloud[0])
for step in (1, 3, 10, 30):
    print(f"step {step:2d}: S(q_t) - S(q_0) from the cloud {ev.sample_entropy_gaussian(cloud[step]) - S0:8.4f}"
          f"   t·log|det J| = {step * formula:8.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## When does the cloud shrink?
# Per eigenvalue the entropy changes by $\log|1 - \eta\lambda|$: it **falls exactly when $0 < \eta\lambda < 2$**.
# Between 1 and 2 the step overshoots and flips the cloud but still shrinks it; at $\eta\lambda = 1$ it
# puts every start on the minimum along that direction (the step is no longer a bijection and the entropy
# is $-\infty$);
# beyond 2 GD diverges and the cloud grows; along negative curvature ($\lambda < 0$) it grows as well.

# %% slideshow={"slide_type": "-"}
lr_lambda = np.array([-0.5, 0.1, 0.6, 1.5, 1.9, 2.5])
for v, change in zip(lr_lambda, ev.entropy_change_per_eigenvalue(lr_lambda)):
    print(f"eta*lambda = {v:5.2f}:  entropy change per step {change:+.3f} nats  ({'shrinks' if change < 0 else 'grows'})")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Explore: the learning rate shapes the cloud
# The same quadratic. Move $\eta$ past $1/\lambda_{\max} = 0.33$ (the mean zig-zags across the valley: each
# step flips the cloud along the stiff axis, and still shrinks it), then past $2/\lambda_{\max} = 0.67$ (it
# grows and GD diverges). Few steps show the flip best.

# %% slideshow={"slide_type": "-"}
def cloud_view(lr_cloud: float = 0.1, steps: int = 10):
    """The cloud after `steps` GD steps at rate `lr_cloud` on the 2-D quadratic, and its entropy change."""
    points = ev.quadratic_gd_cloud(H2, lr_cloud, steps, n=2000, minimum=W_STAR, seed=0)
    factors = np.abs(1 - lr_cloud * np.array([3.0, 0.5]))
    if points[-1].abs().max() > 1e3:
        raise FloatingPointError(f"the cloud left the plot: η·λ_max = {3 * lr_cloud:.2f} > 2 stretches it "
                                 f"by {factors[0]:.2f} per step")
    change = steps * ev.entropy_change_per_eigenvalue(lr_cloud * np.array([3.0, 0.5])).sum()
    fig, ax = plt.subplots()
    draw_cloud(ax, points[0], "C0", "start q₀")
    means = points.mean(1).numpy()
    _ = ax.plot(means[:, 0], means[:, 1], "-o", color="gray", markersize=3, linewidth=1, label="mean, step by step")
    _ = ax.plot(*W_STAR, "k*", markersize=12, label="minimum")
    draw_cloud(ax, points[-1], "C3", f"after {steps} steps")
    ax.set(title=f"spread × {factors[0]:.2f} and × {factors[1]:.2f} per step: ΔS = {change:.1f} nats",
           xlabel="w₁", ylabel="w₂", aspect="equal", xlim=(-3.5, 5.5), ylim=(-3, 4))
    _ = ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


live(cloud_view, lr_cloud=slider("learning rate η", 0.02, 0.8, 0.02), steps=slider("GD steps t", 0, 30, 1))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What the quadratic leaves out
# In a network the Jacobian $J = I - \eta H(\mathbf w)$ depends on where each start is, so the change of
# variables gives an *average*:
# $$S(q^{t+1}) = S(q^t) + \mathbb E_{q^t} \log\left|\det(I - \eta H(\mathbf w))\right| ,$$
# valid while each step is a bijection ($\eta\lambda \ne 1$ everywhere). Summing the steps, the bound at step $t$ is
# $$\log p(\mathcal D) \;\ge\; \mathbb E_{q^t}[\log p(\mathbf w_t, \mathcal D)] + S(q^0) + \sum_{b<t} \mathbb E\log|\det(I - \eta H(\mathbf w_b))|.$$
# Two problems remain: $H$ has millions of eigenvalues, and $q^t$ is no longer Gaussian. The second needs
# no fix (the formula does not assume a Gaussian). The first needs a cheaper form of the log-determinant.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Two cheaper forms of $\log|\det(I - \eta H)|$
# With $x = \eta\lambda_i$, $\log|\det(I-\eta H)| = \sum_i \log|1 - x|$ needs every eigenvalue.
# - The **Taylor series** $\log(1-x) = -x - x^2/2 - x^3/3 - \dots$, cut after two terms, gives
#   $-\eta\operatorname{tr}H - \tfrac{\eta^2}{2}\operatorname{tr}H^2$. For $0 \le x < 1$ every dropped term is negative,
#   so this is an **upper** bound; for $x < 0$ a lower one.
# - **Doubling the quadratic term** gives a **lower** bound: $\log(1-x) \ge -x - x^2$ for all $x \le 0.684$, so
#   $$\log|\det(I - \eta H)| \;\ge\; -\eta\operatorname{tr}H - \eta^2\operatorname{tr}(H^2) \quad\text{while } \eta\lambda_{\max} \le 0.684 .$$
#
# The per-step term is often quoted as $-\beta\operatorname{Tr}H - \beta^2\operatorname{Tr}(HH)$ ($\beta$ = learning
# rate): that is the second form, which the authors' code also uses. A lower bound on a term of a lower bound
# keeps the ELBO a lower bound; the Taylor form would not.

# %% [markdown] slideshow={"slide_type": "notes"}
# Ask the room: the quoted formula has β² Tr(HH), not β²/2. Typo or choice? A choice: the full quadratic
# term makes a lower bound. 0.684 is where the two curves cross, the root of log x = (x − 1) − (x − 1)²
# at x ≈ 0.316.

# %% slideshow={"slide_type": "subslide"}
xs = np.linspace(-0.5, 0.95, 300)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # above the limit the bound warns: that is the point
    exact = [ev.logdet_step_exact(np.array([[v]]), 1.0) for v in xs]
    bound = [ev.logdet_step_bound(np.array([[v]]), 1.0) for v in xs]
fig, ax = plt.subplots()
_ = ax.plot(xs, exact, color="C0", label=r"exact $\log(1-\eta\lambda)$")
_ = ax.plot(xs, -xs - xs**2 / 2, "--", color="C1", label=r"Taylor: $-\eta\lambda - (\eta\lambda)^2/2$")
_ = ax.plot(xs, bound, color="C2", label=r"bound: $-\eta\lambda - (\eta\lambda)^2$")
_ = ax.axvline(ev.BOUND_LIMIT, color="gray", linewidth=1)
_ = ax.text(ev.BOUND_LIMIT - 0.02, -2.6, f"ηλ = {ev.BOUND_LIMIT:.3f}", ha="right")
ax.set(title="One eigenvalue's share of the entropy change", xlabel=r"$\eta\lambda$",
       ylabel="entropy change (nats)", ylim=(-3, 0.8))
_ = ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Check on lecture 01's regression
# The degree-9 polynomial with $\alpha = 5\cdot10^{-3}$, $\beta = 11.1$: the loss is quadratic, so
# $H = \alpha I + \beta\Phi^\top\Phi$ is the same at every step. With $\eta = 0.5/\lambda_{\max}$ every
# $\eta\lambda_i$ lies in $[0, 0.5]$: the bound must come out below the exact value, the series above.

# %% slideshow={"slide_type": "-"}
step_exact, step_bound = ev.logdet_step_exact(H, lr), ev.logdet_step_bound(H, lr)
step_taylor = (-lr * torch.trace(H) - lr**2 / 2 * torch.trace(H @ H)).item()  # the 2-term series
print(f"bound  -ηtrH - η²trH²   = {step_bound:.5f}")
print(f"exact  log|det(I - ηH)| = {step_exact:.5f}")
print(f"series -ηtrH - η²trH²/2 = {step_taylor:.5f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Without the eigenvalues: Hutchinson's estimator
# For a random vector $\mathbf r$ with $\mathbb E[\mathbf r\mathbf r^\top] = I$ (random signs, or Gaussian),
# $\mathbb E[\mathbf r^\top A \mathbf r] = \operatorname{tr}A$. So
# $$-\eta\, \mathbf r^\top H \mathbf r - \eta^2\, \lVert H\mathbf r\rVert^2$$
# is an unbiased estimate of the bound from **one Hessian-vector product** $H\mathbf r$, cheap with autodiff
# even when $H$ has a million rows. The authors write it as $\mathbf r^\top(-2\mathbf r + 3J\mathbf r - J^2 \mathbf r)$
# with $J = I - \eta H$: expand it, it is the same number.

# %% slideshow={"slide_type": "-"}
def H_times(v: torch.Tensor) -> torch.Tensor:
    return H @ v  # a Hessian-vector product; for a network it comes from autodiff, H is never formed


values = ev.logdet_step_estimate(H_times, 10, lr, n_probes=2000, dtype=torch.float64,
                                 generator=torch.Generator().manual_seed(0))
mean, se = values.mean().item(), values.std().item() / len(values) ** 0.5
print(f"estimate over {len(values)} probes = {mean:.3f} ± {se:.3f}  (bound {step_bound:.3f}, "
      f"{abs(mean - step_bound) / se:.2f} standard errors away)")
print(f"one probe alone: standard deviation {values.std().item():.2f}, so runs and steps are averaged")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The exact ELBO along gradient descent
# Back to the opening figure. In the linear-Gaussian case every step is the same affine map, so a Gaussian
# $q^0$ stays Gaussian and the ELBO has a closed form at every step. Starting from the prior,
# $q^0 = \mathcal N(0, \alpha^{-1} I)$:

# %% slideshow={"slide_type": "-"}
log_evidence = hp.log_evidence(Phi, t_data, ALPHA, BETA)
print(f"ELBO peak {elbo[peak].item():.2f} nats at step {peak}; exact log evidence {log_evidence:.3f}")
print(f"held-out log-likelihood per point: {fit_val[peak].item():.3f} at the ELBO peak, "
      f"{fit_val[400].item():.3f} at step 400, {fit_val[STEPS].item():.3f} at step {STEPS}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Why the bound rises, then falls:
# - **rises**: the expected log joint improves quickly as the cloud moves towards the data;
# - **falls**: every step removes $|\log|\det J||$ = 0.83 nats of entropy, whatever it gains in fit. Late in
#   the run the fit improves by less than that, and a cloud that keeps shrinking towards a point heads for
#   entropy $-\infty$.
#
# The gap to the true evidence, about 150 nats, is $\mathrm{KL}(q^t \,\|\, p(\mathbf w\mid\mathcal D))$. GD does not
# minimize that KL: along the stiffest direction the cloud shrinks by a factor 2 per step and is far
# narrower than the posterior long before the flat directions have fitted.
#
# **So what is the peak?** It is the step where GD's distribution is the best posterior approximation it
# will ever be, measured by the ELBO, not the step of best prediction: here the held-out fit is still
# improving at step 1000. It stops early, and it needs no held-out data.

# %% [markdown] slideshow={"slide_type": "notes"}
# Why the eigenbasis: pushing the covariance S ← J S Jᵀ directly in float64 loses the stiffest variance,
# which shrinks like 4⁻ᵗ here, once it falls below the rounding error of the others (4⁻²⁶ = 2⁻⁵²): the
# direct ELBO is off by 0.01 nats from about step 26 and by more than a nat (or NaN) from about step 28.
# `ev.moment_propagation_elbo` is that route; the tests measure the step.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Using the bound to choose a model
# The paper proposes the bound instead of cross-validation: run GD on each candidate model, rank by the
# **peak** ELBO. Candidates: degrees $M = 0 \dots 9$, all exact, compared with the evidence and with
# held-out density (200 fresh points). Move the prior, the noise and the amount of data.

# %% slideshow={"slide_type": "-"}
def select(alpha: float = ALPHA, noise: float = 0.3, n: int = 10):
    """Rank degrees 0…9 three ways: exact evidence, peak of GD's exact ELBO, held-out density."""
    xs_, ts_ = hp.sine_data(n=n, noise=noise, seed=0)
    xv_, tv_ = hp.sine_data(n=200, noise=noise, seed=1)
    sel = ev.select_degree_by_gd_bound(xs_, ts_, xv_, tv_, range(10), alpha, 1 / noise**2)
    fig, ax = plt.subplots(figsize=(10, 3.8))
    for field, name, colour, scale in [("log_evidence", "exact log evidence", "C0", 1.0),
                                       ("peak_elbo", "peak of GD's ELBO", "C1", 1.0),
                                       ("heldout", "held-out log density × N", "C2", n)]:
        score = scale * getattr(sel, field).numpy()
        _ = ax.plot(sel.degrees, score - score.max(), marker="o", color=colour,
                    label=f"{name}: picks M = {sel.choice(field)}")
    ax.set(title="Which degree does each criterion pick?", xlabel="degree M",
           ylabel="nats below its best degree", xticks=list(range(10)), yscale="symlog", ylim=(-300, 0.5),
           yticks=[0, -1, -10, -100], yticklabels=["0", "−1", "−10", "−100"])
    ax.minorticks_off()
    _ = ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title=f"α = {alpha:.2g}, σ = {noise:.2g}, N = {n}")
    return fig


live(select, alpha=log_slider("prior precision α", 1e-3, 1e2), noise=log_slider("noise std σ", 0.05, 1.0),
     n=slider("training points N", 5, 50, 5))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Why the bound prefers small models
# The gap between the evidence and the peak of the bound, degree by degree, at the defaults:

# %% slideshow={"slide_type": "-"}
sel = ev.select_degree_by_gd_bound(x_data, t_data, hp.sine_data(200, seed=1)[0], hp.sine_data(200, seed=1)[1],
                                   range(10), ALPHA, BETA)
gap = (sel.log_evidence - sel.peak_elbo).numpy()
print("log evidence − peak ELBO by degree:", "  ".join(f"{g:.2f}" for g in gap))
print(f"picks: evidence M = {sel.choice('log_evidence')}, peak ELBO M = {sel.choice('peak_elbo')}, "
      f"held-out M = {sel.choice('heldout')}")

# %% [markdown] slideshow={"slide_type": "-"}
# The gap between the evidence and the peak of the bound is not the same for every model: 0.03 nats for
# the constant, 150 for degree 9. Each stiff direction GD collapses costs entropy, so the bound penalizes
# every extra parameter more than the evidence does, and its ranking leans towards small models. With
# 50 precise points ($\sigma = 0.1$, $\alpha = 1$) the three criteria agree on $M = 9$; with ten noisy ones they
# disagree. The bound is a cheap model-selection signal, not a proxy for the evidence.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The overfitting start on a neural network
# A tanh network $10 \to 50 \to 1$ on scikit-learn's diabetes data (50 training points, 392 held out),
# Gaussian likelihood (σ = 0.5), prior $\mathcal N(0, I)$, starts $q^0 = \mathcal N(0, 0.1^2 I)$, learning rate
# $2\cdot10^{-4}$. `gd_evidence` runs $r = 8$ starts in parallel and, at each step, uses one
# Hessian-vector product per run for the entropy term and one more for a power iteration that tracks
# $\eta\lambda_{\max}$ (the bound needs it below 0.684). The held-out points are used only for the plot.

# %% slideshow={"slide_type": "-"}
x_train, y_train, x_held, y_held = ev.diabetes_regression(n_train=50, seed=0, device=device)
net = torch.nn.Sequential(torch.nn.Linear(10, 50), torch.nn.Tanh(), torch.nn.Linear(50, 1))
trace = ev.gd_evidence(net.to(device, torch.float64), x_train, y_train, x_heldout=x_held, y_heldout=y_held,
                       lr=2e-4, steps=150, runs=8, noise_std=0.5, prior_std=1.0, init_std=0.1, seed=0)
held = trace.heldout_loglik.mean(1)
print(f"evidence estimate peaks at step {trace.evidence_peak}, held-out log-likelihood at step {trace.heldout_peak}")
print(f"held-out log-likelihood per point: {held[trace.evidence_peak].item():.3f} at the evidence peak, "
      f"{held.max().item():.3f} at its own peak, {held[-1].item():.3f} at step {len(held) - 1}")
print(f"largest η·λ_max along the runs: {2e-4 * trace.curvature.max().item():.2f} (bound valid up to {ev.BOUND_LIMIT:.3f})")

# %% slideshow={"slide_type": "subslide"}
kk = np.arange(len(trace.evidence))
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
mean_ev, se_ev = trace.evidence.numpy(), trace.evidence_se.numpy()
_ = left.plot(kk, mean_ev, label="estimate, r = 8")
_ = left.fill_between(kk, mean_ev - 2 * se_ev, mean_ev + 2 * se_ev, alpha=0.25, label="± 2 s.e.")
_ = left.plot(trace.evidence_peak, mean_ev[trace.evidence_peak], "o", color="C1", label=f"peak: step {trace.evidence_peak}")
left.set(title="Evidence estimate along GD", xlabel="GD step", ylabel="nats")
_ = left.legend(loc="lower right")
_ = right.plot(kk, trace.train_loglik.mean(1).numpy(), color="C2", label="training")
_ = right.plot(kk, held.numpy(), color="C3", label="held-out")
_ = right.axvline(trace.evidence_peak, color="C1", linestyle="--", label="evidence peak")
_ = right.plot(trace.heldout_peak, held[trace.heldout_peak].item(), "o", color="C3", label=f"held-out peak: {trace.heldout_peak}")
right.set(title="Log-likelihood per point", xlabel="GD step", ylabel="nats", ylim=(-2.3, -0.6))
_ = right.legend(loc="lower right")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The evidence estimate peaks before the held-out likelihood, as in the paper (Boston housing:
# iteration 70 vs 180), and again it stops *too* early for prediction: the held-out fit at the evidence
# peak is worse than at step 150. Training likelihood rises the whole time. This is the "overfitting
# start" of the evidence view: GD keeps optimizing, but its distribution is moving away from the posterior.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What breaks beyond the quadratic
# - **The bound's validity** needs $\eta\lambda_{\max} \le 0.684$ at every step; the Hessian changes along the
#   run, so it must be monitored (here by one extra Hessian-vector product per step).
# - **Bijectivity** fails where $\eta\lambda = 1$, and **negative curvature** makes the cloud *grow*:
#   the per-step term is then positive, and a large learning rate makes it explode.
# - **Variance**: one probe per run and step is noisy (a standard deviation of 0.9 nats per step on the
#   10-parameter regression above); with few runs the peak's *location* is only loosely determined (see
#   the exercise).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What to remember
# 1. GD from random starts pushes a distribution $q^t$ forward; a bijective step changes its entropy by
#    $\log|\det(I - \eta H)|$, per eigenvalue $\log|1 - \eta\lambda|$: it falls exactly when $0 < \eta\lambda < 2$.
# 2. $-\eta\operatorname{tr}H - \eta^2\operatorname{tr}H^2$ (the formula usually quoted) is a **lower** bound on that
#    change while $\eta\lambda_{\max} \le 0.684$; the two-term Taylor series is an upper bound for
#    $0 \le \eta\lambda < 1$. One Hessian-vector product per run and step estimates the bound without bias.
# 3. The ELBO of $q^t$ rises, then falls (exact case: step 117, −165.6 nats vs the evidence −15.7). Its peak
#    is GD's best posterior approximation, found without held-out data, and comes before the held-out optimum.
# 4. Ranking models by the peak favours small models: the bound's gap grows with the number of parameters.
#
# **Theme and next:** here the learning rate and the number of steps, metaparameters in lecture 01, shape
# the approximate posterior $q^t$ and can be scored by its ELBO. Lecture 03 reads the trajectory of GD
# the other way round: a layer trained by GD *is* an attention layer over its training history.
