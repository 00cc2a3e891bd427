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
# **The question.** Below, 100 noisy points are fitted with $p$ random ReLU features, $p$ from 10
# to 1000. The worst model has exactly $p = 100$ features — the fewest that fit every training point —
# and its test error is dozens of times that of $p = 90$ or $p = 110$. Ten times larger, the model is
# among the best. Why does the error peak where the model *just* fits the data, and why does growing
# it help?

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
import matplotlib.ticker as mticker
import numpy as np

import mlcourse
from mlcourse import double_descent as dd
from mlcourse.widgets import choice, live, log_slider, slider, toggle

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen

D, SIGMA = 500, 0.5  # the linear model: d parameters, noise level σ, ‖β‖ = 1
PLAIN_C, RIDGE_C, DROP_C, THEORY_C = "#0072B2", "#D55E00", "#009E73", "#000000"


def readable_log_axis(ax, axis="y"):
    """Log-scale ticks labelled as plain numbers (0.2, not 2×10⁻¹): at 1, 2, 5 × 10^k over a short
    range, at the powers of ten over a long one. Call it after the limits are set."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    subs = (1.0, 2.0, 5.0) if math.log10(high / low) <= 2.5 else (1.0,)
    target.set_major_locator(mticker.LogLocator(base=10, subs=subs))
    target.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_formatter(mticker.NullFormatter())


def plot_theory(ax, xs, ys, threshold, **style):
    """A theory curve drawn in two pieces, left and right of the threshold where it is infinite."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    for side, piece in enumerate((xs < threshold, xs > threshold)):
        keep = piece & np.isfinite(ys)
        _ = ax.plot(xs[keep], ys[keep], **(style if side == 0 else {**style, "label": None}))


# %% slideshow={"slide_type": "-"}
ps = sorted(set(range(10, 201, 10)) | {95, 105, 250, 300, 500, 1000})
rf_plain = dd.random_features_curve(ps, seed=0).numpy()
at = {p: i for i, p in enumerate(ps)}
fig, ax = plt.subplots(figsize=(7.4, 3.8))
_ = ax.plot(ps, rf_plain, "o-", ms=4, color=PLAIN_C, label="test error (median of 10 draws)")
_ = ax.axvline(100, color="gray", ls=":", label="p = n = 100: the model just fits the data")
ax.set(xscale="log", yscale="log", title="100 noisy points, p random ReLU features", xlabel="number of features p",
       ylabel="test MSE")
readable_log_axis(ax)
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
plt.show()
print(f"test MSE at p = 90, 100, 110, 1000: {rf_plain[at[90]]:.3f}, {rf_plain[at[100]]:.2f}, "
      f"{rf_plain[at[110]]:.3f}, {rf_plain[at[1000]]:.3f} "
      f"(peak {rf_plain[at[100]] / max(rf_plain[at[90]], rf_plain[at[110]]):.0f}× its neighbours)")

# %% [markdown] slideshow={"slide_type": "notes"}
# Let the room predict the curve before showing it: most will draw the textbook U. This lecture
# explains the peak exactly in a linear model, then shows it in features, samples and training
# time, and what removes it.

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
# model can *just* interpolate the training data, then falls again (Belkin et al. 2019, "Reconciling
# modern machine-learning practice and the classical bias–variance trade-off").
#
# The **interpolation threshold** is the complexity at which the model first fits the training set
# exactly — for a linear model with $d$ parameters and $n$ samples, $d = n$.
# 1. **Pre-critical** ($d < n$): the classical U; more complexity eventually hurts.
# 2. **Critical** ($d \approx n$): exactly one model fits the data, noise included; the test error peaks.
# 3. **Post-critical** ($d > n$): many models interpolate; the learner picks a small-norm one, and
#    more parameters help again.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Deep networks fit everything — and still generalize
# Zhang et al. (2017, "Understanding deep learning requires rethinking generalization"), Table 1:
# CIFAR-10 (50 000 training images), SGD, no data augmentation and no weight decay, sorted by size.
#
# | model | parameters | training accuracy | test accuracy |
# |---|---|---|---|
# | MLP, 1 hidden layer of 512 | 1 209 866 | 100 % | 50.5 % |
# | AlexNet (small) | 1 387 786 | 100 % | 76.1 % |
# | Inception (small) | 1 649 402 | 100 % | 85.8 % |
# | MLP, 3 hidden layers of 512 | 1 735 178 | 100 % | 52.4 % |
# | Inception (small), **random labels** | 1 649 402 | 100 % | 9.8 % |
#
# Every model fits its training set perfectly, yet test accuracy ranges from chance to 86 %. The
# largest model of the table, the deep MLP, generalizes *worse* than the two convolutional networks
# with fewer parameters — the parameter count orders nothing. What matters is the architecture
# and how training picks one of the many interpolating solutions (lecture 07: SGD's implicit bias).

