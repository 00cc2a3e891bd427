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
# # 09 · Double descent
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mlcourse/mlcourse/HEAD?urlpath=lab/tree/lectures/09_double_descent.ipynb)
#
# Bigger models and more data can make the test error worse — and then better again. We measure
# this on three models small enough for a laptop CPU, draw the theory over the measurements, and
# see what regularization does to the peak.

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

import mlcourse
from mlcourse import double_descent as dd
from mlcourse.widgets import choice, live, slider, toggle

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen

D, SIGMA = 500, 0.5  # the linear model: d parameters, noise level σ, ‖β‖ = 1

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Over-parameterized networks generalize
# CIFAR-10 has 50 000 training images. Networks with far more parameters than that, trained by SGD
# to **zero training loss**:
#
# | architecture | parameters | training loss | test accuracy |
# |---|---|---|---|
# | MLP | 1.2 M | 0 | 51 % |
# | AlexNet | 1.4 M | 0 | 77 % |
# | Inception | 1.65 M | 0 | 86 % |
# | ResNet | 9 M | 0 | 88 % |
#
# Every row interpolates the training set, and the largest model generalizes best
# (Zhang et al. 2017, "Understanding deep learning requires rethinking generalization").

# %% [markdown] slideshow={"slide_type": "fragment"}
# The same networks also fit CIFAR-10 with **random labels** to zero training loss. So capacity
# alone cannot explain why they generalize on the true labels: whatever selects the solution —
# the architecture, SGD's implicit bias — matters more than the parameter count.

# %% [markdown] slideshow={"slide_type": "notes"}
# Ask: by the textbook bias–variance story, which row should generalize worst? The one with the most
# parameters. It is the best. Table as on the course slides, after Zhang et al. 2017 (their Table 1
# lists exact parameter counts and accuracies with and without regularization).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Conventional thinking, and three ways it breaks
# - Larger models are better — *until* they are just large enough to fit the training set.
# - More data is better — *except* near the point where the data exactly matches the model size.
# - Early stopping is good — *but* the error can come down again long after its first minimum.
#
# Nakkiran et al. (2019, "Deep double descent: where bigger models and more data hurt") found each
# failure in deep networks: **model-wise**, **sample-wise** and **epoch-wise double descent**.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Classical U-shape vs double descent
# The classical picture: test error against model complexity is a **U** — bias falls, variance
# rises, the sweet spot lies in between. Double descent extends the U: the error peaks where the
# model can *just* interpolate the training data, then falls again, often below the bottom of the U
# (Belkin et al. 2019, "Reconciling modern machine-learning practice and the classical
# bias–variance trade-off").

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Three regimes around the interpolation threshold
# The **interpolation threshold** is the complexity at which the model first fits the training set
# exactly — for a linear model with $d$ parameters and $n$ samples, $d = n$.
# 1. **Pre-critical** ($d < n$): the classical U; more complexity eventually hurts.
# 2. **Critical** ($d \approx n$): exactly one model fits the data, noise included; the test error
#    peaks.
# 3. **Post-critical** ($d > n$): many models interpolate; the learner picks a small-norm one, and
#    more parameters help again.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A linear model where everything is computable
# Inputs $x \sim \mathcal N(0, I_d)$, targets $y = x^\top\beta + \sigma\varepsilon$ with
# $\|\beta\| = 1$. From $n$ samples $X \in \mathbb R^{n\times d}$ take the **min-norm least-squares**
# estimate
# $$\hat\beta = X^{+} y ,$$
# the unique least-squares fit when $n \ge d$ and, when $n < d$, the smallest-norm interpolant —
# the one gradient descent from zero converges to. Its excess risk is
# $\mathbb E_x[(x^\top\hat\beta - x^\top\beta)^2] = \|\hat\beta - \beta\|^2$.

# %% [markdown] slideshow={"slide_type": "subslide"}
# Averaged over $X$ and the noise (Belkin, Hsu & Xu 2019; Hastie et al. 2019):
# $$
# \mathbb E\,\|\hat\beta - \beta\|^2 =
# \begin{cases}
# \|\beta\|^2\left(1 - \dfrac{n}{d}\right) + \sigma^2 \dfrac{n}{d - n - 1}, & n \le d - 2,\\[2ex]
# \sigma^2 \dfrac{d}{n - d - 1}, & n \ge d + 2,
# \end{cases}
# $$
# and infinite in between. The first term is the **bias** (the $d - n$ directions the data never
# saw); the others are **variance** (noise amplified by the small singular values of $X$).

