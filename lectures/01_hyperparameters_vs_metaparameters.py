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
# The vocabulary of the whole course. A *hyperparameter* is a parameter of the prior; a
# *metaparameter* is a parameter of the optimization problem. We choose the first kind by the
# evidence, either kind by validation, and count what a black-box search costs.

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
from mlcourse.widgets import live, slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen

ALPHA, BETA = 5e-3, 11.1  # PRML §3.5's prior precision and noise precision
DEGREES = range(10)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Parameters, structure, prior
# A model $f$ has parameters $\mathbf w \in \mathbb W$ and a structure $\Gamma$ (which units,
# which layers, which basis functions). Before seeing data we state a **prior**
# $$p(\mathbf w, \Gamma \mid \mathbf h): \ \mathbb W \times \boldsymbol\Gamma \times \mathbb H \to \mathbb R^+ .$$
# **Hyperparameters** $\mathbf h \in \mathbb H$ are the parameters of this prior: they say what
# the model believes before the data arrive.

# %% [markdown] slideshow={"slide_type": "fragment"}
# Running example (Bishop, PRML §3.3–3.5): a polynomial of degree $M$ (the structure), weights
# with prior $p(\mathbf w \mid \alpha) = \mathcal N(\mathbf w \mid 0, \alpha^{-1} I)$, targets with
# noise precision $\beta$: $t = \mathbf w^\top \boldsymbol\phi(x) + \varepsilon$,
# $\varepsilon \sim \mathcal N(0, \beta^{-1})$. The hyperparameter is $\alpha$.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Metaparameters
# *A parameter that controls the value of one or more others.* In this course:
# **metaparameters** $\lambda$ are the parameters of the **optimization problem** that produces
# $\mathbf w$ — learning rate, momentum, number of steps, initialization scale, batch size.
#
# They say nothing about what the model believes; they decide *how we get to* a $\mathbf w$.
# Changing a hyperparameter changes the target; changing a metaparameter changes the route (and,
# when the route is stopped early, where we end up).

# %% [markdown] slideshow={"slide_type": "notes"}
# Ask the room for examples before showing the list. Most people call everything a "hyperparameter";
# the point of the split is that the two kinds are chosen by different principles: the evidence can
# rank priors, it cannot rank learning rates unless the optimizer itself is read as inference.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Three questions — argue both ways
# **1. Is the dropout rate a hyper- or a metaparameter?**
# - *Meta*, read as a training trick: dropout is noise injected into the optimization, its rate
#   is a knob of SGD like the batch size.
# - *Hyper*, read as Bayesian: each mask is a structure $\Gamma$ (which units exist); dropping
#   units with rate $p$ is a distribution over structures, and $p$ is its parameter — a parameter
#   of a (variational or structural) prior.
#
# The answer depends on which model you say you are fitting. Say it.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **2. A Gumbel-softmax distribution $q(\Gamma)$ over network structures is used as a variational
# distribution. Is its temperature $\tau$ a hyper- or a metaparameter?**
# - It lives in a distribution over $\Gamma$, which makes it look like a prior parameter.
# - But $q$ is not the prior: it is the *approximation* we optimize. $\tau$ trades the bias of the
#   relaxation against the variance of its gradients, and is usually annealed during training.
#   It shapes the optimization, not the beliefs: a **metaparameter**.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **3. Is the SGD learning rate a hyper- or a metaparameter?**
# - In the ordinary reading it is the textbook **metaparameter**: the loss, the prior and the
#   optimum do not depend on it.
# - Under "gradient descent as variational inference" (lecture 02) the iterates from a random
#   initialization define a distribution $q(\mathbf w)$ over weights, and the step size shapes
#   that $q$ — so it acts on the (approximate) posterior, and the boundary blurs.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The bilevel problem
# Any metaparameter (and any hyperparameter chosen by validation) is the outer variable of
# $$\lambda^* = \arg\min_\lambda \mathcal L_{\text{val}}\bigl(\lambda, \mathbf w^*(\lambda)\bigr),
# \qquad \mathbf w^*(\lambda) = \arg\min_{\mathbf w} \mathcal L_{\text{train}}(\lambda, \mathbf w).$$
# The inner problem fits weights; the outer one scores the fit on data the inner loop never saw.
# $\mathbf w^*(\lambda)$ is the *best-response* function.
#
# ```
# for λ in candidates:                  # outer loop: search
#     w = init();  while not converged: w = step(w, λ)   # inner loop: train
#     score[λ] = L_val(λ, w)
# ```