# %% [markdown] slideshow={"slide_type": "notes"}
# With weight decay or random crops the numbers move by a few points (Inception: 86.0 with weight
# decay, 89.1 with both) — regularization helps, but it is not what makes these networks generalize.
# A ResNet row (9 M parameters, 88 %) often shown with this table is not from this paper.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Memorization, computed: random labels
# The last row is Zhang et al.'s key experiment: the same network that generalizes fits *random*
# labels too, so its capacity alone cannot explain why it generalizes on true ones. Small enough to
# run here: a one-hidden-layer ReLU network (256 units, 7 936 parameters) on 500 points of a
# 10-class problem, full-batch gradient descent with momentum until every training label is fitted.
# A fraction of the training labels is replaced by random classes; the test labels stay clean.

# %% slideshow={"slide_type": "subslide"}
memo = {c: dd.memorization_run(c) for c in (0.0, 1 / 3, 2 / 3, 1.0)}
for c, r in memo.items():
    print(f"{c:4.0%} random labels: every training label fitted after {r['steps_to_fit']:3d} steps; "
          f"test accuracy {r['test_acc']:.3f}")
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
for (c, r), colour in zip(memo.items(), plt.cm.viridis(np.linspace(0, 0.85, 4))):
    _ = ax.plot(r["train_acc"], color=colour, label=f"{c:.0%} random")
_ = ax2.plot([100 * c for c in memo], [r["test_acc"] for r in memo.values()], "o-", color=PLAIN_C,
             label="test accuracy when the training set is fitted")
_ = ax2.axhline(0.1, color="gray", ls=":", label="chance (10 classes)")
ax.set(title="Training accuracy", xlabel="gradient step", ylabel="fraction of training labels fitted")
ax.legend(loc="lower right")
ax2.set(title="All fitted — and then?", xlabel="random training labels (%)", ylabel="test accuracy",
        ylim=(0, 1))
ax2.legend(loc="upper right")
plt.show()

# %% [markdown] slideshow={"slide_type": "-"}
# Every label set is memorized; random labels take about three times longer — Zhang et al. saw "a
# small constant factor" too. What the network learns beyond memorizing depends only on the labels:
# from 80 % test accuracy down to chance. So "fits the training data" says nothing about
# generalization; the rest of the lecture shows what does, where it can be computed.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The simplest exact case: a linear model
# Inputs $x \sim \mathcal N(0, I_d)$, targets $y = x^\top\beta + \sigma\varepsilon$ with
# $\|\beta\| = 1$. From $n$ samples $X \in \mathbb R^{n\times d}$ take the **min-norm least-squares**
# estimate
# $$\hat\beta = X^{+} y ,$$
# the unique least-squares fit when $n \ge d$ and, when $n < d$, the smallest-norm interpolant —
# the one gradient descent from zero converges to. Its excess risk is
# $\mathbb E_x[(x^\top\hat\beta - x^\top\beta)^2] = \|\hat\beta - \beta\|^2$. Averaged over $X$ and
# the noise (Belkin, Hsu & Xu 2019; Hastie et al. 2019):
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
# Monte Carlo against theory, $d = 500$, $\sigma = 0.5$, 20 draws of $(\beta, X, \varepsilon)$ per $n$:

