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
# # 01 · Hyperparameters vs metaparameters
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mlcourse/mlcourse/HEAD?urlpath=lab/tree/lectures/01_hyperparameters_vs_metaparameters.ipynb)
#
# **Is the dropout rate a hyperparameter or a metaparameter? And SGD's learning rate?** Both knobs
# below change the fit; only one changes the evidence $\ln p(\mathbf t)$.

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
from mlcourse import hyperparams as hp
from mlcourse.widgets import live, log_slider, slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen

ALPHA, BETA = 5e-3, 11.1  # PRML §3.5's prior precision and noise precision
DEGREES = range(10)
x, t = hp.sine_data(n=10, noise=0.3, seed=0)  # ten noisy samples of sin 2πx
x_fine = torch.linspace(0, 1, 200, dtype=torch.float64)
Phi9, Phi9_fine = hp.polynomial_design(x, 9), hp.polynomial_design(x_fine, 9)
lam_max = float(torch.linalg.eigvalsh(ALPHA * torch.eye(10, dtype=torch.float64) + BETA * Phi9.T @ Phi9).max())

# %% slideshow={"slide_type": "-"}
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
for ax in (left, right):
    _ = ax.plot(x_fine, torch.sin(2 * math.pi * x_fine), color="gray", linewidth=1, label=r"$\sin 2\pi x$")
    _ = ax.scatter(x, t, color="black", zorder=3, s=18)
for alpha, colour in [(ALPHA, "C0"), (0.68, "C1"), (100.0, "C2")]:
    mean, _cov = hp.posterior(Phi9, t, alpha, BETA)
    _ = left.plot(x_fine, Phi9_fine @ mean, color=colour,
                  label=rf"$\alpha$ = {alpha:g}:  $\ln p(\mathbf{{t}})$ = {hp.log_evidence(Phi9, t, alpha, BETA):.2f}")
for steps, colour in [(10, "C0"), (1000, "C1"), (100_000, "C2")]:
    w = hp.gd_weights(Phi9, t, ALPHA, BETA, 1 / lam_max, steps)[0]
    _ = right.plot(x_fine, Phi9_fine @ w, color=colour,
                   label=rf"T = {steps:,}:  $\ln p(\mathbf{{t}})$ = {hp.log_evidence(Phi9, t, ALPHA, BETA):.2f}")
left.set(title=r"Change the prior precision $\alpha$", xlabel="$x$", ylabel="$t$", ylim=(-2.2, 2.2))
right.set(title="Change the number of GD steps T", xlabel="$x$")
for ax in (left, right):
    _ = ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=10, ncol=1)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Not just bookkeeping
# Every knob we do not train changes the model we end up with, so the question sounds like bookkeeping.
# The figure says otherwise. On the same ten data points, turning the prior's precision $\alpha$ (left)
# changes the *evidence* of the model; running gradient descent for more or fewer steps $T$ (right)
# changes the fit just as much and leaves the evidence where it was. That difference is the whole
# distinction, and this lecture makes it exact.

