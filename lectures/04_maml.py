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
# # 04 · MAML: learning where gradient descent starts
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mlcourse/mlcourse/HEAD?urlpath=lab/tree/lectures/04_maml.ipynb)
#
# **You see ten points of a sine wave you have never met, and you may take one gradient step on
# them. Which weights should that step start from?**

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
from mlcourse import maml
from mlcourse.widgets import choice, live, slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen
learners = {m: maml.pretrained(m, device=device) for m in maml.METHODS}  # trained offline, see below
untrained = maml.meta_train(method="maml", iterations=0, progress=False, device=device)  # random start
NAMES = {"maml": "MAML", "fomaml": "first-order MAML", "metasgd": "Meta-SGD", "pretrain": "pretrain + fine-tune"}
grid = torch.linspace(-5, 5, 200, device=device)[:, None]


def task_points(amplitude, phase, k, seed=7):
    """k support points of the task y = A sin(x − φ) (one fixed draw per seed)."""
    x, y = maml.sinusoid_points(torch.tensor([amplitude]), torch.tensor([phase]), k,
                                generator=torch.Generator().manual_seed(seed), device=device)
    return x[0], y[0]


def grid_mse(learner, params, amplitude, phase):
    """Query MSE of a fit against the true curve on 200 evenly spaced x."""
    truth = amplitude * torch.sin(grid[:, 0] - phase)
    return (learner.predict(grid, params)[:, 0] - truth).pow(2).mean().item()


# %% slideshow={"slide_type": "-"}
A0, PHI0 = 3.0, 1.0
x_sup, y_sup = task_points(A0, PHI0, 10)
fig, ax = plt.subplots(figsize=(10, 3.8))
_ = ax.plot(grid[:, 0].cpu(), (A0 * torch.sin(grid[:, 0] - PHI0)).cpu(), color="black", linewidth=1.2,
            label="the new task")
_ = ax.scatter(x_sup[:, 0].cpu(), y_sup[:, 0].cpu(), color="black", zorder=3, label="its 10 points")
for name, learner, colour in (("a random start", untrained, "#999999"),
                              ("the pretrained start", learners["pretrain"], "C1"),
                              ("MAML's start", learners["maml"], "C0")):
    after = learner.adapt(x_sup, y_sup, steps=1)
    _ = ax.plot(grid[:, 0].cpu(), learner.predict(grid, after)[:, 0].cpu(), color=colour,
                label=f"one step from {name} (MSE {grid_mse(learner, after, A0, PHI0):.2f})")
ax.set(title="One gradient step (α = 0.01) on the same 10 points", xlabel="x", ylabel="y", ylim=(-4.5, 4.5))
ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=10)
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The puzzle: the same gradient step, the same ten points, three very different results. The random
# start barely moves with α = 0.01; the pretrained network starts at the average of all tasks and a step
# does not change its shape; MAML's start is chosen so that this one step lands near any new task.
# Model-Agnostic Meta-Learning (Finn, Abbeel & Levine 2017) trains the *start* of gradient descent as a
# metaparameter. The lecture: the exact answer on quadratics, the algorithm and its computation graph,
# first-order MAML, Meta-SGD, results on the paper's benchmark, and why the memory of the meta-gradient
# grows with the inner loop.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Tasks: a distribution $p(\mathcal{T})$ of regression problems
# A task is a sine wave $y = A \sin(x - \varphi)$ with amplitude $A \sim U[0.1, 5]$ and phase
# $\varphi \sim U[0, \pi]$. From each task we see $K = 10$ **support** points $\mathcal{D}^{tr}$ (to
# adapt on) and 10 **query** points $\mathcal{D}^{ts}$ (to judge the adapted model), all with
# $x \sim U[-5, 5]$. Training sees thousands of tasks; testing uses tasks never seen before.

# %% slideshow={"slide_type": "-"}
example_tasks = [(0.8, 0.3), (2.5, 1.5), (4.2, 2.6), (1.6, 3.0)]
fig, ax = plt.subplots(figsize=(8.4, 3.6))
for i, (a, phi) in enumerate(example_tasks):
    xs_i, ys_i = task_points(a, phi, 10, seed=i)
    xq_i, yq_i = task_points(a, phi, 10, seed=100 + i)
    _ = ax.plot(grid[:, 0].cpu(), (a * torch.sin(grid[:, 0] - phi)).cpu(), color=f"C{i}", linewidth=1.2,
                label=f"A = {a}, φ = {phi}")
    _ = ax.scatter(xs_i[:, 0].cpu(), ys_i[:, 0].cpu(), color=f"C{i}", s=22, zorder=3)
    _ = ax.scatter(xq_i[:, 0].cpu(), yq_i[:, 0].cpu(), color=f"C{i}", marker="x", s=26, zorder=3)