# %% slideshow={"slide_type": "-"}
print("   n   Monte Carlo   theory   rel. error")
for n in (100, 250, 600, 1000):
    mc, _ = dd.linear_risk(n, D, SIGMA, trials=20, seed=0)
    theory = dd.minnorm_risk_theory(n, D, SIGMA)
    print(f"{n:4d}   {mc:11.3f}   {theory:6.3f}   {mc / theory - 1:+9.1%}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Sample-wise double descent: more data can hurt
# Fix the model ($d = 500$) and add samples. Dots: median of 5 draws; line: theory (infinite at $n = d$).

# %% slideshow={"slide_type": "-"}
ns = [50, 150, 250, 350, 400, 450, 480, 490, 495, 500, 505, 510, 520, 550, 600, 700, 850, 1000]
measured = np.array([dd.linear_risk(n, D, SIGMA, trials=5, seed=1)[1] for n in ns])
print(f"measured peak at n = {ns[int(np.argmax(measured))]} (d = {D}); risk {measured[ns.index(400)]:.2f} at n = 400, "
      f"{measured[ns.index(500)]:.0f} at n = 500, {measured[ns.index(1000)]:.2f} at n = 1000")

grid = np.arange(20, 1001, 2)
fig, ax = plt.subplots(figsize=(7.4, 3.8))
plot_theory(ax, grid, [dd.minnorm_risk_theory(int(n), D, SIGMA) for n in grid], D, color=THEORY_C, lw=1.5,
            label="theory")
_ = ax.plot(ns, measured, "o", color=RIDGE_C, label="Monte Carlo (median)")
_ = ax.axvline(D, color="gray", ls=":", label="interpolation threshold n = d")
ax.set(yscale="log", ylim=(0.1, 300), title="Sample-wise double descent, min-norm least squares (d = 500)",
       xlabel="training samples n", ylabel="excess risk ‖β̂ − β‖²")
readable_log_axis(ax)
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Point at n = 400 → 500: 100 more samples multiply the risk by more than a hundred. Then ask what
# happens without noise (σ = 0): the variance terms vanish and the peak with them — in this
# well-specified model the peak is noise, amplified. The widget at the end lets you check.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Why the peak sits at $n = d$
# To interpolate noisy targets, $\hat\beta = X^+y$ divides the noise by the singular values of $X$.
# The smallest one of a random $n \times d$ matrix is about $|\sqrt d - \sqrt n|$ — zero at $n = d$:

# %% slideshow={"slide_type": "-"}
for n in (400, 490, 500, 510, 600):
    print(f"n = {n}: smallest singular value of X {dd.smallest_singular_value(n, D):5.2f}  "
          f"(|√d − √n| = {abs(math.sqrt(D) - math.sqrt(n)):.2f})")

# %% [markdown] slideshow={"slide_type": "-"}
# With fewer samples the min-norm solution has spare directions and stays small; with more, the
# extra equations average the noise out. Only near $n = d$ is there exactly one fit, and it follows
# the noise wherever a tiny singular value sends it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Optimal ridge removes the peak
# Ridge minimizes $\|y - X\beta\|^2 + \lambda\|\beta\|^2$. With the prior
# $\beta \sim \mathcal N(0, \tfrac{\|\beta\|^2}{d} I)$ the posterior mean is ridge with
# $$\lambda^* = \frac{d\,\sigma^2}{\|\beta\|^2} ,$$
# the best estimator for every $n$; its risk falls **monotonically** in $n$ (Nakkiran et al. 2021,
# "Optimal regularization can mitigate double descent"). Lines: the asymptotic ridge theory
# (Hastie et al. 2019); dots: Monte Carlo.

# %% slideshow={"slide_type": "subslide"}
lam_star = dd.optimal_ridge(D, SIGMA)
ns_ridge = list(range(100, 1001, 100))
measured_ridge = np.array([dd.linear_risk(n, D, SIGMA, ridge=lam_star, trials=5, seed=2)[0] for n in ns_ridge])
steps = np.diff(measured_ridge)
print(f"λ* = {lam_star:g}: measured risk falls at each of the {len(steps)} steps of n (largest change "
      f"{steps.max():+.3f}), from {measured_ridge[0]:.3f} (n = {ns_ridge[0]}) to {measured_ridge[-1]:.3f} "
      f"(n = {ns_ridge[-1]})")

fig, ax = plt.subplots(figsize=(7.4, 3.8))
plot_theory(ax, grid, [dd.minnorm_risk_theory(int(n), D, SIGMA) for n in grid], D, color=PLAIN_C, label="λ = 0")
for lam, colour in ((12.5, DROP_C), (lam_star, RIDGE_C), (1250.0, "#CC79A7")):
    _ = ax.plot(grid, [dd.ridge_risk_theory(int(n), D, SIGMA, lam) for n in grid], color=colour,
                label=f"λ = {lam:g}" + (" = λ*" if lam == lam_star else ""))
_ = ax.plot(ns_ridge, measured_ridge, "o", color=RIDGE_C, mec="black", label="Monte Carlo, λ*")
ax.set(yscale="log", ylim=(0.1, 30), title="Ridge penalty and the sample-wise peak (d = 500)",
       xlabel="training samples n", ylabel="excess risk")
readable_log_axis(ax)
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Too little ridge (12.5) only dents the peak; too much (1250) is monotone but biased everywhere.
# λ* = dσ²/‖β‖² needs σ and ‖β‖, which we do not know in practice: it is a metaparameter to tune
# (lectures 01, 06, 07) — and tuning it by validation is what removes the peak in practice.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Model-wise double descent on a fixed task
# To grow the *model* without changing the *problem*, use the weak-features model of Belkin, Hsu &
# Xu (2019): the data have $D = 300$ features, $y = x^\top\beta + \sigma\varepsilon$ with one fixed
# $\beta$, and the learner uses only the first $p$ features (min-norm least squares on them). The
# features it leaves out act as extra noise. With $S$ the signal in the first $p$ features and
# $U = \|\beta\|^2 - S$ the rest, the expected excess risk is
# $$(U + \sigma^2)\Big(1 + \frac{p}{n - p - 1}\Big) - \sigma^2 \;\; (p \le n - 2), \qquad
# S\Big(1 - \frac{n}{p}\Big) + (U + \sigma^2)\Big(1 + \frac{n}{p - n - 1}\Big) - \sigma^2 \;\; (p \ge n + 2).$$
# Two tasks, $n = 100$, $\sigma = 0.5$: the signal concentrated in the first features
# ($\beta_j \propto j^{-1/2}$), or spread evenly over all 300.

# %% slideshow={"slide_type": "subslide"}
p_grid = np.arange(1, 301)
p_mc = [5, 10, 20, 40, 60, 80, 90, 95, 105, 110, 120, 150, 200, 250, 300]
tasks = {"signal in the first features, β_j ∝ j^(−1/2)": (dd.weak_features_beta(300, 0.5), PLAIN_C),
         "signal spread evenly, β_j equal": (dd.weak_features_beta(300, 0.0), RIDGE_C)}
fig, ax = plt.subplots(figsize=(7.4, 3.8))
for label, (beta, colour) in tasks.items():
    theory = np.array([dd.weak_features_theory(100, int(p), beta, SIGMA) for p in p_grid])
    _, median = dd.weak_features_curve(100, p_mc, beta, SIGMA, trials=20, seed=3)
    plot_theory(ax, p_grid, theory, 100, color=colour, lw=1.5, label=label)
    _ = ax.plot(p_mc, median.numpy(), "o", color=colour, mec="black", ms=5)
    left = theory[: 98]
    print(f"{label}: best p < n is p = {int(np.argmin(left)) + 1} (risk {left.min():.2f}); p = 300: {theory[-1]:.2f}")
_ = ax.axvline(100, color="gray", ls=":")
ax.set(yscale="log", ylim=(0.3, 30), title="One task, growing models (n = 100, D = 300)",
       xlabel="features used p", ylabel="excess risk")
readable_log_axis(ax)
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2))
plt.show()