# %% [markdown] slideshow={"slide_type": "notes"}
# Left: the posterior mean of a degree-9 polynomial for three prior precisions (0.68 is where the
# evidence is highest, found later in the lecture). Right: gradient descent from w = 0 on the same
# posterior (α = 0.005) at learning rate 1/λ_max, stopped after T steps. Ask the room which knob
# they would call a hyperparameter before revealing the criterion.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Two kinds of knobs
# A model $f$ has parameters $\mathbf w \in \mathbb W$ and a structure $\Gamma$ (which units, layers or
# basis functions exist). Before seeing data we state a **prior**
# $$p(\mathbf w, \Gamma \mid \mathbf h): \ \mathbb W \times \boldsymbol\Gamma \times \mathbb H \to \mathbb R^+ .$$
# **Hyperparameters** $\mathbf h \in \mathbb H$ are the parameters of this prior.
#
# A **metaparameter** is, in general, "a parameter that controls the value of one or more others".
# In this course, **metaparameters** $\lambda$ are the parameters of the **optimization problem** that
# produces $\mathbf w$: learning rate, momentum, number of steps, initialization, batch size, and the
# parameters of any approximate posterior $q$ that we fit instead of the exact one.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## One criterion
# The prior enters the **evidence**, the probability of the data with the parameters integrated out:
# $$p(\mathcal D \mid \mathbf h) = \int p(\mathcal D \mid \mathbf w, \Gamma)\; p(\mathbf w, \Gamma \mid \mathbf h)\; d\mathbf w\, d\Gamma .$$
# The optimizer does not: it only decides which $\mathbf w$ (or which $q$) we compute. So:
#
# > **A quantity is a hyperparameter if the evidence depends on it, and a metaparameter if it only
# > changes what we compute from the model.**
#
# In the opening figure, $\alpha$ moved $\ln p(\mathbf t)$ from −15.71 to −11.05 to −17.74; the number of
# steps $T$ changed the curve and left $\ln p(\mathbf t)$ at −15.71.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The three questions, one rule
# | quantity | does $p(\mathcal D \mid \mathbf h)$ depend on it? | so it is a … |
# |---|---|---|
# | **SGD learning rate** $\eta$ | no: it belongs to the optimizer | metaparameter |
# | **Gumbel-softmax temperature** $\tau$ of a variational $q_\tau(\Gamma)$ | no: $q$ is the approximation we fit; the ELBO depends on $\tau$, the evidence does not | metaparameter |
# | **dropout rate** $p$ | only if the random masks are *declared as the prior* over structures $\Gamma$ | hyperparameter if so; metaparameter when dropout is training noise or the variational $q$ |
#
# Dropout is the only one of the three whose answer depends on the model we declare: read as the
# variational distribution $q$ of MC dropout, its rate is a parameter of $q$ exactly like $\tau$.
# Lecture 02 reads gradient descent itself as a variational $q_t$: $\eta$ and $T$ then change $q_t$ and
# its ELBO, but still not the evidence, so they stay metaparameters.

# %% [markdown] slideshow={"slide_type": "notes"}
# Students usually argue from *how* a quantity is chosen ("I tune it on validation data, so it is a
# hyperparameter"). The criterion is about *where it enters*: anything can be tuned on validation
# data. The exercise (Q3, Q4) uses the same rule.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The simplest exact case: Bayesian polynomial regression
# Bishop's running example (PRML §3.3–3.5): $N = 10$ inputs evenly spaced on $[0, 1]$, targets
# $t = \sin 2\pi x + \varepsilon$, $\varepsilon \sim \mathcal N(0, 0.3^2)$. The model is a polynomial of
# **degree $M$**, with the $M + 1$ basis functions $\boldsymbol\phi(x) = (1, x, \dots, x^M)$ as the
# columns of the design matrix $\Phi$:
# $$p(\mathbf w \mid \alpha) = \mathcal N(\mathbf w \mid 0, \alpha^{-1} I_{M+1}), \qquad
# p(\mathbf t \mid \mathbf w, \beta) = \mathcal N(\mathbf t \mid \Phi\mathbf w, \beta^{-1} I_N).$$
# The prior precision $\alpha$ and the degree $M$ (the structure $\Gamma$) are hyperparameters; we keep
# the noise precision $\beta$ fixed at 11.1, the true $1/0.3^2$, until later.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The data
# Ten points from `hp.sine_data(n=10, noise=0.3, seed=0)`: the same draw in every lecture that uses them.

# %% slideshow={"slide_type": "-"}
fig, ax = plt.subplots()
_ = ax.plot(x_fine, torch.sin(2 * math.pi * x_fine), color="gray", label=r"$\sin 2\pi x$")
_ = ax.scatter(x, t, color="C0", zorder=3, label="targets $t_n$ (seed 0)")
ax.set(title="Ten noisy samples of a sine", xlabel="$x$", ylabel="$t$")
_ = ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The evidence in closed form
# Everything is Gaussian, so the weights integrate out exactly (PRML 3.86, which writes $M$ for the
# number of basis functions; here that number is $M + 1$):
# $$\ln p(\mathbf t\mid\alpha,\beta) = \tfrac{M+1}{2}\ln\alpha + \tfrac N2 \ln\beta - E(\mathbf m_N)
# - \tfrac12 \ln|A| - \tfrac N2 \ln 2\pi,$$
# with $A = \alpha I + \beta\Phi^\top\Phi$, the posterior mean $\mathbf m_N = \beta A^{-1}\Phi^\top\mathbf t$ and
# $E(\mathbf m_N) = \tfrac\beta2\lVert\mathbf t-\Phi\mathbf m_N\rVert^2 + \tfrac\alpha2 \mathbf m_N^\top\mathbf m_N$.
#
# **Check.** The same number is the density of $\mathbf t$ under its marginal
# $\mathcal N(0,\ \beta^{-1} I + \alpha^{-1}\Phi\Phi^\top)$, an $N \times N$ computation instead of an
# $(M+1)\times(M+1)$ one.