# %% [markdown] slideshow={"slide_type": "subslide"}
# For the polynomial the inner problem has a closed form: with
# $\mathcal L_{\text{train}} = \tfrac{\beta}{2}\lVert \mathbf t - \Phi\mathbf w\rVert^2 + \tfrac{\alpha}{2}\lVert\mathbf w\rVert^2$,
# the best response is the posterior mean $\mathbf w^*(\alpha) = \mathbf m_N = \beta S_N \Phi^\top \mathbf t$,
# $S_N^{-1} = \alpha I + \beta \Phi^\top\Phi$ (PRML 3.53–3.54). So each outer evaluation costs one
# $M \times M$ solve — cheap enough to count evaluations honestly later.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Type-II maximum likelihood: the evidence
# A hyperparameter has a second route that needs no validation data. Integrate the weights out
# and keep the **evidence** $p(\mathbf t \mid \alpha, \beta) = \int p(\mathbf t \mid \mathbf w, \beta)\, p(\mathbf w \mid \alpha)\, d\mathbf w$,
# then choose $\alpha, \beta$ (and the structure $M$) to maximize it. For the linear-Gaussian
# model (PRML 3.86), with $M$ basis functions and $A = S_N^{-1}$:
# $$\ln p(\mathbf t\mid\alpha,\beta) = \tfrac{M}{2}\ln\alpha + \tfrac N2 \ln\beta - E(\mathbf m_N)
# - \tfrac12 \ln|A| - \tfrac N2 \ln 2\pi,\quad E(\mathbf m_N) = \tfrac\beta2\lVert\mathbf t-\Phi\mathbf m_N\rVert^2 + \tfrac\alpha2 \mathbf m_N^\top\mathbf m_N .$$

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The data
# $N = 10$ points, $x$ evenly spaced on $[0, 1]$, $t = \sin 2\pi x + \varepsilon$ with
# $\varepsilon \sim \mathcal N(0, 0.3^2)$ from `numpy.random.default_rng(0)`.

# %% slideshow={"slide_type": "-"}
x, t = hp.sine_data(n=10, noise=0.3, seed=0)
x_fine = torch.linspace(0, 1, 200, dtype=torch.float64)

fig, ax = plt.subplots()
_ = ax.plot(x_fine, torch.sin(2 * math.pi * x_fine), color="gray", label=r"$\sin 2\pi x$")
_ = ax.scatter(x, t, color="C0", zorder=3, label="targets $t_n$ (seed 0)")
ax.set(title="Ten noisy samples of a sine", xlabel="$x$", ylabel="$t$")
_ = ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Check 1: the formula is the Gaussian marginal
# Integrating $\mathbf w$ out of a linear-Gaussian model gives
# $\mathbf t \sim \mathcal N(0,\ \beta^{-1} I + \alpha^{-1}\Phi\Phi^\top)$. Formula 3.86 (an
# $M\times M$ computation) and this $N \times N$ density must agree.

# %% slideshow={"slide_type": "-"}
for M in (0, 3, 9):
    Phi = hp.polynomial_design(x, M)
    formula = hp.log_evidence(Phi, t, ALPHA, BETA)
    direct = hp.marginal_log_density(Phi, t, ALPHA, BETA)
    assert abs(formula - direct) <= 1e-8
    print(f"M = {M}:  PRML 3.86 {formula:9.4f}   ln N(t | 0, C) {direct:9.4f}   |difference| <= 1e-8")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Choosing the structure: evidence vs degree
# With $\alpha = 5\cdot 10^{-3}$, $\beta = 11.1$ fixed, the evidence of each degree $M = 0 \dots 9$
# (PRML Fig. 3.14). Too simple a model cannot explain the data; too flexible a model spreads its
# prior mass over many data sets and explains this one only weakly.

