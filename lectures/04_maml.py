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
# # 04 · MAML: learning an initialisation
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mlcourse/mlcourse/HEAD?urlpath=lab/tree/lectures/04_maml.ipynb)
#
# Model-Agnostic Meta-Learning (Finn, Abbeel & Levine, 2017) treats the *starting point* of gradient
# descent as a metaparameter and trains it so that one or a few steps on a new task are enough.
# We reproduce the paper's sinusoid experiment, check its second-order gradient, and measure what
# differentiating through an inner loop costs.

# %% slideshow={"slide_type": "skip"} tags=["colab", "remove-cell"]
# On Google Colab only: install the course into this runtime (Colab's GPU is used when present).
import os
import sys

if "google.colab" in sys.modules:
    import subprocess

    source = os.environ.get("MLCOURSE_SOURCE", "git+https://github.com/mlcourse/mlcourse@main")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"mlcourse @ {source}"], check=True)

# %% slideshow={"slide_type": "skip"}
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import mlcourse
from mlcourse import maml
from mlcourse.widgets import live, slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Tasks: a distribution $p(\mathcal{T})$ of regression problems
# A task is a sinusoid $y = A \sin(x - \varphi)$ with amplitude $A \sim U[0.1, 5]$ and phase
# $\varphi \sim U[0, \pi]$. From each task we see $K = 10$ **support** points $\mathcal{D}^{tr}$ (to
# adapt on) and 10 **query** points $\mathcal{D}^{ts}$ (to judge the adapted model), all with
# $x \sim U[-5, 5]$.

# %% slideshow={"slide_type": "subslide"}
xs, ys, xq, yq = maml.sinusoid_tasks(4, 10, 10, generator=torch.Generator().manual_seed(0))
fig, ax = plt.subplots()
for i in range(4):
    order = xq[i, :, 0].argsort()
    _ = ax.plot(xq[i, order, 0], yq[i, order, 0], alpha=0.5)
    _ = ax.scatter(xs[i, :, 0], ys[i, :, 0], s=18, color=ax.lines[-1].get_color())
ax.set(title="Four tasks: support points (dots) and query curves (lines)", xlabel="x", ylabel="y")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Two floors: what you get without adapting
# - Predict $0$: the error is $E[y^2] = E[A^2]/2$.
# - Predict the **mean curve** $E[y \mid x] = E[A]\,E_\varphi[\sin(x-\varphi)] = -\tfrac{2E[A]}{\pi}\cos x
#   \approx -1.6234 \cos x$ — the best any task-agnostic predictor can do.
#
# Any method that looks at the support set must land below the second floor.