# %% [markdown] slideshow={"slide_type": "-"}
# Lines: theory; dots: median of 20 draws of $X$. Both tasks show the peak at $p = n$. Whether the
# second descent beats the classical sweet spot depends on the task: with the signal in a few
# features, a small model wins; spread evenly, the largest model is best. Double descent says a
# larger model *can* be better after the peak — not that it always is.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Random ReLU features: the peak, and what removes it
# The opening figure: $n = 100$ points $x \sim \mathcal N(0, I_{10}/10)$, target $\tanh(2 w^\top x)$
# plus noise $0.1$; model $f(x) = a^\top \mathrm{relu}(W^\top x)$ with a random, frozen $W \in
# \mathbb R^{10\times p}$ and $a$ fitted by least squares (Belkin et al. 2019; Mei & Montanari 2019).
# Two regularizers, each as training would apply it:
# - **weight decay** $\lambda\|a\|^2$: for this linear-in-$a$ model, gradient descent with weight
#   decay converges to the ridge solution;
# - **dropout** of each feature with probability $0.1$: its *expected* loss is a ridge whose
#   strength for feature $j$ grows with that feature's energy, $\tfrac{0.1}{0.9}\|\Phi_j\|^2 a_j^2$
#   (Wager, Wang & Liang 2013) — computed here in closed form.