_ = ax.scatter([], [], color="gray", s=22, label="support points (dots)")
_ = ax.scatter([], [], color="gray", marker="x", s=26, label="query points (crosses)")
ax.set(title="Four tasks from p(T): true curves, support and query points", xlabel="x", ylabel="y")
ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=10)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Two floors: what you get without adapting
# - Predict $0$: the error is $E[y^2] = E[A^2]/2$.
# - Predict the **mean curve** $E[y \mid x] = E[A]\,E_\varphi[\sin(x-\varphi)] = -\tfrac{2E[A]}{\pi}\cos x$,
#   the best any predictor can do that ignores the support set.
#
# A method that learns from the ten points must land below the second floor.

# %% slideshow={"slide_type": "-"}
zero_floor, agnostic_floor = maml.analytic_floors()
print(f"predict 0:              query MSE {zero_floor:.3f}")
print(f"predict {maml.agnostic_coefficient():.4f} cos x:  query MSE {agnostic_floor:.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The simplest exact case: quadratic tasks
# Let task $i$ have the loss $\mathcal{L}_i(\theta) = \tfrac12 h_i(\theta - c_i)^2$ (curvature $h_i$, optimum
# $c_i$) on support and query alike. One step multiplies the distance to the optimum by $1 - \alpha h_i$:
# $$\theta_i' - c_i = (1 - \alpha h_i)(\theta - c_i), \qquad
# \mathcal{L}_i(\theta_i') = \tfrac12 h_i (1 - \alpha h_i)^2 (\theta - c_i)^2 .$$
# So the best start is a weighted mean $\theta^* = \sum_i w_i c_i / \sum_i w_i$ of the tasks' optima:
#
# | objective | weight $w_i$ of task $i$ |
# |---|---|
# | pretraining, $\operatorname{mean}_i \mathcal{L}_i(\theta)$ | $h_i$ |
# | MAML, $\operatorname{mean}_i \mathcal{L}_i(\theta_i')$ | $h_i (1 - \alpha h_i)^2$: the loss one step *leaves* |
#
# Pretraining starts near the stiff tasks; MAML starts near the tasks that one step cannot fix.

# %% slideshow={"slide_type": "subslide"}
h_tasks, c_tasks, alpha_q = torch.tensor([8.0, 0.5]), torch.tensor([2.0, -1.0]), 0.1
starts = {m: maml.quadratic_best_start(h_tasks, c_tasks, alpha_q, method=m) for m in ("pretrain", "maml")}
theta_axis = torch.linspace(-2.0, 3.0, 401)
fig, ax = plt.subplots(figsize=(10, 3.8))
for c, hh, name in zip(c_tasks.tolist(), h_tasks.tolist(), ("stiff", "soft")):
    _ = ax.axvline(c, color="#999999", linestyle="--", linewidth=1)
    _ = ax.text(c, 5.7, f"{name} task's optimum\n(h = {hh:g})", ha="center", va="top", fontsize=10,
                color="#555555", bbox=dict(facecolor="white", edgecolor="none"))
for steps_q, m, colour in ((0, "pretrain", "C1"), (1, "maml", "C0")):
    curve = maml.quadratic_meta_loss(theta_axis, h_tasks, c_tasks, alpha_q, steps_q)
    label = "pretraining: mean loss at the start" if m == "pretrain" else "MAML: mean loss after one step"
    _ = ax.plot(theta_axis, curve, color=colour, label=label)
    best = float(maml.quadratic_meta_loss(torch.tensor(starts[m]), h_tasks, c_tasks, alpha_q, steps_q))
    _ = ax.plot([starts[m]], [best], marker="o", markersize=9, color=colour, zorder=3)
    _ = ax.annotate(f"best start {starts[m]:.3f}", (starts[m], best), xytext=(0, -18),
                    textcoords="offset points", ha="center", color=colour)
ax.set(title="Two quadratic tasks, α = 0.1: where should the step start?", xlabel="start θ",
       ylabel="mean loss", ylim=(-0.6, 6))
ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=10)
plt.show()
print(f"best start: pretraining θ* = {starts['pretrain']:.3f}, MAML θ* = {starts['maml']:.3f} "
      f"(weights {maml.quadratic_weights(h_tasks, alpha_q).numpy().round(3)})")