# %% slideshow={"slide_type": "-"}
SYLLABUS_CURVE = [-25.616, -16.417, -18.310, -12.981, -13.109, -13.833, -14.416, -14.883, -15.306, -15.705]
curve = hp.evidence_by_degree(x, t, DEGREES, ALPHA, BETA)
assert np.allclose(curve.numpy(), SYLLABUS_CURVE, atol=1e-3)
M_best = int(curve.argmax())
assert M_best == 3
print("ln p(t | M):", "  ".join(f"{v:.3f}" for v in curve.tolist()))
print(f"best degree for this draw: M = {M_best}")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
_ = ax.plot(list(DEGREES), curve, marker="o")
_ = ax.plot([M_best], [curve[M_best]], marker="*", markersize=16, color="C1", linestyle="none",
            label=f"maximum, M = {M_best}")
ax.set(title="Evidence of each polynomial degree (seed 0)", xlabel="degree $M$",
       ylabel=r"$\ln p(\mathbf{t}\mid\alpha,\beta,M)$")
_ = ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## One draw is not a law
# Repeat the experiment for 1000 noise draws (seeds 0 … 999) and record which degree wins.

# %% slideshow={"slide_type": "-"}
counts = hp.best_degree_counts(1000, DEGREES, ALPHA, BETA)
share_345 = float(counts[3:6].sum()) / 1000
assert abs(share_345 - 0.95) < 0.02 and int(counts.argmax()) == 4
print("wins per degree M = 0..9:", counts.tolist())
print(f"argmax in {{3, 4, 5}}: {share_345:.1%} of draws; most frequent: M = {int(counts.argmax())}")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
_ = ax.bar(list(DEGREES), counts.numpy(), color="C0")
ax.set(title="Which degree maximizes the evidence, over 1000 noise draws", xlabel="degree $M$",
       ylabel="number of draws", xticks=list(DEGREES))
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Seed 0 happens to pick M = 3, like PRML's figure; across draws M = 4 wins most often and M = 3, 4, 5
# together take about 95 %. The cubic-vs-quartic call is within noise at N = 10. Note the small
# bump at M = 9: with α this small, a few draws are best explained by the most flexible model.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Choosing α: evidence vs $\ln\alpha$, and MacKay's fixed point
# Now fix $M = 9$, $\beta = 11.1$ and scan $\ln\alpha$. Setting $\partial \ln p / \partial\alpha = 0$
# gives a fixed-point equation (MacKay 1992; PRML 3.91–3.92):
# $$\gamma = \sum_i \frac{\lambda_i}{\alpha + \lambda_i}, \qquad \alpha \leftarrow \frac{\gamma}{\mathbf m_N^\top \mathbf m_N},$$
# $\lambda_i$ the eigenvalues of $\beta\Phi^\top\Phi$. $\gamma$ counts the *well-determined*
# parameters: directions where the data outweigh the prior.

# %% slideshow={"slide_type": "-"}
Phi9 = hp.polynomial_design(x, 9)
ln_alpha_grid = hp.grid_points(-3.0, 2.0, 201)  # step 0.025
ev_alpha = hp.evidence_over_alpha(Phi9, t, ln_alpha_grid, BETA)
ln_alpha_gridmax = float(ln_alpha_grid[ev_alpha.argmax()])
alpha_fp, _, gamma_fp = hp.reestimate(Phi9, t, alpha=1.0, beta=BETA, fit_beta=False)
assert abs(ln_alpha_gridmax - (-0.375)) < 1e-6 and abs(math.log(alpha_fp) - (-0.380)) < 1e-3
assert abs(gamma_fp - 3.28) < 1e-2 and abs(ln_alpha_gridmax - math.log(alpha_fp)) < 0.05
print(f"grid argmax ln alpha = {ln_alpha_gridmax:.3f}")
print(f"fixed point ln alpha = {math.log(alpha_fp):.3f}, gamma = {gamma_fp:.2f} of 10 parameters")

# %% slideshow={"slide_type": "subslide"}
wide = hp.grid_points(-12.0, 4.0, 321)
fig, ax = plt.subplots()
_ = ax.plot(wide, hp.evidence_over_alpha(Phi9, t, wide, BETA), label=r"$\ln p(\mathbf{t}\mid\alpha,\beta)$")
_ = ax.axvline(math.log(alpha_fp), color="C1", linestyle="--",
               label=rf"fixed point $\ln\alpha$ = {math.log(alpha_fp):.3f}, $\gamma$ = {gamma_fp:.2f}")