# %% [markdown] slideshow={"slide_type": "subslide"}
# Monte Carlo against theory, $d = 500$, $\sigma = 0.5$, 20 draws of $(\beta, X, \varepsilon)$
# per $n$:

# %% slideshow={"slide_type": "-"}
print("   n   Monte Carlo   theory   rel. error")
for n in (100, 250, 600, 1000):
    mc, _ = dd.linear_risk(n, D, SIGMA, trials=20, seed=0)
    theory = dd.minnorm_risk_theory(n, D, SIGMA)
    assert abs(mc / theory - 1) < 0.10
    print(f"{n:4d}   {mc:11.3f}   {theory:6.3f}   {mc / theory - 1:+9.1%}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Sample-wise double descent: more data can hurt
# Fix the model ($d = 500$) and add samples. Dots: median of 5 draws; line: theory.

# %% slideshow={"slide_type": "-"}
ns = [50, 150, 250, 350, 400, 450, 480, 490, 495, 500, 505, 510, 520, 550, 600, 700, 850, 1000]
measured = np.array([dd.linear_risk(n, D, SIGMA, trials=5, seed=1)[1] for n in ns])
n_peak = ns[int(np.argmax(measured))]
assert abs(n_peak - D) <= 10
print(f"measured peak at n = {n_peak} (d = {D})")

grid = [n for n in range(20, 1001, 2) if math.isfinite(dd.minnorm_risk_theory(n, D, SIGMA))]
fig, ax = plt.subplots()
_ = ax.plot(grid, [dd.minnorm_risk_theory(n, D, SIGMA) for n in grid], label="theory", color="C0")
_ = ax.plot(ns, measured, "o", color="C1", label="Monte Carlo (median)")
_ = ax.axvline(D, color="gray", linestyle=":", label="interpolation threshold $n = d$")
ax.set(yscale="log", ylim=(0.1, 300), title="Sample-wise double descent, min-norm least squares",
       xlabel="training samples $n$", ylabel="excess risk $\\|\\hat\\beta - \\beta\\|^2$")
_ = ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Point at n = 400 → 500: 100 more samples multiply the risk by more than a hundred. Then ask what
# happens without noise (σ = 0): the variance terms vanish and the peak with them — in this
# well-specified model the peak is noise, amplified. The widget at the end lets you check.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Why the peak sits at $n = d$
# Near $n = d$ the square-ish matrix $X$ has singular values close to zero. Interpolating the noisy
# targets means dividing the noise by them: the variance term $\sigma^2 n / (d - n - 1)$ blows up.
# With fewer samples the min-norm solution has spare directions to stay small; with more, the
# extra equations average the noise out.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Optimal ridge removes the peak
# Ridge minimizes $\|y - X\beta\|^2 + \lambda\|\beta\|^2$. With the prior
# $\beta \sim \mathcal N(0, \tfrac{\|\beta\|^2}{d} I)$ the posterior mean is ridge with
# $$\lambda^* = \frac{d\,\sigma^2}{\|\beta\|^2} ,$$
# the best estimator for every $n$; its risk falls **monotonically** in $n$ (Nakkiran et al. 2021,
# "Optimal regularization can mitigate double descent"). Lines: the asymptotic ridge theory
# (Hastie et al. 2019); dots: Monte Carlo.

# %% slideshow={"slide_type": "-"}
lam_star = dd.optimal_ridge(D, SIGMA)
assert lam_star == 125.0
ns_ridge = list(range(100, 1001, 100))
measured_ridge = np.array([dd.linear_risk(n, D, SIGMA, ridge=lam_star, trials=5, seed=2)[0] for n in ns_ridge])
assert np.all(np.diff(measured_ridge) < 0)
print(f"λ* = {lam_star:g}: measured risk falls monotonically from {measured_ridge[0]:.3f} "
      f"(n = {ns_ridge[0]}) to {measured_ridge[-1]:.3f} (n = {ns_ridge[-1]})")

fig, ax = plt.subplots()
_ = ax.plot(grid, [dd.minnorm_risk_theory(n, D, SIGMA) for n in grid], label="$\\lambda = 0$")
for lam, colour in ((12.5, "C2"), (lam_star, "C1"), (1250.0, "C3")):
    _ = ax.plot(grid, [dd.ridge_risk_theory(n, D, SIGMA, lam) for n in grid], color=colour,
                label=f"$\\lambda = {lam:g}$" + (" $= \\lambda^*$" if lam == lam_star else ""))
_ = ax.plot(ns_ridge, measured_ridge, "o", color="C1", label="Monte Carlo, $\\lambda^*$")
ax.set(yscale="log", ylim=(0.1, 30), title="Ridge penalty and the sample-wise peak",
       xlabel="training samples $n$", ylabel="excess risk")
_ = ax.legend(ncol=2)
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Too little ridge (12.5) only dents the peak; too much (1250) is monotone but biased everywhere.
# λ* = dσ²/‖β‖² needs σ and ‖β‖, which we do not know in practice: it is a metaparameter to tune
# (lectures 01, 06, 07) — and tuning it by validation is what removes the peak in practice.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Model-wise double descent: random ReLU features
# Now fix the data and grow the model. $n = 100$ points $x \sim \mathcal N(0, I_{10}/10)$, target
# $\tanh(2 w^\top x)$ plus noise $0.1$; model $f(x) = a^\top \mathrm{relu}(W^\top x)$ with a random,
# frozen $W \in \mathbb R^{10\times p}$ and $a$ fitted by min-norm least squares. The threshold is
# $p = n$ (Belkin et al. 2019; Mei & Montanari 2019). Median test MSE over 10 draws.

# %% slideshow={"slide_type": "-"}
ps = sorted(set(range(10, 201, 10)) | {95, 105, 250, 300, 500, 1000})
rf_ridgeless = dd.random_features_curve(ps, seed=0).numpy()
rf_ridge = dd.random_features_curve(ps, ridge=0.1, seed=0).numpy()
at = {p: i for i, p in enumerate(ps)}
peak, left, right = rf_ridgeless[at[100]], rf_ridgeless[at[90]], rf_ridgeless[at[110]]
assert ps[int(np.argmax(rf_ridgeless))] == 100 and peak > 5 * max(left, right)
assert rf_ridge[at[100]] < 1.2 * min(rf_ridge[at[90]], rf_ridge[at[110]])
print(f"ridge 0     : test MSE {left:.3f} (p = 90), {peak:.2f} (p = 100), {right:.3f} (p = 110)")
print(f"ridge 0.1   : test MSE {rf_ridge[at[90]]:.3f} (p = 90), {rf_ridge[at[100]]:.3f} (p = 100), "
      f"{rf_ridge[at[110]]:.3f} (p = 110)")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
_ = ax.plot(ps, rf_ridgeless, marker="o", markersize=3, label="min-norm ($\\lambda = 0$)")
_ = ax.plot(ps, rf_ridge, marker="o", markersize=3, label="ridge $\\lambda = 0.1$")
_ = ax.axvline(100, color="gray", linestyle=":", label="interpolation threshold $p = n$")
ax.set(xscale="log", yscale="log", title="Model-wise double descent, random ReLU features ($n = 100$)",
       xlabel="number of features $p$", ylabel="median test MSE")
_ = ax.legend(loc="upper left")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The peak's height is heavy-tailed: it depends on the smallest singular value of a square random
# 100 × 100 feature matrix. For seeds 0–5 the median at p = 100 ranges from about 1.2 to 26 (the
# syllabus quotes 3.23 for its seed); its ratio to p = 90 and p = 110 stays above 5. The shape, not
# the height, is the claim.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Epoch-wise double descent: two time scales
# Training time is a complexity knob too. Heckel & Yilmaz (2021, "Early stopping in deep networks:
# double descent and how to eliminate it") explain the epoch-wise curve of Nakkiran et al. (2019)
# as a sum of bias–variance trade-offs that play out at different speeds. A linear model shows it:
# $n = 100$ samples, 50 **fast** features of scale 1 and 10 **slow** features of scale 0.05, each
# group carrying unit signal variance, noise $0.5$; full-batch gradient descent from zero.

# %% slideshow={"slide_type": "-"}
epochs, risk = dd.epochwise_curve(10_000, seed=0)
epochs, risk = epochs.numpy(), risk.numpy()
first = int(np.argmin(risk[: len(risk) // 3]))  # end of the first descent
bump = first + int(np.argmax(risk[first:]))  # top of the ascent that follows it
assert 0 < first < bump < len(risk) - 1
assert risk[bump] > 1.2 * risk[first] and risk[-1] < 0.5 * risk[first]
print(f"risk {risk[0]:.2f} at epoch 0 → {risk[first]:.2f} at epoch {epochs[first]} "
      f"→ {risk[bump]:.2f} at epoch {epochs[bump]} → {risk[-1]:.2f} at epoch {epochs[-1]}")
print(f"stopping at the first minimum: {risk[first] / risk[-1]:.1f}× the final risk")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
_ = ax.plot(epochs, risk, label="test risk")
_ = ax.axhline(risk[0], color="gray", linestyle=":", label="at initialization")
_ = ax.plot(epochs[[first, bump]], risk[[first, bump]], "o", color="C1",
            label="first minimum, then the bump")
ax.set_xscale("symlog", linthresh=1.0)  # linear between 0 and 1, logarithmic beyond
ax.set(title="Epoch-wise double descent: fast features, then slow ones",
       xlabel="epoch (full-batch gradient descent step)", ylabel="test risk")
_ = ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Read it in three phases. The fast features learn their signal within a few epochs (first
# descent). They then keep fitting the noise — and the slow features' signal, which they cannot
# represent and treat as noise (ascent). Only after about $1/(\eta \cdot 0.05^2)$ epochs do the
# slow features learn, and the error falls far below its first minimum (second descent). Early
# stopping at the first minimum would have kept a risk several times higher (the ratio is printed
# above the figure).

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## … and how to eliminate it
# Heckel & Yilmaz remove the bump by giving each feature a step size matched to its scale,
# $\eta_j = \eta / s_j^2$: both groups then learn on one time scale. (It is gradient descent on
# whitened features — the module's test checks that the two are the same curve.)

# %% slideshow={"slide_type": "-"}
epochs_eq, risk_eq = (t.numpy() for t in dd.epochwise_curve(10_000, seed=0, equalize=True))
best = int(np.argmin(risk_eq))
assert np.all(np.diff(risk_eq[: best + 1]) < 0) and np.all(np.diff(risk_eq[best:]) > -1e-12)  # one U
assert risk_eq[best] < risk.min()
print(f"equalized step sizes: one minimum, risk {risk_eq[best]:.3f} at epoch {epochs_eq[best]}; "
      f"one step size: {risk.min():.3f}, first reached at epoch {epochs[np.argmin(risk)]}")

fig, ax = plt.subplots()
_ = ax.plot(epochs, risk, label="one step size: two descents")
_ = ax.plot(epochs_eq, risk_eq, label="step size $\\eta / s_j^2$ per feature: one U")
_ = ax.plot(epochs_eq[best], risk_eq[best], "o", color="C1", label=f"its minimum, epoch {epochs_eq[best]}")
ax.set_xscale("symlog", linthresh=1.0)
ax.set(title="Matching step sizes to feature scales removes the bump",
       xlabel="epoch (full-batch gradient descent step)", ylabel="test risk")
_ = ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# With equal time scales early stopping is safe again: the best risk comes early and is lower than
# anything the single step size reaches in 10 000 epochs. In deep networks the analogue is a
# per-layer step size, which is how Heckel & Yilmaz remove the bump there.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Practical implications
# - **Over-parameterization** is not the enemy: past the threshold, bigger models generalize well,
#   against the textbook bias–variance picture.
# - **Regularization** (ridge, weight decay, dropout) smooths the peak at the interpolation
#   threshold; well tuned, it removes it.
# - **More data** (or data augmentation) moves the threshold: it can push a model from the
#   post-critical regime back onto the peak — and helps again once well past it.
# - **Model selection**: sweep sizes on both sides of the threshold, and train long enough to see
#   a possible second descent, before concluding that bigger or longer is worse.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Explore: noise, ridge and the swept variable
# Pick what to sweep — samples $n$ (model fixed, $d = 100$), parameters $d$ (data fixed,
# $n = 100$) or random features $p$ ($n = 100$) — the noise level and, if you like, a ridge penalty
# $\lambda = 10^{\log_{10}\lambda}$. Dots are measured; lines are theory (the exact min-norm formula
# at $\lambda = 0$, the asymptotic ridge formula otherwise; random features have no closed form
# here).

# %% slideshow={"slide_type": "subslide"}
SWEEPS = ["samples n", "parameters d", "random features p"]


def explore(sweep: str = "samples n", sigma: float = 0.5, ridge: bool = False, log10_lambda: float = 1.0):
    """Measured risk along the chosen sweep, with the theory curve where one exists."""
    lam = 10.0**log10_lambda if ridge else 0.0
    values = list(range(10, 301, 10))
    fig, ax = plt.subplots()
    if sweep == "random features p":
        measured = dd.random_features_curve(values, noise=sigma, ridge=lam, draws=5, n_test=500, seed=0)
        _ = ax.plot(values, measured.numpy(), "o-", markersize=3, color="C1", label="measured (median)")
        xlabel, ylabel = "number of features $p$ ($n = 100$)", "median test MSE"
    else:
        shape = (lambda v: (v, 100)) if sweep == "samples n" else (lambda v: (100, v))  # (n, d)
        risk = [dd.linear_risk(*shape(v), sigma, ridge=lam, trials=10, seed=0)[1] for v in values]
        _ = ax.plot(values, risk, "o", markersize=4, color="C1", label="measured (median)")
        fine = [v for v in range(10, 301) if math.isfinite(dd.minnorm_risk_theory(*shape(v), sigma))]
        theory = [dd.ridge_risk_theory(*shape(v), sigma, lam) if lam > 0 else
                  dd.minnorm_risk_theory(*shape(v), sigma) for v in fine]
        _ = ax.plot(fine, theory, color="C0", label="theory")
        xlabel = "training samples $n$ ($d = 100$)" if sweep == "samples n" else "parameters $d$ ($n = 100$)"
        ylabel = "excess risk $\\|\\hat\\beta - \\beta\\|^2$"
    _ = ax.axvline(100, color="gray", linestyle=":", label="interpolation threshold")
    ax.set(yscale="log", title=f"{sweep}: $\\sigma$ = {sigma:.2f}, $\\lambda$ = {lam:.3g}",
           xlabel=xlabel, ylabel=ylabel)
    low, high = ax.get_ylim()
    ax.set_ylim(max(low, 1e-3), high)  # without noise the risk past the threshold is ~0: keep a floor
    _ = ax.legend()
    return fig


live(explore, sweep=choice("what grows", SWEEPS), sigma=slider("noise σ", 0.0, 1.5, 0.05), ridge=toggle("ridge penalty"),
     log10_lambda=slider("log₁₀ ridge λ", -3.0, 3.0, 0.25), enabled={"log10_lambda": lambda p: p["ridge"]})

# %% [markdown] slideshow={"slide_type": "notes"}
# Things to try live: σ = 0 on "samples n" (the peak disappears: it is amplified noise); ridge on with
# log10 λ ≈ 1.4 (λ ≈ dσ² = 25 for d = 100) on "samples n"; "parameters d" (past the threshold the
# risk falls back towards ‖β‖² = 1, the risk of predicting zero); "random features p" with ridge
# log10 λ = −1.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - Test error against model size, sample size or training time can fall, rise at the
#   **interpolation threshold**, and fall again: **double descent**.
# - In min-norm linear regression the peak at $n = d$ is exact and computable: noise divided by
#   vanishing singular values.
# - The optimal ridge $\lambda^* = d\sigma^2/\|\beta\|^2$ makes the curve monotone; a small ridge
#   flattens the random-features peak at $p = n$.
# - Epoch-wise double descent arises when parts of a model learn at different speeds.
#
# References: Zhang et al. 2017; Belkin et al. 2019; Belkin, Hsu & Xu 2019; Hastie et al. 2019;
# Mei & Montanari 2019; Nakkiran et al. 2019; Nakkiran et al. 2021; Heckel & Yilmaz 2021.