# %% [markdown] slideshow={"slide_type": "notes"}
# Stiff task: h = 8, optimum +2; soft task: h = 0.5, optimum −1; α = 0.1. Pretraining weights the tasks
# 8 : 0.5 and starts at 1.82, almost on the stiff task's optimum. One step with α = 0.1 removes 80 % of the
# stiff task's distance but only 5 % of the soft task's, so MAML weights them 8·0.2² = 0.32 : 0.5·0.95² =
# 0.45 and starts at 0.245, much closer to the soft task. With T steps the weights become
# h_i(1 − αh_i)^{2T}: the more steps, the less the start needs to care about the tasks the loop can fix.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## What breaks when the tasks are networks
# On quadratics the Hessian $h_i$ is a constant and the meta-loss has a closed form. For a neural network
# neither holds: the Hessian $\nabla^2\mathcal{L}^{tr}(\theta)$ changes with $\theta$, there is no formula for
# the best start, and we must *differentiate through the inner loop* to descend on the start. That is MAML.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Inner loop and outer loop
# **Inner loop** (adaptation, Finn et al. eq. 1), for each task $\mathcal{T}_i$:
# $$\theta_i' = \theta - \alpha \nabla_\theta \mathcal{L}(f_\theta; \mathcal{D}_i^{tr}), \qquad \alpha = 0.01 .$$
# **Outer loop** (meta-update, eq. 3), over a meta-batch of 25 tasks:
# $$\theta \leftarrow \theta - \beta \nabla_\theta \sum_i \mathcal{L}(f_{\theta_i'}; \mathcal{D}_i^{ts}).$$
# The meta-objective asks: *after* the step on the support set, how good is the model on the query set?
# The network is the paper's: $1 \to 40 \to 40 \to 1$ with ReLU (1761 weights); the outer optimiser is Adam
# with $\beta = 10^{-3}$.

# %% [markdown] slideshow={"slide_type": "notes"}
# The paper's text uses alpha = 0.01 for sinusoids; the authors' released code defaults to 1e-3. We follow
# the text. In code, each task's adaptation is a pure function of θ (torch.func.functional_call), so
# torch.func.vmap runs all 25 tasks at once and torch.func.grad differentiates through the inner step:
# maml.adapt is the inner loop, maml.meta_loss the outer objective, maml.meta_gradient its gradient.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The inner loop is one big computation graph
# The chain rule through $T$ inner steps multiplies one Jacobian per step:
# $$\nabla_\theta \mathcal{L}(\theta'_T; \mathcal{D}^{ts}) = \prod_{t=T-1}^{0}\big(I - \alpha\nabla^2\mathcal{L}^{tr}(\theta'_t)\big)\;
# \nabla\mathcal{L}(\theta'_T; \mathcal{D}^{ts}), \qquad \theta'_0 = \theta .$$
# Each factor is a **Hessian–vector product** of the support loss, evaluated at a point of the forward
# pass, so every $\theta'_t$ and its activations must be kept until the backward pass reaches it.

# %% slideshow={"slide_type": "-"}
fig = maml.unrolled_graph_figure(3)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The second-order meta-gradient, checked
# Autograd's meta-gradient must match central finite differences of the meta-loss along random
# directions $v$: $\;[\mathcal{L}(\theta + \epsilon v) - \mathcal{L}(\theta - \epsilon v)]/2\epsilon$ (float64, two
# inner steps, $\alpha = 0.05$, five tasks).

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
torch.manual_seed(0)
net64 = maml.make_regressor().double()
theta64 = {n: p.detach() for n, p in net64.named_parameters()}
batch64 = tuple(t.double() for t in maml.sinusoid_tasks(5, generator=torch.Generator().manual_seed(0)))
g2 = maml.meta_gradient(net64, theta64, batch64, steps=2, inner_lr=0.05)
gen = torch.Generator().manual_seed(2)
gaps = []
for _ in range(3):
    v = {n: torch.randn(p.shape, generator=gen, dtype=torch.float64) for n, p in theta64.items()}
    eps = 1e-6
    shifted = [maml.meta_loss(net64, {n: theta64[n] + s * eps * v[n] for n in v}, batch64, steps=2,
                              inner_lr=0.05).item() for s in (1, -1)]
    fd = (shifted[0] - shifted[1]) / (2 * eps)
    analytic = sum((g2[n] * v[n]).sum() for n in v).item()
    gaps.append(abs(fd - analytic) / abs(fd))