_ = ax.axvline(math.log(ALPHA), color="gray", linestyle=":", label=r"PRML's $\alpha = 5\cdot10^{-3}$")
ax.set(title=r"Evidence vs $\ln\alpha$ (M = 9, $\beta$ = 11.1)", xlabel=r"$\ln\alpha$", ylabel="log evidence")
_ = ax.legend(loc="lower center")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Both at once: joint $(\alpha, \beta)$ re-estimation
# The same argument for $\beta$ gives $1/\beta \leftarrow \lVert\mathbf t - \Phi\mathbf m_N\rVert^2 / (N - \gamma)$
# (PRML 3.95): the noise variance is the residual per *undetermined* degree of freedom.
# Alternating the two updates from $\alpha = \beta = 1$:

# %% slideshow={"slide_type": "-"}
alpha_j, beta_j, gamma_j = hp.reestimate(Phi9, t, alpha=1.0, beta=1.0)
assert abs(alpha_j - 28.65) < 1e-2 and abs(beta_j - 2.768) < 1e-3
print(f"alpha = {alpha_j:.2f}, beta = {beta_j:.3f}, gamma = {gamma_j:.2f}")
print(f"implied noise std 1/sqrt(beta) = {1 / math.sqrt(beta_j):.2f} (the data were made with 0.30)")
ev_joint, ev_alpha_only = hp.log_evidence(Phi9, t, alpha_j, beta_j), hp.log_evidence(Phi9, t, alpha_fp, BETA)
assert ev_joint > ev_alpha_only
print(f"log evidence {ev_joint:.2f} here vs {ev_alpha_only:.2f} with beta held at 11.1")

# %% [markdown] slideshow={"slide_type": "fragment"}
# The same point is reached from every start we tried, and a 2-D grid over $(\ln\alpha, \ln\beta)$
# finds nothing higher (see the tests). With ten points and both precisions free, the evidence
# settles on a strong prior, about one
# well-determined parameter, and a noise level twice the true one: "mostly noise around a simple
# curve" explains these ten points about as well as a sine, and it is the simpler story. Type-II ML
# fits hyperparameters to *this* data set; with this little data it can be confidently wrong.

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
for (a, b, name, colour) in [(ALPHA, BETA, "PRML's fixed alpha, beta", "C2"),
                             (alpha_j, beta_j, "joint re-estimate", "C1")]:
    mu, sd = hp.predictive(hp.polynomial_design(x_fine, 9), *hp.posterior(Phi9, t, a, b), b)
    _ = ax.plot(x_fine, mu, color=colour, label=name)
    _ = ax.fill_between(x_fine, mu - sd, mu + sd, color=colour, alpha=0.2)
_ = ax.scatter(x, t, color="C0", zorder=3)
ax.set(title="Posterior predictive, M = 9: mean ± one std", xlabel="$x$", ylabel="$t$", ylim=(-2.5, 2.5))
_ = ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Validation search: the bilevel route
# Now treat $\alpha$ like any metaparameter: hold out 100 fresh points (seed 1), score the best
# response $\mathbf m_N(\alpha)$ by its validation mean squared error, and minimize over $\ln\alpha$.

# %% slideshow={"slide_type": "-"}
x_val, t_val = hp.sine_data(n=100, noise=0.3, seed=1)
Phi9_val = hp.polynomial_design(x_val, 9)
val = hp.validation_over_alpha(Phi9, t, Phi9_val, t_val, wide, BETA)
ln_alpha_val = float(wide[val.argmin()])
mse_at_evidence = hp.validation_error(Phi9, t, Phi9_val, t_val, alpha_fp, BETA)
assert abs(ln_alpha_val - (-6.35)) < 0.06
print(f"validation argmin ln alpha = {ln_alpha_val:.2f}, validation MSE {float(val.min()):.3f}")
print(f"evidence fixed point ln alpha = {math.log(alpha_fp):.2f}, validation MSE {mse_at_evidence:.3f}")
print("noise variance 0.3^2 = 0.090 is the floor")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
_ = ax.plot(wide, val, label="validation MSE (100 held-out points)")
_ = ax.axvline(ln_alpha_val, color="C0", linestyle="--", label=rf"validation argmin {ln_alpha_val:.2f}")
_ = ax.axvline(math.log(alpha_fp), color="C1", linestyle="--", label=rf"evidence optimum {math.log(alpha_fp):.2f}")
_ = ax.axhline(0.09, color="gray", linestyle=":", label="noise floor 0.09")
ax.set(title=r"Validation error vs $\ln\alpha$ (M = 9, $\beta$ = 11.1)", xlabel=r"$\ln\alpha$",
       ylabel="mean squared error", ylim=(0.0, 0.6))
_ = ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The two criteria answer different questions. Validation asks "which α predicts new points from
# the same x-range best?" and uses 100 extra points to answer; the evidence asks "which prior made
# these 10 points most probable?" and uses nothing else. Here validation prefers a much weaker prior.
# Neither is wrong; the evidence is cheaper and needs no held-out data, validation is closer to the
# question one usually cares about.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Black-box search: grid vs random
# Without a fixed-point formula we can only *evaluate* the objective. How many evaluations of
# the evidence does it take to land within $0.05$ of the optimal $\ln\alpha$ on $[-12, 4]$?
# - **Grid** of $k$ points: spacing $16/(k-1)$; it is guaranteed once half the spacing is
#   $\le 0.05$, i.e. $k \ge 161$ — smaller grids hit or miss by luck of alignment.
# - **Random** (uniform) search: each draw lands in the target window with probability
#   $p = 0.1/16$; the count until the first hit is geometric.

# %% slideshow={"slide_type": "-"}
LO, HI, TOL = -12.0, 4.0, 0.05
target = math.log(alpha_fp)
evidence_9 = lambda ln_a: hp.evidence_over_alpha(Phi9, t, ln_a, BETA)  # noqa: E731 — the black box
grid_error = [abs(hp.search(evidence_9, hp.grid_points(LO, HI, k))[0] - target) for k in range(1, 201)]
k_always = next(k for k in range(1, 201) if max(grid_error[k - 1:]) <= TOL)
needed = [hp.evaluations_needed(hp.running_best(evidence_9, hp.random_points(LO, HI, 3000, seed=s)), target, TOL)
          for s in range(200)]
needed = np.array(needed, dtype=float)
assert not np.isnan(needed).any() and 140 <= k_always <= 161
print(f"grid: every k >= {k_always} lands within {TOL} (guarantee: k >= 161); smallest lucky k = "
      f"{1 + next(i for i, e in enumerate(grid_error) if e <= TOL)}")
print(f"random, 200 runs: median {np.median(needed):.0f} evaluations, 90th percentile "
      f"{np.percentile(needed, 90):.0f}, worst {needed.max():.0f}")
p = 2 * TOL / (HI - LO)
print(f"geometric law: median {math.log(0.5) / math.log(1 - p):.0f}, 90th percentile {math.log(0.1) / math.log(1 - p):.0f}")

# %% slideshow={"slide_type": "subslide"}
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
_ = left.plot(range(1, 201), grid_error, marker=".", linestyle="none")
_ = left.axhline(TOL, color="gray", linestyle=":", label=f"tolerance {TOL}")
_ = left.axvline(161, color="C1", linestyle="--", label="guarantee, k = 161")
left.set(title="Grid search: error of the best point", xlabel="grid size $k$ (evaluations)",
         ylabel=r"$|\ln\alpha_{\rm best} - \ln\alpha^*|$", yscale="log")
_ = left.legend()
ks = np.arange(1, 401)
_ = right.plot(ks, [float(np.mean(needed <= k)) for k in ks], label="200 random-search runs")
_ = right.plot(ks, 1 - (1 - p) ** ks, color="gray", linestyle=":", label="geometric law")
_ = right.axvline(161, color="C1", linestyle="--", label="grid guarantee")
right.set(title="Random search: share of runs within tolerance", xlabel="evaluations", ylabel="share of runs")
_ = right.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# In one dimension the grid wins: its guarantee (161) beats random search's tail (about 370 for 90 %).
# Random search is still the recommended baseline (Bergstra & Bengio 2012) because real searches have
# many dimensions and only a few matter: a $k \times k$ grid over (important, irrelevant) spends
# $k^2$ evaluations on only $k$ distinct values of the important one, while $k^2$ random points try
# $k^2$ distinct values. The evidence's fixed point needed neither: a handful of iterations.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Explore: degree, prior and noise precision
# Move $M$, $\ln\alpha$ and $\ln\beta$. Left: the posterior predictive (mean ± one std). Right:
# the evidence of every degree at the current $(\alpha, \beta)$, the current $M$ marked.