# %% slideshow={"slide_type": "subslide"}
rf_ridge = dd.random_features_curve(ps, ridge=0.1, seed=0).numpy()
rf_drop = dd.random_features_curve(ps, dropout=0.1, seed=0).numpy()
for label, curve in (("min-norm      ", rf_plain), ("weight decay 0.1", rf_ridge), ("dropout 0.1   ", rf_drop)):
    print(f"{label}: test MSE {curve[at[90]]:.3f} (p = 90), {curve[at[100]]:.3f} (p = 100), "
          f"{curve[at[110]]:.3f} (p = 110), {curve[at[1000]]:.3f} (p = 1000)")
fig, ax = plt.subplots(figsize=(7.4, 3.8))
for curve, colour, label in ((rf_plain, PLAIN_C, "min-norm (λ = 0)"), (rf_ridge, RIDGE_C, "weight decay λ = 0.1"),
                             (rf_drop, DROP_C, "dropout 0.1")):
    _ = ax.plot(ps, curve, "o-", ms=3, color=colour, label=label)
_ = ax.axvline(100, color="gray", ls=":", label="p = n")
ax.set(xscale="log", yscale="log", title="Random ReLU features (n = 100): median test MSE of 10 draws",
       xlabel="number of features p", ylabel="test MSE")
readable_log_axis(ax)
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The peak's height is heavy-tailed: it depends on the smallest singular value of a square random
# 100 × 100 feature matrix. For seeds 0–5 the median at p = 100 ranges from about 1.2 to 26; its
# ratio to p = 90 and p = 110 stays above 5. The shape, not the
# height, is the claim.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Epoch-wise double descent: two time scales
# Training time is a complexity knob too. Heckel & Yilmaz (2021, "Early stopping in deep networks:
# double descent and how to eliminate it") explain the epoch-wise curve of Nakkiran et al. (2019)
# as a sum of bias–variance trade-offs that play out at different speeds. A linear model shows it:
# $n = 100$ samples, 50 **fast** features of scale 1 and 10 **slow** features of scale 0.05, each
# group carrying unit signal variance, noise $0.5$; full-batch gradient descent from zero.