print(f"relative gap, autograd vs finite differences, 3 directions: {max(gaps):.0e} at most")

# %% [markdown] slideshow={"slide_type": "notes"}
# The printed gap is of the order of the finite-difference error (ε² terms and rounding), not of the
# meta-gradient. Finite differences on a ReLU network are only trustworthy when no unit changes sign
# between θ − εv and θ + εv: with a larger ε (1e-4) some directions straddle a kink and the two numbers
# disagree completely. That is a property of the check, not of the meta-gradient.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## First-order MAML
# Replace every Jacobian $I - \alpha\nabla^2\mathcal{L}^{tr}$ by $I$: the meta-gradient becomes the query
# gradient evaluated at the adapted weights. No Hessian, no stored inner loop, but a *different*
# direction. On the two quadratic tasks its fixed point has weights $h_i(1 - \alpha h_i)$ instead of
# $h_i(1 - \alpha h_i)^2$:

# %% slideshow={"slide_type": "-"}
start_fo = maml.quadratic_best_start(h_tasks, c_tasks, alpha_q, method="fomaml")
print(f"quadratic tasks: pretraining {starts['pretrain']:.3f}, first-order MAML {start_fo:.3f}, "
      f"MAML {starts['maml']:.3f}")
for steps_fo, rate_fo in ((1, 0.01), (2, 0.05)):
    g_full = maml.meta_gradient(net64, theta64, batch64, steps=steps_fo, inner_lr=rate_fo)
    g_first = maml.meta_gradient(net64, theta64, batch64, steps=steps_fo, inner_lr=rate_fo, first_order=True)
    flat1, flat2 = (torch.cat([g[n].flatten() for n in g]) for g in (g_first, g_full))
    rel_gap = ((flat1 - flat2).norm() / flat2.norm()).item()
    cosine = (flat1 @ flat2 / (flat1.norm() * flat2.norm())).item()
    print(f"network, {steps_fo} step(s) of α = {rate_fo}: first vs second order: relative difference "
          f"{rel_gap:.3f}, cosine {cosine:.3f}")

# %% [markdown] slideshow={"slide_type": "notes"}
# The dropped term is −α∇²L^tr times the query gradient, so the first-order error grows with α and
# with the number of steps. At the paper's α = 0.01 and one step the two directions are close; it is
# the *accumulated* difference over thousands of meta-iterations that costs first-order MAML accuracy
# in the results below.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Meta-SGD: the inner learning rate becomes a metaparameter
# Li et al. (2017) learn one inner rate per weight,
# $\theta_i' = \theta - \boldsymbol\alpha \circ \nabla_\theta \mathcal{L}^{tr}$, and meta-train
# $(\theta, \boldsymbol\alpha)$ together with the same outer loss. Now the *direction and size* of the
# adaptation step are learned, not only its start. Nothing keeps $\boldsymbol\alpha$ positive or small:
# it is tuned for the one step used in training.

# %% slideshow={"slide_type": "-"}
rates = torch.cat([r.flatten() for r in learners["metasgd"].rate().values()])
print(f"Meta-SGD's 1761 learned rates (all started at 0.01): from {rates.min():.2f} to {rates.max():.2f}; "
      f"{(rates < 0).float().mean():.0%} are negative, {(rates.abs() > 0.1).float().mean():.0%} exceed 0.1 in size")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The baseline: pretrain, then fine-tune
# Fit one network to all tasks pooled together (it learns the mean curve $-1.62\cos x$), then fine-tune
# it with $\alpha$ on the support set at test time. No meta-objective at all: the quadratic case
# predicts that its start sits where the tasks agree, not where a step helps.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Training: offline, then loaded
# Each method runs 4500 meta-iterations (about a minute of CPU per method, once, with
# `python -m mlcourse.maml --train`); the lecture loads the results. A 300-iteration version of the same
# code path is part of the course's tests.

# %% slideshow={"slide_type": "-"}
fig, ax = plt.subplots(figsize=(8.4, 3.6))
for m, learner in learners.items():
    h = np.convolve(learner.history, np.ones(100) / 100, mode="valid")
    _ = ax.plot(np.arange(len(h)) + 100, h, label=NAMES[m] + (" (pooled MSE)" if m == "pretrain" else " (query MSE)"))