# %% slideshow={"slide_type": "-"}
def explore(M: int = 3, ln_alpha: float = round(math.log(ALPHA), 1), ln_beta: float = round(math.log(BETA), 1)):
    """Posterior predictive band and evidence-vs-degree for the chosen (M, ln α, ln β)."""
    alpha, beta = math.exp(ln_alpha), math.exp(ln_beta)
    mu, sd = hp.predictive(hp.polynomial_design(x_fine, M), *hp.posterior(hp.polynomial_design(x, M), t, alpha, beta), beta)
    ev = hp.evidence_by_degree(x, t, DEGREES, alpha, beta)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    _ = left.plot(x_fine, torch.sin(2 * math.pi * x_fine), color="gray", label=r"$\sin 2\pi x$")
    _ = left.plot(x_fine, mu, color="C1", label="predictive mean")
    _ = left.fill_between(x_fine, mu - sd, mu + sd, color="C1", alpha=0.25, label="± one std")
    _ = left.scatter(x, t, color="C0", zorder=3)
    left.set(title=f"Posterior predictive, M = {M}", xlabel="$x$", ylabel="$t$", ylim=(-2.5, 2.5))
    _ = left.legend(loc="lower left", fontsize=9)
    _ = right.plot(list(DEGREES), ev, marker="o")
    _ = right.plot([M], [ev[M]], marker="*", markersize=16, color="C1", linestyle="none")
    right.set(title=f"Evidence: ln p(t | M={M}) = {float(ev[M]):.2f}", xlabel="degree $M$",
              ylabel="log evidence", xticks=list(DEGREES))
    return fig


live(explore, M=slider("polynomial degree M", 0, 9, 1), ln_alpha=slider("log prior precision ln α", -12.0, 4.0, 0.1),
     ln_beta=slider("log noise precision ln β", -2.0, 6.0, 0.1))

# %% [markdown] slideshow={"slide_type": "notes"}
# Things to try: raise ln α to 4 at M = 9 — the band collapses to a flat line and the evidence of
# high degrees recovers; lower ln β — the band widens and every degree looks alike; set ln α, ln β
# to the joint re-estimate (3.4, 1.0) and compare with the defaults.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## When the learning rate itself is tuned
# Here the inner problem had a closed form, so $\mathbf w^*(\lambda)$ was exact and only $\alpha$
# (a hyperparameter) was searched. Tuning a learning rate changes three things:
# - $\mathbf w^*(\lambda)$ is no longer an argmin but *the end of a trajectory*: $T$ optimizer
#   steps, whose result depends on the step size, the number of steps and the start.
# - The evidence no longer covers it — unless the trajectory is read as inference:
#   **lecture 02** estimates the evidence *along* gradient descent.
# - Each outer evaluation is a full training run, so the outer loop needs gradients through the
#   inner one (**lecture 06**, hypergradients over long horizons) or smarter black-box search
#   (**lecture 07**: random search, Bayesian optimization, Hyperband).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - Hyperparameters parametrize the **prior** $p(\mathbf w, \Gamma \mid \mathbf h)$;
#   metaparameters parametrize the **optimization problem**. Some quantities are either,
#   depending on the model you claim to fit.
# - Both can be chosen by the **bilevel** problem (validation); hyperparameters also by the
#   **evidence** (type-II ML), here in closed form (PRML 3.86) with MacKay's fixed point.
# - The evidence picks $M = 3$ for seed 0, but over 1000 draws $M \in \{3, 4, 5\}$ in ~95 % and
#   $M = 4$ most often: one draw is not a law.
# - Grid search has a guarantee in 1-D; random search wins when most dimensions do not matter.