# %% slideshow={"slide_type": "subslide"}
epochs, risk = dd.epochwise_curve(10_000, seed=0)
epochs, risk = epochs.numpy(), risk.numpy()
first = int(np.argmin(risk[: len(risk) // 3]))  # end of the first descent
bump = first + int(np.argmax(risk[first:]))  # top of the ascent that follows it
print(f"risk {risk[0]:.2f} at epoch 0 → {risk[first]:.2f} at epoch {epochs[first]} "
      f"→ {risk[bump]:.2f} at epoch {epochs[bump]} → {risk[-1]:.2f} at epoch {epochs[-1]}")
print(f"stopping at the first minimum: {risk[first] / risk[-1]:.1f}× the final risk")

fig, ax = plt.subplots(figsize=(7.4, 3.8))
_ = ax.plot(epochs, risk, color=PLAIN_C, label="test risk")
_ = ax.axhline(risk[0], color="gray", ls=":", label="at initialization")
_ = ax.plot(epochs[[first, bump]], risk[[first, bump]], "o", color=RIDGE_C, label="first minimum, then the bump")
ax.set_xscale("symlog", linthresh=1.0)  # linear between 0 and 1, logarithmic beyond
ax.set(title="Epoch-wise double descent: fast features, then slow ones",
       xlabel="epoch (full-batch gradient descent step)", ylabel="test risk")
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
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
falls, rises = np.diff(risk_eq[: best + 1]), np.diff(risk_eq[best:])
print(f"equalized step sizes: the risk falls at {(falls < 0).sum()} of {len(falls)} recorded epochs before its "
      f"minimum, {risk_eq[best]:.3f} at epoch {epochs_eq[best]}, and falls again at {(rises < -1e-12).sum()} of the "
      f"{len(rises)} after it")
print(f"one step size: best {risk.min():.3f}, first reached at epoch {epochs[np.argmin(risk)]}")

fig, ax = plt.subplots(figsize=(7.4, 3.8))
_ = ax.plot(epochs, risk, color=PLAIN_C, label="one step size: two descents")
_ = ax.plot(epochs_eq, risk_eq, color=DROP_C, label="step size η/s_j² per feature: one U")
_ = ax.plot(epochs_eq[best], risk_eq[best], "o", color=RIDGE_C, label=f"its minimum, epoch {epochs_eq[best]}")
ax.set_xscale("symlog", linthresh=1.0)
ax.set(title="Matching step sizes to feature scales removes the bump",
       xlabel="epoch (full-batch gradient descent step)", ylabel="test risk")
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# With equal time scales early stopping is safe again: the best risk comes early and is lower than
# anything the single step size reaches in 10 000 epochs. In deep networks the analogue is a
# per-layer step size, which is how Heckel & Yilmaz remove the bump there.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Practical implications
# - **Over-parameterization** is not the enemy: past the threshold, bigger models can generalize
#   well, against the textbook bias–variance picture — but only the task decides whether they beat
#   the classical sweet spot.
# - **Regularization** (ridge, weight decay, dropout) smooths the peak at the interpolation
#   threshold; well tuned, it removes it.
# - **More data** (or data augmentation) moves the threshold: it can push a model from the
#   post-critical regime back onto the peak — and helps again once well past it.
# - **Model selection**: sweep sizes on both sides of the threshold, and train long enough to see
#   a possible second descent, before concluding that bigger or longer is worse.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Explore: noise, ridge and what grows
# Pick what to sweep: samples $n$ (model fixed, $d = 100$), features $p$ of the fixed weak-features
# task ($n = 100$, $D = 300$, $\beta_j \propto j^{-1/2}$), or random ReLU features $p$ ($n = 100$);
# the noise level; and, if you like, a ridge penalty $\lambda$. Dots are measured (median of 5–10
# draws); lines are theory where one exists.

# %% slideshow={"slide_type": "subslide"}
SWEEPS = ["samples n", "features p of a fixed task", "random features p"]
WEAK_BETA = dd.weak_features_beta(300, 0.5)


def explore(sweep: str = "samples n", sigma: float = 0.5, ridge: bool = False, lam: float = 10.0):
    """Measured risk along the chosen sweep, with the theory curve where one exists."""
    lam = lam if ridge else 0.0
    values = list(range(10, 301, 15))
    fig, ax = plt.subplots(figsize=(7.4, 3.8))
    if sweep == "random features p":
        measured = dd.random_features_curve(values, noise=sigma, ridge=lam, draws=5, n_test=500, seed=0)
        _ = ax.plot(values, measured.numpy(), "o-", ms=3, color=RIDGE_C, label="measured (median of 5)")
        xlabel, ylabel = "number of features p (n = 100)", "test MSE"
    elif sweep == "features p of a fixed task":
        _, measured = dd.weak_features_curve(100, values, WEAK_BETA, sigma, ridge=lam, trials=10, seed=0)
        _ = ax.plot(values, measured.numpy(), "o", ms=4, color=RIDGE_C, label="measured (median)")
        if lam == 0:
            fine = np.arange(1, 301)
            plot_theory(ax, fine, [dd.weak_features_theory(100, int(p), WEAK_BETA, sigma) for p in fine], 100,
                        color=THEORY_C, lw=1.5, label="theory")
        xlabel, ylabel = "features used p (n = 100, D = 300)", "excess risk"
    else:
        risk = [dd.linear_risk(n, 100, sigma, ridge=lam, trials=6, seed=0)[1] for n in values]
        _ = ax.plot(values, risk, "o", ms=4, color=RIDGE_C, label="measured (median)")
        fine = np.arange(10, 301)
        theory = [dd.ridge_risk_theory(int(n), 100, sigma, lam) if lam > 0 else dd.minnorm_risk_theory(int(n), 100, sigma)
                  for n in fine]
        plot_theory(ax, fine, theory, 100 if lam == 0 else 1e9, color=THEORY_C, lw=1.5,
                    label="theory (asymptotic)" if lam > 0 else "theory")
        xlabel, ylabel = "training samples n (d = 100)", "excess risk ‖β̂ − β‖²"
    _ = ax.axvline(100, color="gray", ls=":", label="interpolation threshold")
    ax.set(yscale="log", title=f"{sweep}: σ = {sigma:.2f}, " + (f"λ = {lam:.3g}" if ridge else "no ridge"),
           xlabel=xlabel, ylabel=ylabel, xticks=[0, 100, 200, 300])
    low, high = ax.get_ylim()
    ax.set_ylim(max(low, 1e-3), high)  # without noise the risk past the threshold is ~0: keep a floor
    readable_log_axis(ax)
    ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
    return fig


live(explore, sweep=choice("what grows", SWEEPS), sigma=slider("noise σ", 0.0, 1.5, 0.05),
     ridge=toggle("ridge penalty"), lam=log_slider("ridge strength λ", 1e-3, 1e3),
     enabled={"lam": lambda p: p["ridge"]})

# %% [markdown] slideshow={"slide_type": "notes"}
# Things to try live: σ = 0 on "samples n" (the peak disappears: it is amplified noise); ridge on
# with λ ≈ 25 (= dσ² for d = 100) on "samples n"; "features p of a fixed task" with σ = 0 (the peak
# stays: the left-out features are noise too); "random features p" with ridge λ = 0.1.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What to remember
# 1. Test error against model size, sample size or training time can fall, rise at the
#    **interpolation threshold**, and fall again: **double descent**.
# 2. In min-norm linear regression the peak at $n = d$ is exact: the noise divided by singular
#    values that vanish there.
# 3. Fitting the training set says nothing about generalization: networks fit random labels too,
#    and the largest model is not always the best one.
# 4. Regularization — the optimal ridge $\lambda^* = d\sigma^2/\|\beta\|^2$, weight decay, dropout —
#    removes the peak; epoch-wise bumps come from parts of a model learning at different speeds.
#
# **Where this sits.** The number of parameters, the amount of data, the training time, $\lambda$
# and the dropout rate are all metaparameters here — and near the threshold small changes to them
# matter enormously. Lecture 07 showed how the optimizer picks one of many interpolating minima;
# lecture 08 how sharply trainability itself depends on the step size.
#
# References: Zhang et al. 2017; Belkin et al. 2019; Belkin, Hsu & Xu 2019; Hastie et al. 2019;
# Mei & Montanari 2019; Nakkiran et al. 2019; Nakkiran et al. 2021; Wager, Wang & Liang 2013;
# Heckel & Yilmaz 2021.