ax.set(title="Outer loss during meta-training (moving average of 100)", xlabel="meta-iteration",
       ylabel="outer loss", yscale="log", yticks=[0.3, 0.5, 1, 2, 3], yticklabels=["0.3", "0.5", "1", "2", "3"])
ax.minorticks_off()
ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=10)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Results on 600 new tasks
# Query MSE on 100 query points after 0, 1, 2, 5 and 10 adaptation steps from $K = 10$ support points
# (mean ± 95 % interval). Every method was meta-trained for **one** step.

# %% slideshow={"slide_type": "-"}
eval_steps = (0, 1, 2, 5, 10)
per_task = {m: maml.evaluate_tasks(l, steps=eval_steps)[1] for m, l in learners.items()}


def summary(losses):
    """Mean ± 95 % half-width of one column, or how many tasks diverged (inf or NaN)."""
    bad = int((~torch.isfinite(losses)).sum())
    if bad:
        return f"{'diverged on ' + str(bad) + '/600':>15}"
    return f"{losses.mean():>7.3f} ± {1.96 * losses.std() / math.sqrt(len(losses)):.3f}"


print(f"{'method':<21}" + "".join(f"{f'{s} steps':>16}" for s in eval_steps))
for m, losses in per_task.items():
    print(f"{NAMES[m]:<21}" + " ".join(summary(losses[:, j]) for j in range(len(eval_steps))))

# %% [markdown] slideshow={"slide_type": "subslide"}
# - **MAML** lands far below the task-agnostic floor 3.006 after one step, and keeps improving with
#   more steps, although it was trained for one. Finn et al. report 0.77 ± 0.11 for 10-shot MAML
#   (as quoted in the Meta-SGD paper); our run is lower at one step.
# - **First-order MAML** is worse at every step count: the missing Hessian term matters.
# - **Pretrain + fine-tune** starts at the mean curve and barely moves: a step from there is not useful.
# - **Meta-SGD** is best after the one step it was trained for, then breaks down: its rates overshoot.

# %% slideshow={"slide_type": "subslide"}
losses_msgd = per_task["metasgd"]
worse = (losses_msgd > losses_msgd[:, :1]) | ~torch.isfinite(losses_msgd)
print("Meta-SGD, per task:   " + "".join(f"{f'{s} steps':>12}" for s in eval_steps))
print("median query MSE      " + "".join(f"{losses_msgd[:, j].nanmedian():>12.3f}" for j in range(len(eval_steps))))
print("worse than no step    " + "".join(f"{int(worse[:, j].sum()):>12d}" for j in range(len(eval_steps))))
print("diverged (inf or NaN) " + "".join(f"{int((~torch.isfinite(losses_msgd[:, j])).sum()):>12d}"
                                         for j in range(len(eval_steps))))

# %% [markdown] slideshow={"slide_type": "subslide"}
# For the typical task more Meta-SGD steps still help (the median keeps falling), but a growing
# minority of tasks ends worse than before adapting, and after 10 steps about a third of them have
# diverged to infinity. The learned rates (up to 0.94, and negative for a third of the weights) are a
# metaparameter tuned for the *number of inner steps used in training*: change that number and they are
# no longer good, or even stable.

# %% [markdown] slideshow={"slide_type": "notes"}
# Meta-SGD paper (Li et al. 2017, Table 1, sinusoids, one step): 10-shot Meta-SGD 0.53 ± 0.09 against MAML
# 0.77 ± 0.11; 5-shot 0.90 / 1.13; 20-shot 0.31 / 0.48. Our Meta-SGD is about half the paper's number at
# every K (next cell) and our MAML lower too; the ordering is the same. We have not found the cause:
# evaluation protocols differ (number of query points and test tasks), our rates start at α = 0.01 for
# every weight, and we train 4500 meta-iterations. The paper evaluates Meta-SGD after one step only.
# Pretrain: the syllabus reference ≈ 3.1 after one step was for a 300-iteration pretraining; our 4500
# iterations give ≈ 2.6 (the longer the pooled regression trains, the more its features happen to help
# one fine-tuning step).

# %% slideshow={"slide_type": "subslide"}
shots = (5, 10, 20)
by_k = {m: [maml.evaluate(learners[m], k_shot=k, steps=(1,))[1] for k in shots] for m in ("maml", "metasgd")}
paper = {"maml": (1.13, 0.77, 0.48), "metasgd": (0.90, 0.53, 0.31)}
print(f"{'one step, K support points':<28}" + "".join(f"{f'K = {k}':>16}" for k in shots))
for m, res in by_k.items():
    print(f"{NAMES[m] + ' (ours)':<28}" + "".join(f"{mean:>9.3f} ± {half:.3f}" for mean, half in res))
    print(f"{NAMES[m] + ' (Li et al.)':<28}" + "".join(f"{v:>16.2f}" for v in paper[m]))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Fewer support points make every method worse: with $K = 5$ one MAML step leaves a query MSE near 1, so