# %% slideshow={"slide_type": "-"}
zero_floor, agnostic_floor = maml.analytic_floors()
assert abs(zero_floor - 4.252) < 1e-3 and abs(agnostic_floor - 3.006) < 1e-3
print(f"predict 0:              MSE {zero_floor:.3f}")
print(f"predict {maml.agnostic_coefficient():.4f} cos x:  MSE {agnostic_floor:.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Inner loop and outer loop
# **Inner loop** (adaptation, paper eq. 1), for each task $\mathcal{T}_i$:
# $$\theta_i' = \theta - \alpha \nabla_\theta \mathcal{L}(f_\theta; \mathcal{D}_i^{tr}), \qquad \alpha = 0.01 .$$
# **Outer loop** (meta-update, eq. 3), over a meta-batch of 25 tasks:
# $$\theta \leftarrow \theta - \beta \nabla_\theta \sum_i \mathcal{L}(f_{\theta_i'}; \mathcal{D}_i^{ts}).$$
# The meta-objective asks: *after* one step on the support set, how good is the model on the query set?
# `maml.adapt` is the inner loop, `maml.meta_loss` the outer objective, `maml.meta_gradient` its gradient.

# %% [markdown] slideshow={"slide_type": "notes"}
# The paper's text uses alpha = 0.01 for sinusoids; the authors' released code defaults to 1e-3. We follow
# the text. Network: 1-40-40-1 ReLU, Adam with beta = 1e-3, 10-shot, meta-batch 25, as in the paper.

# %% [markdown] slideshow={"slide_type": "subslide"}
# In code, each task's adaptation is a pure function of $\theta$ (`torch.func.functional_call`), so
# `torch.func.vmap` runs all 25 tasks at once and `torch.func.grad` differentiates through the
# inner step — no Python loop over tasks:
# ```python
# def one_task(xs, ys, xq, yq):
#     adapted = adapt(model, params, xs, ys, inner_lr=0.01, steps=1)   # θ'_i
#     return mse(model, adapted, xq, yq)                                # L(f_θ'_i; D_i^ts)
# loss = vmap(one_task)(*tasks).mean()
# ```

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The second-order meta-gradient
# By the chain rule, $\nabla_\theta \mathcal{L}(\theta') = \big(I - \alpha \nabla^2_\theta
# \mathcal{L}^{tr}(\theta)\big)\, \nabla_{\theta'} \mathcal{L}^{ts}(\theta')$: the meta-gradient contains a
# **Hessian–vector product** of the support loss. We check it against central finite differences
# in float64, along random directions $v$: $\;[\mathcal{L}(\theta + \epsilon v) - \mathcal{L}(\theta - \epsilon v)]/2\epsilon$.

# %% slideshow={"slide_type": "-"}
torch.manual_seed(0)
net64 = maml.make_regressor().double()
theta64 = {n: p.detach() for n, p in net64.named_parameters()}
batch64 = tuple(t.double() for t in maml.sinusoid_tasks(5, generator=torch.Generator().manual_seed(0)))
g2 = maml.meta_gradient(net64, theta64, batch64, steps=2, inner_lr=0.05)
gen = torch.Generator().manual_seed(2)
worst = 0.0
for _ in range(3):
    v = {n: torch.randn(p.shape, generator=gen, dtype=torch.float64) for n, p in theta64.items()}
    eps = 1e-6
    shifted = [maml.meta_loss(net64, {n: theta64[n] + s * eps * v[n] for n in v}, batch64, steps=2,
                              inner_lr=0.05).item() for s in (1, -1)]
    fd = (shifted[0] - shifted[1]) / (2 * eps)
    analytic = sum((g2[n] * v[n]).sum() for n in v).item()
    worst = max(worst, abs(fd - analytic) / abs(fd))
assert worst < 1e-6
print(f"worst relative gap, autodiff vs finite differences (2 inner steps): < {1e-6:.0e}")

# %% [markdown] slideshow={"slide_type": "notes"}
# Finite differences on a ReLU network are only trustworthy when no unit changes sign between θ − εv and
# θ + εv: with a larger ε (1e-4) or another task draw, some directions straddle a kink and the two
# numbers disagree completely. That is a property of the check, not of the meta-gradient.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## First-order MAML
# Dropping the Hessian term ($\partial\theta'/\partial\theta \approx I$) gives FOMAML: the meta-gradient is
# just the query gradient evaluated at the adapted parameters. It is cheaper — no graph through the
# inner gradient — but it is a *different* direction:

# %% slideshow={"slide_type": "-"}
g1 = maml.meta_gradient(net64, theta64, batch64, steps=2, inner_lr=0.05, first_order=True)
flat1, flat2 = (torch.cat([g[n].flatten() for n in g]) for g in (g1, g2))
rel_gap = ((flat1 - flat2).norm() / flat2.norm()).item()
cosine = (flat1 @ flat2 / (flat1.norm() * flat2.norm())).item()
assert rel_gap > 1e-3
print(f"first vs second order: relative difference {rel_gap:.2f}, cosine {cosine:.2f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Meta-SGD: the inner learning rate becomes a metaparameter
# Li et al. (2017) learn one inner rate per parameter, $\theta_i' = \theta - \boldsymbol\alpha \circ
# \nabla_\theta \mathcal{L}^{tr}$, and meta-train $(\theta, \boldsymbol\alpha)$ together with the same outer loss.
# Direction *and* size of the adaptation step are now learned. The price: $\boldsymbol\alpha$ is tuned for the
# number of steps used in training (here one) and need not be stable for more.
#
# ## The baseline: pretrain, then fine-tune
# Fit one network to all tasks pooled together (it learns the mean curve), then fine-tune with
# $\alpha$ on the support set at test time. No meta-objective at all.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Training: offline, then loaded
# Full training (4500 meta-iterations, ≈ 1 min of CPU per method) runs once with
# `python -m mlcourse.maml --train`; its checkpoints ship in `mlcourse/data/`. A 300-iteration
# version of the same path is tested in `tests/test_maml.py`. Training curves:

# %% slideshow={"slide_type": "-"}
learners = {m: maml.pretrained(m, device=device) for m in maml.METHODS}
fig, ax = plt.subplots()
for m, learner in learners.items():
    h = np.convolve(learner.history, np.ones(100) / 100, mode="valid")
    _ = ax.plot(np.arange(len(h)) + 100, h, label=m)
ax.set(title="Outer loss during training (moving average of 100)", xlabel="meta-iteration",
       ylabel="outer loss (query MSE)", yscale="log")
ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Results on 600 new tasks
# Query MSE on 100 query points after 0, 1, 5 and 10 adaptation steps from $K = 10$ support points
# (± the 95 % interval). Meta-SGD is evaluated after one step, the step it was trained for.

# %% slideshow={"slide_type": "-"}
results = {m: maml.evaluate(l, steps=(0, 1) if m == "metasgd" else (0, 1, 5, 10))
           for m, l in learners.items()}
mse_maml = [results["maml"][s][0] for s in (0, 1, 5, 10)]
assert results["maml"][1][0] <= 0.85                                # paper level: 0.77
assert all(b <= a for a, b in zip(mse_maml, mse_maml[1:]))          # more steps never hurt
assert results["fomaml"][1][0] > results["maml"][1][0]              # first order is worse
assert results["pretrain"][1][0] >= 2.5                             # the baseline barely adapts
assert results["maml"][1][0] < agnostic_floor
print(f"{'method':<9}" + "".join(f"{f'{s} steps':>16}" for s in (0, 1, 5, 10)))
for m, res in results.items():
    print(f"{m:<9}" + "".join(f"{res[s][0]:>9.3f} ± {res[s][1]:.3f}" if s in res else f"{'-':>16}"
                              for s in (0, 1, 5, 10)))

# %% [markdown] slideshow={"slide_type": "notes"}
# Reference (syllabus): MAML 1 step 0.775 ± 0.06, 10 steps 0.27; FOMAML 1 step ≈ 0.90; pretrain ≈ 3.1.
# Meta-SGD paper, MAML 10-shot: 0.77 ± 0.11. Our run lands lower for MAML at 1 step (0.64) and for
# the pretrained baseline (2.64 instead of ≈ 3.1; a 300-iteration pretrain gives 3.15 — the longer the
# pooled regression trains, the more its features happen to help one fine-tuning step). The
# qualitative picture — MAML far below the floor, FOMAML worse, pretrain near the floor — is the same.

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
for m, res in results.items():
    s = sorted(res)
    _ = ax.errorbar(s, [res[k][0] for k in s], yerr=[res[k][1] for k in s], marker="o", capsize=3, label=m)
ax.axhline(agnostic_floor, color="gray", linestyle="--", linewidth=1, label="task-agnostic floor")
ax.set(title="Query MSE after adaptation (600 test tasks, K = 10)", xlabel="adaptation steps",
       ylabel="query MSE", yscale="log")
ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try it: a new task, live
# Pick a task $(A, \varphi)$ and the number $K$ of support points, then slide the number of adaptation
# steps. MAML's initialisation (dashed) is not a sinusoid of any task — it is a point from which one step
# reaches every task; the pretrained network starts at the mean curve and barely moves.

# %% slideshow={"slide_type": "subslide"}
def adapt_live(amplitude: float = 3.0, phase: float = 1.0, k: int = 10, steps: int = 1):
    """MAML and pretrained fits to one task after `steps` steps on `k` support points."""
    x_sup, y_sup = maml.sinusoid_points(torch.tensor([amplitude]), torch.tensor([phase]), k,
                                        generator=torch.Generator().manual_seed(7), device=device)
    grid = torch.linspace(-5, 5, 200, device=device)[:, None]
    fig, ax = plt.subplots()
    _ = ax.plot(grid[:, 0].cpu(), amplitude * torch.sin(grid[:, 0].cpu() - phase), color="black",
                linewidth=1, label="true task")
    _ = ax.scatter(x_sup[0, :, 0].cpu(), y_sup[0, :, 0].cpu(), color="black", zorder=3, label=f"{k} support points")
    for m, colour in (("maml", "C0"), ("pretrain", "C1")):
        learner = learners[m]
        _ = ax.plot(grid[:, 0].cpu(), learner.predict(grid)[:, 0].cpu(), color=colour, linestyle=":",
                    linewidth=1)
        fitted = learner.predict(grid, learner.adapt(x_sup[0], y_sup[0], steps))
        _ = ax.plot(grid[:, 0].cpu(), fitted[:, 0].cpu(), color=colour, label=f"{m}, {steps} step(s)")
    ax.set(title=f"A = {amplitude:.1f}, φ = {phase:.2f}: dotted = before adapting", xlabel="x",
           ylabel="y", ylim=(-6, 6))
    ax.legend(loc="lower right", fontsize=8)
    return fig


live(adapt_live, amplitude=slider("amplitude A", 0.1, 5.0, 0.1), phase=slider("phase φ (rad)", 0.0, 3.14, 0.01),
     k=slider("support points K", 1, 20, 1), steps=slider("adaptation steps", 0, 10, 1))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why memory grows with inner steps
# To differentiate through $T$ inner steps, backprop must keep every step's activations and inner
# gradients: the computation graph is $T$ copies of one step, so **memory grows linearly in $T$**
# (seed 003, "total computation graph"). We measure the peak allocation of one meta-gradient
# (meta-batch 25) with `torch.profiler`'s memory records:

# %% slideshow={"slide_type": "-"}
inner_steps = [1, 2, 3, 4, 5, 6]
peak_second = np.array([maml.meta_gradient_memory(s) for s in inner_steps]) / 1e6
peak_first = np.array([maml.meta_gradient_memory(s, first_order=True) for s in inner_steps]) / 1e6
peak_trunc = np.array([maml.meta_gradient_memory(s, truncate=1) for s in inner_steps]) / 1e6
slope, intercept = np.polyfit(inner_steps, peak_second, 1)
residual = np.abs(peak_second - (slope * np.array(inner_steps) + intercept)).max()
assert np.all(np.diff(peak_second) > 0) and residual < 0.1 * peak_second[-1]
print(f"second order: ≈ {slope * 1e3:.0f} kB more per inner step (linear fit, max residual {residual * 1e3:.0f} kB)")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
_ = ax.plot(inner_steps, peak_second, marker="o", label="second order (full backprop)")
_ = ax.plot(inner_steps, peak_trunc, marker="s", label="truncated: last step only")
_ = ax.plot(inner_steps, peak_first, marker="^", label="first order")
ax.set(title="Peak memory of one meta-gradient (meta-batch 25)", xlabel="inner steps T",
       ylabel="peak memory (MB)", ylim=(0, None))
ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Escape 1: truncated backpropagation
# Differentiate only through the last few inner steps; treat the earlier ones as first order. Memory is
# bounded by the truncation length, but the gradient is **biased** — it ignores how early steps depend
# on $\theta$. Cosine to the full 5-step meta-gradient as the window grows (window 0 is first order,
# 5 is full backprop) — note that a longer window is not even guaranteed to be closer:

# %% slideshow={"slide_type": "-"}
full = maml.meta_gradient(net64, theta64, batch64, steps=5, inner_lr=0.05)
flat_full = torch.cat([full[n].flatten() for n in full])
cosines = []
for window in range(6):
    g = maml.meta_gradient(net64, theta64, batch64, steps=5, inner_lr=0.05, truncate=window)
    flat = torch.cat([g[n].flatten() for n in g])
    cosines.append((flat @ flat_full / (flat.norm() * flat_full.norm())).item())
assert abs(cosines[-1] - 1) < 1e-9
print("backprop window:", " ".join(f"{w}: {c:.3f}" for w, c in enumerate(cosines)))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Escape 2: evolution strategies
# Estimate the meta-gradient from meta-losses alone, with antithetic Gaussian perturbations
# $$\hat g = \frac{1}{2\sigma N}\sum_{j=1}^N \big[\mathcal{L}(\theta + \sigma\epsilon_j) - \mathcal{L}(\theta - \sigma\epsilon_j)\big]\,\epsilon_j .$$
# No graph is stored, so memory is constant in the number of inner steps, and the $N$ evaluations run
# in parallel — but with $d = 1761$ parameters the estimate is noisy until $N$ is comparable to $d$.

# %% slideshow={"slide_type": "-"}
target = maml.meta_gradient(net64, theta64, batch64, steps=1, inner_lr=0.01, first_order=True)
flat_target = torch.cat([target[n].flatten() for n in target])
es_cos = {}
for n_pairs in (16, 128, 1024):
    est = maml.es_meta_gradient(net64, theta64, batch64, n_pairs=n_pairs, sigma=1e-4,
                                generator=torch.Generator().manual_seed(0))
    flat = torch.cat([est[n].flatten() for n in est])
    es_cos[n_pairs] = (flat @ flat_target / (flat.norm() * flat_target.norm())).item()
assert es_cos[1024] > es_cos[16]
print("ES pairs N:", " ".join(f"{n}: cosine {c:.2f}" for n, c in es_cos.items()))

# %% [markdown] slideshow={"slide_type": "notes"}
# The ES target here is the meta-gradient of the loss ES actually evaluates. For a 1-step inner loop
# the losses are the same function as MAML's, so the cosine measures estimator noise only. Expected
# cosine for an isotropic estimate is about sqrt(N / (N + d)).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How fast is this?
# `benchmarks/maml.py` times `meta_train` (all 25 tasks in one `vmap`) against the usual per-task
# Python loop with `autograd.grad(create_graph=True)`, in the same run (10-shot, meta-batch 25, one
# inner step, 1 thread, median of 7 repeats of 30 iterations, CPU time). On the shared 2-core machine
# that built this course: **146 vs 25.5 meta-iterations/s, 5.7×** (wall clock 7.0×); earlier runs
# under different load gave 4.8–6.6×. The cell below re-measures briefly on your machine.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
def iterations_per_cpu_second(train, n=20):
    train(2)  # warm-up
    start = time.process_time()
    train(n)
    return n / (time.process_time() - start)


import importlib.util  # noqa: E402 — the baseline lives in the benchmark file, not in the package
from pathlib import Path  # noqa: E402

bench_file = Path.cwd().parent / "benchmarks" / "maml.py"
if bench_file.exists():
    spec = importlib.util.spec_from_file_location("bench_maml", bench_file)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    fast = iterations_per_cpu_second(lambda n: maml.meta_train(iterations=n, progress=False))
    slow = iterations_per_cpu_second(lambda n: bench.loop_meta_train(iterations=n))
    print(f"vmap: {fast:.0f} it/s, per-task loop: {slow:.0f} it/s, ratio {fast / slow:.1f}x")
else:
    print("benchmarks/maml.py not found next to this notebook: run it from a course checkout")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - MAML meta-learns an initialisation: one step from it fits a new sinusoid (MSE ≈ 0.65 vs the
#   task-agnostic floor 3.006); a pretrained network barely moves (≈ 2.6 after one step).
# - The exact meta-gradient contains a Hessian–vector product; first-order MAML drops it and is worse.
# - Meta-SGD makes the inner learning rate a learned metaparameter, per parameter.
# - Backprop through $T$ inner steps costs memory linear in $T$: truncate it (biased) or replace it by
#   evolution strategies (unbiased for the smoothed loss, noisy, constant memory).