# %% slideshow={"slide_type": "-"}
for M in (0, 3, 9):
    Phi = hp.polynomial_design(x, M)
    formula = hp.log_evidence(Phi, t, ALPHA, BETA)
    direct = hp.marginal_log_density(Phi, t, ALPHA, BETA)
    print(f"M = {M}:  PRML 3.86 {formula:9.4f}   ln N(t | 0, C) {direct:9.4f}   difference {abs(formula - direct):.0e}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Choosing the structure: evidence vs degree
# With $\alpha = 5\cdot 10^{-3}$ and $\beta = 11.1$ fixed, the evidence of each degree $M = 0 \dots 9$
# (PRML Fig. 3.14). A model too simple cannot explain the data; a model too flexible spreads its prior
# over so many possible data sets that it gives this one little probability.

# %% slideshow={"slide_type": "-"}
curve = hp.evidence_by_degree(x, t, DEGREES, ALPHA, BETA)
M_best = int(curve.argmax())
print("ln p(t | M):", "  ".join(f"{v:.3f}" for v in curve.tolist()))
print(f"best degree for this draw: M = {M_best}")

fig, ax = plt.subplots()
_ = ax.plot(list(DEGREES), curve, marker="o")
_ = ax.plot([M_best], [curve[M_best]], marker="*", markersize=16, color="C1", linestyle="none",
            label=f"maximum, M = {M_best}")
ax.set(title="Evidence of each polynomial degree (seed 0)", xlabel="degree $M$",
       ylabel=r"$\ln p(\mathbf{t}\mid\alpha,\beta,M)$", xticks=list(DEGREES))
_ = ax.legend(loc="lower right")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## One draw is not a law
# Repeat the experiment for 1000 noise draws (seeds 0 … 999) and count which degree wins. Seed 0 picked
# $M = 3$, like PRML's figure; is that typical? And what about the few draws that pick $M = 9$, the
# largest degree we tried?

# %% slideshow={"slide_type": "-"}
counts = hp.best_degree_counts(1000, DEGREES, ALPHA, BETA)
counts_wide = hp.best_degree_counts(1000, range(16), ALPHA, BETA)
print("wins per degree, M = 0..9: ", counts.tolist())
print(f"argmax in {{3, 4, 5}}: {float(counts[3:6].sum()) / 1000:.1%} of draws; most frequent: M = {int(counts.argmax())}")
print("wins per degree, M = 0..15:", counts_wide.tolist())
print(f"draws that pick M >= 9: {int(counts[9:].sum())} of 1000 with M <= 9, "
      f"{int(counts_wide[9:].sum())} with M <= 15, of which M = 9 keeps {int(counts_wide[9])}")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
_ = ax.bar(np.arange(10) - 0.2, counts.numpy(), width=0.4, label="degrees 0 … 9 tried")
_ = ax.bar(np.arange(16) + 0.2, counts_wide.numpy(), width=0.4, label="degrees 0 … 15 tried")
ax.set(title="Which degree maximizes the evidence, over 1000 noise draws", xlabel="degree $M$",
       ylabel="number of draws (log scale)", yscale="log", xticks=list(range(16)))
_ = ax.legend(loc="upper right")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# - The seed-0 answer $M = 3$ is not the typical one: $M = 4$ wins three draws in four, and
#   $M \in \{3, 4, 5\}$ about 95 %. With ten points the cubic-vs-quartic call is within noise.
# - The small bar at $M = 9$ is where the range stops, not a preference for degree 9. About 3 % of draws
#   have nearly flat evidence at high degree (on $[0, 1]$ the columns $x^9, x^{10}, \dots$ are almost
#   collinear, so each new degree changes little), and with degrees up to 9 their maximum is 9. Try up to 15: those draws spread over 9 … 15, with only 7 left at 9, and a few draws that
#   picked 4 or 5 move up too (42 of 1000 pick $M \ge 9$). A few percent of noise draws weakly
#   prefer a high degree; none singles out 9.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Choosing α without a search: MacKay's fixed point
# Fix $M = 9$, $\beta = 11.1$ and ask for the $\alpha$ of largest evidence. Setting
# $\partial \ln p / \partial\alpha = 0$ gives a fixed-point equation (MacKay 1992; PRML 3.91–3.92):
# $$\gamma = \sum_i \frac{\lambda_i}{\alpha + \lambda_i}, \qquad \alpha \leftarrow \frac{\gamma}{\mathbf m_N^\top \mathbf m_N},$$
# $\lambda_i$ the eigenvalues of $\beta\Phi^\top\Phi$. $\gamma$ counts the *well-determined*
# parameters: directions in which the data outweigh the prior.

# %% slideshow={"slide_type": "-"}
ln_alpha_grid = hp.grid_points(-3.0, 2.0, 201)  # step 0.025
ev_alpha = hp.evidence_over_alpha(Phi9, t, ln_alpha_grid, BETA)
ln_alpha_gridmax = float(ln_alpha_grid[ev_alpha.argmax()])
alpha_fp, _, gamma_fp = hp.reestimate(Phi9, t, alpha=1.0, beta=BETA, fit_beta=False)
print(f"grid argmax   ln alpha = {ln_alpha_gridmax:.3f}  (201 evaluations, step 0.025)")
print(f"fixed point   ln alpha = {math.log(alpha_fp):.3f}, gamma = {gamma_fp:.2f} of 10 parameters")

# %% slideshow={"slide_type": "subslide"}
wide = hp.grid_points(-12.0, 4.0, 321)
fig, ax = plt.subplots()
_ = ax.plot(wide, hp.evidence_over_alpha(Phi9, t, wide, BETA), label=r"$\ln p(\mathbf{t}\mid\alpha,\beta)$")
_ = ax.axvline(math.log(alpha_fp), color="C1", linestyle="--",
               label=rf"fixed point: $\ln\alpha$ = {math.log(alpha_fp):.3f}, $\gamma$ = {gamma_fp:.2f}")
_ = ax.axvline(math.log(ALPHA), color="gray", linestyle=":", label=r"PRML's $\alpha = 5\cdot10^{-3}$")
ax.set(title=r"Evidence vs $\ln\alpha$ (M = 9, $\beta$ = 11.1)", xlabel=r"$\ln\alpha$", ylabel="log evidence")
_ = ax.legend(loc="lower center")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Both precisions at once
# The same argument for $\beta$ gives $1/\beta \leftarrow \lVert\mathbf t - \Phi\mathbf m_N\rVert^2 / (N - \gamma)$
# (PRML 3.95): the noise variance is the residual per *undetermined* degree of freedom.
# Alternating the two updates from $\alpha = \beta = 1$:

# %% slideshow={"slide_type": "-"}
alpha_j, beta_j, gamma_j = hp.reestimate(Phi9, t, alpha=1.0, beta=1.0)
ev_joint, ev_alpha_only = hp.log_evidence(Phi9, t, alpha_j, beta_j), hp.log_evidence(Phi9, t, alpha_fp, BETA)
print(f"alpha = {alpha_j:.2f}, beta = {beta_j:.3f}, gamma = {gamma_j:.2f}")
print(f"implied noise std 1/sqrt(beta) = {1 / math.sqrt(beta_j):.2f} (the data were made with 0.30)")
print(f"log evidence {ev_joint:.2f} here vs {ev_alpha_only:.2f} with beta held at 11.1")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
for (a, b, name, colour) in [(ALPHA, BETA, r"PRML's fixed $\alpha, \beta$", "C2"),
                             (alpha_j, beta_j, r"joint re-estimate of $\alpha, \beta$", "C1")]:
    mu, sd = hp.predictive(Phi9_fine, *hp.posterior(Phi9, t, a, b), b)
    _ = ax.plot(x_fine, mu, color=colour, label=name)
    _ = ax.fill_between(x_fine, mu - sd, mu + sd, color=colour, alpha=0.2)
_ = ax.scatter(x, t, color="C0", zorder=3)
ax.set(title="Posterior predictive, M = 9: mean ± one std", xlabel="$x$", ylabel="$t$", ylim=(-2.5, 2.5))
_ = ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# With ten points and both precisions free, the evidence prefers a strong prior, about one well-determined
# parameter, and twice the true noise: "a simple curve plus a lot of noise" explains these ten points about
# as well as a sine, and it is the simpler story. Type-II maximum likelihood fits hyperparameters to *this*
# data set; with this little data it can be confidently wrong. The fixed point is the evidence's maximum
# over both precisions: another start reaches it, and a grid over both finds nothing higher.

# %% slideshow={"slide_type": "-"}
alpha_b, beta_b, _ = hp.reestimate(Phi9, t, alpha=1e-3, beta=30.0)  # another start
ln_a_grid, ln_b_grid = hp.grid_points(-12.0, 6.0, 361), hp.grid_points(-2.0, 6.0, 161)
grid2 = torch.stack([hp.evidence_over_alpha(Phi9, t, ln_a_grid, math.exp(b)) for b in ln_b_grid.tolist()])
print(f"from alpha = 0.001, beta = 30:  alpha = {alpha_b:.2f}, beta = {beta_b:.3f}")
print(f"best of a 361 x 161 grid over (ln alpha, ln beta): {float(grid2.max()):.3f};  at the fixed point: {ev_joint:.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Now a metaparameter on the same problem
# Minimize the same penalized error $E(\mathbf w) = \tfrac\beta2\lVert\mathbf t-\Phi\mathbf w\rVert^2 + \tfrac\alpha2\lVert\mathbf w\rVert^2$
# (its minimum is $\mathbf m_N$) by gradient descent from $\mathbf w = 0$, with a learning rate $\eta$ and
# $T$ steps. Rates are given as multiples of $1/\lambda_{\max}$, $\lambda_{\max}$ the largest curvature
# of $E$; above $2/\lambda_{\max}$ the iteration diverges. We score each result on 100 held-out points.

# %% slideshow={"slide_type": "-"}
x_val, t_val = hp.sine_data(n=100, noise=0.3, seed=1)
Phi9_val = hp.polynomial_design(x_val, 9)
STEPS = [10, 100, 1_000, 10_000, 100_000]
print(f"{'rate':>6} {'T':>8}  {'train MSE':>9}  {'valid. MSE':>10}  {'ln p(t | alpha, beta)':>21}")
for c in (0.5, 1.0, 1.9):
    W_T = hp.gd_weights(Phi9, t, ALPHA, BETA, c / lam_max, STEPS)
    for steps, w in zip(STEPS, W_T):
        train, valid = float(((t - Phi9 @ w) ** 2).mean()), float(((t_val - Phi9_val @ w) ** 2).mean())
        print(f"{c:>4}/λ {steps:>8,}  {train:9.4f}  {valid:10.4f}  {hp.log_evidence(Phi9, t, ALPHA, BETA):21.3f}")
print(f"posterior mean m_N: validation MSE {hp.validation_error(Phi9, t, Phi9_val, t_val, ALPHA, BETA):.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# - The learning rate and the number of steps move the weights, the training error and the validation
#   error. The last column, the evidence, does not move: it is a function of the prior and the
#   likelihood, and $\eta$, $T$ are not arguments of it.
# - At convergence every stable rate ends at $\mathbf m_N$: a metaparameter matters because we stop.
#   Stopped early, GD has fitted the directions the data pin down (large curvature) and left the
#   weakly determined ones near their start, much as a stronger prior would.
# - Choosing $(\eta, T)$ therefore needs held-out data, or a different reading of gradient descent:
#   started from *random* points, GD produces a whole distribution $q_T$ over weights, and $q_T$ has an
#   evidence lower bound that does depend on $\eta$ and $T$. That is **lecture 02**.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Explore: learning rate and steps
# Left: the fit after $T$ steps and the posterior mean it approaches. Right: validation error along the
# run, the current $T$ marked. The title keeps the evidence: watch it stay put. Push the rate past
# $2/\lambda_{\max}$ to see the iteration diverge.

# %% slideshow={"slide_type": "-"}
STEP_GRID = np.unique(np.logspace(0, 6, 61).round().astype(int)).tolist()


def gd_run(rate: float = 1.0, steps: int = 1000):
    """GD on the M = 9 posterior at learning rate rate/λ_max for `steps` steps: fit and validation error."""
    W_path = hp.gd_weights(Phi9, t, ALPHA, BETA, rate / lam_max, STEP_GRID + [int(steps)])
    valid = ((t_val - W_path @ Phi9_val.T) ** 2).mean(1)
    m_N = hp.posterior(Phi9, t, ALPHA, BETA)[0]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    _ = left.scatter(x, t, color="black", zorder=3, s=18, label="training points")
    _ = left.plot(x_fine, Phi9_fine @ m_N, color="gray", linestyle="--", label="posterior mean m_N")
    _ = left.plot(x_fine, Phi9_fine @ W_path[-1], color="C1", label=f"GD after T = {int(steps):,}")
    left.set(title=f"Fit, η = {rate:.2f}/λ_max", xlabel="x", ylabel="t", ylim=(-2.2, 2.2))
    _ = left.legend(loc="lower left", fontsize=10)
    _ = right.plot(STEP_GRID, valid[:-1], color="C0", label="validation MSE")
    _ = right.plot([int(steps)], [float(valid[-1])], "o", color="C1", markersize=9, label="current T")
    _ = right.axhline(0.09, color="gray", linestyle=":", label="noise floor 0.09")
    right.set(title=f"ln p(t | α, β) = {hp.log_evidence(Phi9, t, ALPHA, BETA):.3f} at every η and T",
              xlabel="GD steps T", ylabel="mean squared error", xscale="log", ylim=(0, 0.6),
              xticks=[1, 10, 100, 1e3, 1e4, 1e5, 1e6], xticklabels=["1", "10", "100", "1k", "10k", "100k", "1M"])
    right.minorticks_off()
    _ = right.legend(loc="upper right", fontsize=10)
    return fig


live(gd_run, rate=slider("learning rate η (in units of 1/λ_max)", 0.1, 2.2, 0.05),
     steps=log_slider("GD steps T", 1, 1_000_000, fmt=",.0f"))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Choosing by validation: the bilevel problem
# A metaparameter (and any hyperparameter we prefer to choose by held-out error) is the outer variable of
# $$\lambda^* = \arg\min_\lambda \mathcal L_{\text{val}}\bigl(\lambda, \mathbf w^*(\lambda)\bigr),
# \qquad \mathbf w^*(\lambda) = \arg\min_{\mathbf w} \mathcal L_{\text{train}}(\lambda, \mathbf w).$$
# The inner problem fits the weights; the outer one scores the fit on data the inner one never saw.
# $\mathbf w^*(\lambda)$ is the *best response*. With gradient descent, "argmin" becomes "the end of $T$
# steps", and $\lambda$ includes $\eta$ and $T$.
#
# ```
# for λ in candidates:                                   # outer loop: search
#     w = init();  for step in range(T): w = step(w, λ)  # inner loop: train
#     score[λ] = L_val(λ, w)
# ```

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same route works for $\alpha$: score the best response $\mathbf m_N(\alpha)$ on the 100 held-out
# points and minimize over $\ln\alpha$. Each evaluation is one $(M+1) \times (M+1)$ solve.

# %% slideshow={"slide_type": "-"}
val = hp.validation_over_alpha(Phi9, t, Phi9_val, t_val, wide, BETA)
ln_alpha_val = float(wide[val.argmin()])
mse_at_evidence = hp.validation_error(Phi9, t, Phi9_val, t_val, alpha_fp, BETA)
print(f"validation argmin  ln alpha = {ln_alpha_val:.2f}, validation MSE {float(val.min()):.4f}")
print(f"evidence optimum   ln alpha = {math.log(alpha_fp):.2f}, validation MSE {mse_at_evidence:.4f}")
print("noise variance 0.3^2 = 0.0900 is the floor")

fig, ax = plt.subplots()
_ = ax.plot(wide, val, label="validation MSE (100 held-out points)")
_ = ax.axvline(ln_alpha_val, color="C0", linestyle="--", label=rf"validation argmin {ln_alpha_val:.2f}")
_ = ax.axvline(math.log(alpha_fp), color="C1", linestyle="--", label=rf"evidence optimum {math.log(alpha_fp):.2f}")
_ = ax.axhline(0.09, color="gray", linestyle=":", label="noise floor 0.09")
ax.set(title=r"Validation error vs $\ln\alpha$ (M = 9, $\beta$ = 11.1)", xlabel=r"$\ln\alpha$",
       ylabel="mean squared error", ylim=(0.0, 0.6))
_ = ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The two criteria answer different questions. Validation asks "which α predicts new points from the
# same x-range best?" and spends 100 extra points to answer; the evidence asks "which prior made these
# 10 points most probable?" and uses nothing else. Here validation prefers a much weaker prior and halves
# the held-out error (0.095 vs 0.193). The evidence is cheaper and needs no held-out data; validation is
# closer to the question one usually cares about.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Black-box search: grid vs random
# Without a fixed-point formula we can only *evaluate* the objective. How many evaluations of the
# evidence does it take to land within $0.05$ of the best $\ln\alpha$ on $[-12, 4]$?
# - **Grid** of $k$ points: spacing $16/(k-1)$. The worst optimum sits mid-gap, so the grid is
#   guaranteed within tolerance once half the spacing is $\le 0.05$; smaller grids hit or miss by luck.
# - **Random** (uniform) search: each draw lands in the 0.1-wide target window with probability
#   $p = 0.1/16$, so the number of draws until the first hit is geometric.

# %% slideshow={"slide_type": "-"}
LO, HI, TOL = -12.0, 4.0, 0.05
target = math.log(alpha_fp)
evidence_9 = lambda ln_a: hp.evidence_over_alpha(Phi9, t, ln_a, BETA)  # noqa: E731 — the black box
grid_error = [abs(hp.search(evidence_9, hp.grid_points(LO, HI, k))[0] - target) for k in range(1, 201)]
k_always = next(k for k in range(1, 201) if max(grid_error[k - 1:]) <= TOL)
needed = np.array([hp.evaluations_needed(hp.running_best(evidence_9, hp.random_points(LO, HI, 3000, seed=s)),
                                         target, TOL) for s in range(200)], dtype=float)
p = 2 * TOL / (HI - LO)
print(f"grid: every k >= {k_always} lands within {TOL} here (guarantee for any optimum: k >= 161); "
      f"smallest lucky k = {1 + next(i for i, e in enumerate(grid_error) if e <= TOL)}")
print(f"random, 200 runs: median {np.median(needed):.0f} evaluations, 90th percentile "
      f"{np.percentile(needed, 90):.0f}, worst {needed.max():.0f}")
print(f"geometric law:    median {math.log(0.5) / math.log(1 - p):.0f}, 90th percentile {math.log(0.1) / math.log(1 - p):.0f}")

# %% slideshow={"slide_type": "subslide"}
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
_ = left.plot(range(1, 201), grid_error, marker=".", linestyle="none")
_ = left.axhline(TOL, color="gray", linestyle=":", label=f"tolerance {TOL}")
_ = left.axvline(161, color="C1", linestyle="--", label="guarantee, k = 161")
left.set(title="Grid search: error of the best point", xlabel="grid size $k$ (evaluations)",
         ylabel=r"$|\ln\alpha_{\rm best} - \ln\alpha^*|$", yscale="log")
_ = left.legend(loc="lower left")
ks = np.arange(1, 401)
_ = right.plot(ks, [float(np.mean(needed <= k)) for k in ks], label="200 random-search runs")
_ = right.plot(ks, 1 - (1 - p) ** ks, color="gray", linestyle=":", label="geometric law")
_ = right.axvline(161, color="C1", linestyle="--", label="grid guarantee")
right.set(title="Random search: share of runs within tolerance", xlabel="evaluations", ylabel="share of runs")
_ = right.legend(loc="lower right")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# In one dimension the grid wins: its guarantee (161 evaluations) beats random search's 90th percentile
# (345 in the runs, 367 by the geometric law). Random search is still the recommended baseline (Bergstra & Bengio 2012) because real
# searches have many dimensions of which only a few matter: a $k \times k$ grid over (important,
# irrelevant) spends $k^2$ evaluations on only $k$ distinct values of the important one, while $k^2$
# random points try $k^2$ distinct values. MacKay's fixed point needed neither: a handful of iterations.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Explore: degree, prior and noise
# Left: the posterior predictive (mean ± one std). Right: the evidence of every degree at the current
# $(\alpha, \beta)$, the current $M$ marked. Things to try: $\alpha = 100$ at $M = 9$ (the band collapses
# towards a flat line and the high degrees recover); a small $\beta$ (the band widens and every degree
# looks alike); the joint re-estimate $\alpha \approx 29$, $\beta \approx 2.8$.

# %% slideshow={"slide_type": "-"}
def explore(M: int = 3, alpha: float = ALPHA, beta: float = BETA):
    """Posterior predictive band and evidence-vs-degree for the chosen (M, α, β)."""
    Phi = hp.polynomial_design(x, M)
    mu, sd = hp.predictive(hp.polynomial_design(x_fine, M), *hp.posterior(Phi, t, alpha, beta), beta)
    ev = hp.evidence_by_degree(x, t, DEGREES, alpha, beta)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    _ = left.plot(x_fine, torch.sin(2 * math.pi * x_fine), color="gray", label="sin 2πx")
    _ = left.plot(x_fine, mu, color="C1", label="predictive mean")
    _ = left.fill_between(x_fine, mu - sd, mu + sd, color="C1", alpha=0.25, label="± one std")
    _ = left.scatter(x, t, color="C0", zorder=3)
    left.set(title=f"Posterior predictive, degree M = {M}", xlabel="x", ylabel="t", ylim=(-2.5, 2.5))
    _ = left.legend(loc="lower left", fontsize=10)
    _ = right.plot(list(DEGREES), ev, marker="o")
    _ = right.plot([M], [ev[M]], marker="*", markersize=16, color="C1", linestyle="none")
    right.set(title=f"ln p(t | M = {M}) = {float(ev[M]):.2f}, best M = {int(ev.argmax())}",
              xlabel="degree M", ylabel="log evidence", xticks=list(DEGREES))
    return fig


live(explore, M=slider("polynomial degree M", 0, 9, 1), alpha=log_slider("prior precision α", 1e-4, 1e3),
     beta=log_slider("noise precision β", 0.1, 1000.0))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What breaks outside this exact case
# - **No closed-form evidence.** For a neural network $\int p(\mathcal D\mid\mathbf w)p(\mathbf w)\,d\mathbf w$ has
#   no formula. Lecture 02 bounds it from below along gradient descent itself.
# - **No closed-form best response.** $\mathbf w^*(\lambda)$ is the end of a long training run, so every
#   outer evaluation is a training run: hypernetworks learn the map $\lambda \mapsto \mathbf w^*$
#   (lecture 05), hypergradients differentiate through the run (lecture 06), and black-box search
#   spends its evaluations better (lecture 07).
# - **Many knobs.** The grid's guarantee costs $161^d$ evaluations in $d$ dimensions.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What to remember
# 1. Hyperparameters parametrize the **prior**, so the evidence $p(\mathcal D\mid\mathbf h)$ depends on
#    them; metaparameters parametrize the **optimization** (or the approximate posterior we fit), so it
#    does not. Dropout's rate is either, depending on the model you declare.
# 2. Linear-Gaussian models give the evidence in closed form; MacKay's fixed point maximizes it
#    without a search. One noise draw is not a law: seed 0 picks $M = 3$, most draws pick $M = 4$.
# 3. A metaparameter such as $(\eta, T)$ moves the solution and the validation error; at convergence
#    it stops mattering, because only the argmin is left.
# 4. Both kinds can be chosen on held-out data (the bilevel problem); grid search has a guarantee
#    in one dimension, random search wins when most dimensions do not matter.
#
# **Next:** lecture 02 gives gradient descent an evidence of its own: the learning rate and the
# number of steps shape a distribution $q_T$ over weights, and its lower bound on the evidence tells
# us when to stop.