# "one step fits every task" is not true at five points. Both methods trained with $K = 10$ only.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try it: a new task, four methods
# Choose the method, the number of adaptation steps, the task $(A, \varphi)$ and the number $K$ of
# support points. Left: the fit (dotted: before adapting). Right: this task's query MSE after each step.
# Choose **Meta-SGD** and slide the steps up to watch its learned rates overshoot.

# %% slideshow={"slide_type": "subslide"}
def adapt_live(method: str = "maml", steps: int = 1, amplitude: float = A0, phase: float = PHI0, k: int = 10):
    """One method's fit to one task after `steps` inner steps, and the task's query MSE along the way."""
    learner = learners[method]
    xs_t, ys_t = task_points(amplitude, phase, k)
    path = learner.adapt_path(xs_t, ys_t, 10)
    errors = np.array([grid_mse(learner, p, amplitude, phase) for p in path])
    reference = np.array([grid_mse(learners["maml"], p, amplitude, phase)
                          for p in learners["maml"].adapt_path(xs_t, ys_t, 10)])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    _ = left.plot(grid[:, 0].cpu(), (amplitude * torch.sin(grid[:, 0] - phase)).cpu(), color="black",
                  linewidth=1, label="true task")
    _ = left.scatter(xs_t[:, 0].cpu(), ys_t[:, 0].cpu(), color="black", zorder=3, label=f"{k} support points")
    _ = left.plot(grid[:, 0].cpu(), learner.predict(grid, path[0])[:, 0].cpu(), color="C0", linestyle=":",
                  linewidth=1.5, label="before adapting")
    fitted = learner.predict(grid, path[steps])[:, 0].cpu()
    finite = bool(torch.isfinite(fitted).all()) and np.isfinite(errors[steps]) and errors[steps] < 1e4
    if finite:
        _ = left.plot(grid[:, 0].cpu(), fitted.clamp(-20, 20), color="C0", label=f"after {steps} step(s)")
    left.set(title=f"{NAMES[method]}: " + (f"MSE {errors[steps]:.3f}" if finite else "diverged"),
             xlabel="x", ylabel="y", ylim=(-6, 6))
    left.legend(loc="lower left", fontsize=9)
    ok = np.isfinite(errors) & (errors < 1e4)
    _ = right.plot(np.arange(11), reference, color="#999999", marker=".", label="MAML (reference)")
    _ = right.plot(np.arange(11)[ok], errors[ok], color="C0", marker="o", label=NAMES[method])
    if ok[steps]:
        _ = right.plot([steps], [errors[steps]], marker="o", markersize=12, color="C1", zorder=3)
    if not ok.all():
        first_bad = int(np.argmin(ok))
        right.annotate(f"diverges at step {first_bad}", xy=(0.98, 0.92), xycoords="axes fraction",
                       ha="right", color="C1")
    right.set(title="This task's query MSE", xlabel="adaptation steps", ylabel="query MSE (log scale)",
              yscale="log")
    right.legend(loc="lower left", fontsize=9)
    return fig


live(adapt_live, method=choice("method", {v: k for k, v in NAMES.items()}),
     steps=slider("adaptation steps", 0, 10, 1), amplitude=slider("amplitude A", 0.1, 5.0, 0.1),
     phase=slider("phase φ (rad)", 0.0, 3.14, 0.01), k=slider("support points K", 1, 20, 1),
     enabled={"k": lambda p: p["steps"] > 0})

# %% [markdown] slideshow={"slide_type": "notes"}
# Things to try: Meta-SGD at 1 step (best of all) then 10 steps on the default task (it diverges);
# K = 2 or 3 (every method fits the few points and misses the curve); A = 4.5, φ = 1.2 (a hard task:
# MAML needs several steps). The support points are one fixed draw per K, so moving K adds points.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How big is the computation graph?
# Backpropagating through an inner loop stores the loop. For MAML's five steps on a tiny network that is
# cheap; for a real training run it is not. Take the two-layer MLP of PyTorch's beginner tutorial
# ($784 \to 512 \to 512 \to 10$) trained for 5 epochs of MNIST with batches of 64:

# %% slideshow={"slide_type": "-"} tags=["show-input"]
tutorial_mlp = torch.nn.Sequential(torch.nn.Linear(28 * 28, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                                   torch.nn.ReLU(), torch.nn.Linear(512, 10))
n_weights = sum(p.numel() for p in tutorial_mlp.parameters())
n_steps = 5 * math.ceil(60_000 / 64)
print(f"{n_weights:,} weights × {n_steps:,} steps = {n_weights * n_steps:.2e} weight copies "
      f"= {n_weights * n_steps * 4 / 1e9:.1f} GB in float32, before a single activation")

# %% [markdown] slideshow={"slide_type": "notes"}
# Stanford CS 330's slide puts this at "over 20 billion parameters" using the bound < 7e6 weights; the exact
# count is 6.7e5, so the graph holds about 3e9 weight copies — still 12.6 GB of float32 before counting
# activations, gradients and optimizer state, for a network a laptop trains in a minute.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Memory grows linearly with inner steps
# We measure the peak tensor memory of one meta-gradient of our sinusoid network (meta-batch 25) with
# `torch.profiler`, for 1 to 6 inner steps. First-order MAML and truncation to the last step store
# nothing of the earlier steps.

# %% slideshow={"slide_type": "-"}
inner_steps = [1, 2, 3, 4, 5, 6]
peak = {kind: np.array([maml.meta_gradient_memory(s, **kw) for s in inner_steps]) / 1e3
        for kind, kw in (("second order (full backprop)", {}), ("truncated: last step only", {"truncate": 1}),
                         ("first order", {"first_order": True}))}
slope, intercept = np.polyfit(inner_steps, peak["second order (full backprop)"], 1)
one_copy = 25 * 1761 * 4 / 1e3  # the weights of 25 tasks in float32, kB
fig, ax = plt.subplots()
for (kind, kb), marker in zip(peak.items(), "os^"):
    _ = ax.plot(inner_steps, kb / 1e3, marker=marker, label=kind)
ax.set(title="Peak memory of one meta-gradient (25 tasks)", xlabel="inner steps T",
       ylabel="peak tensor memory (MB)", ylim=(0, None))
ax.legend(loc="upper left", fontsize=10)
plt.show()
print(f"second order: +{slope:.0f} kB per inner step = {slope / one_copy:.1f} × the 25 tasks' weights "
      f"({one_copy:.0f} kB); first order and truncated: flat after the first steps")

# %% [markdown] slideshow={"slide_type": "notes"}
# What is counted: tensor storage allocated by PyTorch (profiler memory records on the CPU, the caching
# allocator's peak on a GPU). Per inner step and task the graph keeps the adapted weights and the
# support activations (10 points × 80 hidden units, before and after the ReLU), which is why one step
# costs about 1.7 weight copies. Autograd's own bookkeeping objects are not counted.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Escape 1: truncated backpropagation
# Differentiate only through the last few inner steps and treat the earlier ones as first order. Memory
# is bounded by the window, but the gradient is **biased**: it ignores how the early steps depend on
# $\theta$. Cosine of the truncated meta-gradient with the full one for 5 inner steps ($\alpha = 0.05$;
# window 0 is first-order MAML, window 5 is full backprop):

# %% slideshow={"slide_type": "-"}
full = maml.meta_gradient(net64, theta64, batch64, steps=5, inner_lr=0.05)
flat_full = torch.cat([full[n].flatten() for n in full])
cosines = []
for window in range(6):
    g = maml.meta_gradient(net64, theta64, batch64, steps=5, inner_lr=0.05, truncate=window)
    flat = torch.cat([g[n].flatten() for n in g])
    cosines.append((flat @ flat_full / (flat.norm() * flat_full.norm())).item())
print("backprop window:   " + "   ".join(f"{w}: {c:.3f}" for w, c in enumerate(cosines)))

# %% [markdown] slideshow={"slide_type": "-"}
# A longer window is not guaranteed to be closer to the full gradient: the dropped early-step terms
# can cancel each other, and truncation keeps only some of them.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Escape 2: evolution strategies
# Estimate the meta-gradient from meta-loss *values* alone, with antithetic Gaussian perturbations:
# $$\hat g = \frac{1}{2\sigma N}\sum_{j=1}^N \big[\mathcal{L}(\theta + \sigma\epsilon_j) - \mathcal{L}(\theta - \sigma\epsilon_j)\big]\,\epsilon_j .$$
# The losses are the full MAML meta-loss, so $\hat g$ estimates the **second-order** meta-gradient
# (exactly, as $\sigma \to 0$, on average over $\epsilon$). No graph is stored; the $N$ evaluations run in
# parallel; but with $d = 1761$ weights the estimate is noisy until $N$ is comparable to $d$.

# %% slideshow={"slide_type": "-"}
target = maml.meta_gradient(net64, theta64, batch64, steps=1, inner_lr=0.01)
flat_target = torch.cat([target[n].flatten() for n in target])
fomaml_dir = maml.meta_gradient(net64, theta64, batch64, steps=1, inner_lr=0.01, first_order=True)
flat_fo = torch.cat([fomaml_dir[n].flatten() for n in fomaml_dir])
print(f"cosine with the second-order meta-gradient (1 step, α = 0.01):  first-order MAML "
      f"{(flat_fo @ flat_target / (flat_fo.norm() * flat_target.norm())).item():.3f}")
for n_pairs in (16, 128, 1024):
    est = maml.es_meta_gradient(net64, theta64, batch64, n_pairs=n_pairs, sigma=1e-4,
                                generator=torch.Generator().manual_seed(0))
    flat = torch.cat([est[n].flatten() for n in est])
    cos_es = (flat @ flat_target / (flat.norm() * flat_target.norm())).item()
    print(f"  ES with N = {n_pairs:>4} pairs: cosine {cos_es:.3f}   "
          f"(expected from N random directions in d = 1761: ≈ √(N/(N+d)) = {math.sqrt(n_pairs / (n_pairs + 1761)):.3f})")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ES is unbiased for the meta-gradient it targets but needs about as many loss evaluations as there are
# weights to point the right way; first-order MAML is cheap and biased. At one step of $\alpha = 0.01$ the
# bias is small; over long inner loops both noise and bias grow (lecture 06).

# %% [markdown] slideshow={"slide_type": "notes"}
# Why compare at one step of α = 0.01: with ReLU units the inner gradient jumps wherever a support
# point crosses a unit's kink, so θ' — and the meta-loss — jump too. The jumps are of size α times the
# gradient jump; with 2 steps of α = 0.05 finite differences of size σ = 1e-4 that straddle one are huge
# and ES's estimate is dominated by them. On a tanh network of the same shape the meta-loss is smooth
# and ES aligns with the second-order direction, not the first-order one. A larger σ smooths the jumps out,
# at the price of estimating the gradient of a blurred meta-loss.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning to learn by gradient descent by gradient descent
# MAML learns where the inner optimiser starts; Meta-SGD also learns its step sizes. Andrychowicz et al.
# (2016) learn the **update rule itself**: a small LSTM $m_\phi$ reads each weight's gradient and outputs its
# step,
# $$\theta_{t+1} = \theta_t + m_\phi\big(\nabla f(\theta_t), h_t\big), \qquad
# \phi^* = \arg\min_\phi \; \mathbb{E}_f \sum_{t=1}^{T} w_t f(\theta_t),$$
# one LSTM shared by all coordinates (so it has few parameters), trained by backpropagating through
# the unrolled optimisation: the same computation graph as MAML's inner loop, truncated for the same
# memory reason. Lecture 07 trains such an optimiser and races it against tuned SGD.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What to remember
# - MAML treats the **start** of gradient descent as a metaparameter and trains it so that a few steps
#   on a new task work; on quadratic tasks it weights each task by the loss one step *leaves*.
# - Its exact meta-gradient multiplies one Hessian–vector product per inner step; first-order MAML drops
#   them (cheaper, biased, worse here: 0.91 vs 0.64 after one step).
# - Meta-SGD learns per-weight inner rates: best after the one step it was trained for, divergent after
#   more. A learned metaparameter is tuned to the procedure it was trained in.
# - Backprop through $T$ inner steps stores the whole loop (memory linear in $T$); truncation bounds it
#   (biased), ES removes it (noisy).
#
# **Links.** Lecture 03: attention as one gradient step inside a forward pass; 05 replaces the inner
# loop by a network that outputs the weights; 06 unrolls to $10^4$ steps; 07 learns the optimiser.
# The task weights $\theta'_i$ are parameters; the start $\theta$ and the rates $\boldsymbol\alpha$ are
# metaparameters of the inner optimisation, and the start is also a prior mean over each task's weights,
# a hyperparameter (Grant et al. 2018).
