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

# %% [markdown]
# # 04 · MAML — exercises
# Six questions on the pieces of MAML: the functional inner step, the first-order approximation and
# its error, Meta-SGD's per-parameter rates, the memory cost of the inner loop, its escapes, and the
# best start on quadratic tasks. Everything runs on the paper's 1-40-40-1 regressor and sinusoid tasks
# from `mlcourse.maml`.

# %%
import numpy as np
import torch
from torch.func import functional_call, grad

import mlcourse
from mlcourse import maml
from mlcourse.grading import check, one_of

device = mlcourse.setup()
torch.manual_seed(0)
model = maml.make_regressor().double()
theta = {n: p.detach() for n, p in model.named_parameters()}
tasks = tuple(t.double() for t in maml.sinusoid_tasks(5, 10, 10, generator=torch.Generator().manual_seed(0)))
xs, ys, xq, yq = tasks  # each [5 tasks, 10 points, 1]


def flat(d):
    """All tensors of a parameter dict as one vector."""
    return torch.cat([v.flatten() for v in d.values()])


# %% [markdown]
# ### Q1 · The functional inner step
# Write `inner_step(model, params, x, y, lr)`: one step of gradient descent on the support loss
# $\mathcal{L}(f_\theta; x, y) = \operatorname{mean}(f_\theta(x) - y)^2$, returning the new parameter dict
# $\theta' = \theta - \alpha \nabla_\theta \mathcal{L}$. Run the model with `functional_call(model, params, (x,))`
# and differentiate with `torch.func.grad`, so that $\theta'$ stays a differentiable function of $\theta$.

# %%
def inner_step(model, params, x, y, lr):
    ### BEGIN SOLUTION
    def loss(p):
        return (functional_call(model, p, (x,)) - y).pow(2).mean()
    g = grad(loss)(params)
    return {n: params[n] - lr * g[n] for n in params}
    ### END SOLUTION


# %% tags=["check"]
with check("Q1 functional inner step", hint="Differentiate a function of the whole params dict; "
           "grad returns a dict with the same keys. Step against the gradient."):
    mine = inner_step(model, theta, xs[0], ys[0], 0.01)
    assert torch.allclose(flat(mine), flat(maml.adapt(model, theta, xs[0], ys[0], inner_lr=0.01)), atol=1e-12)
    ### BEGIN HIDDEN CHECKS
    twice = inner_step(model, inner_step(model, theta, xs[1], ys[1], 0.2), xs[1], ys[1], 0.2)
    assert torch.allclose(flat(twice), flat(maml.adapt(model, theta, xs[1], ys[1], inner_lr=0.2, steps=2)),
                          atol=1e-12)
    ### END HIDDEN CHECKS

# %% [markdown]
# ### Q2 · First-order MAML and its error
# First-order MAML replaces $\partial\theta'_i/\partial\theta$ by the identity. Write
# `first_order_gradient(model, params, tasks, lr)`: the mean over the tasks of the **query** loss
# gradient evaluated at the adapted parameters $\theta'_i$ (one inner step with rate `lr`).
# Then set `relative_error` to $\lVert g_{FO} - g \rVert / \lVert g \rVert$ at `lr = 0.05`, where $g$ is
# the exact second-order meta-gradient `maml.meta_gradient(model, theta, tasks, inner_lr=0.05)`.

# %%
def first_order_gradient(model, params, tasks, lr):
    ### BEGIN SOLUTION
    per_task = []
    for x_s, y_s, x_q, y_q in zip(*tasks):
        adapted = maml.adapt(model, params, x_s, y_s, inner_lr=lr)
        g = grad(lambda p: maml.mse(model, p, x_q, y_q))(adapted)
        per_task.append(g)
    return {n: torch.stack([g[n] for g in per_task]).mean(0) for n in params}
    ### END SOLUTION


### BEGIN SOLUTION
exact = flat(maml.meta_gradient(model, theta, tasks, inner_lr=0.05))
relative_error = ((flat(first_order_gradient(model, theta, tasks, 0.05)) - exact).norm() / exact.norm()).item()
### END SOLUTION

# %% tags=["check"]
with check("Q2 first-order gradient and its error", hint="Adapt each task, then take the gradient of "
           "the query loss with respect to the adapted parameters; average over tasks."):
    reference = maml.meta_gradient(model, theta, tasks, inner_lr=0.05, first_order=True)
    assert torch.allclose(flat(first_order_gradient(model, theta, tasks, 0.05)), flat(reference), atol=1e-12)
    exact_ref = flat(maml.meta_gradient(model, theta, tasks, inner_lr=0.05))
    assert abs(relative_error - ((flat(reference) - exact_ref).norm() / exact_ref.norm()).item()) < 1e-8
    ### BEGIN HIDDEN CHECKS
    ref2 = maml.meta_gradient(model, theta, tasks, inner_lr=0.3, first_order=True)
    assert torch.allclose(flat(first_order_gradient(model, theta, tasks, 0.3)), flat(ref2), atol=1e-12)
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# The first-order error grows with the inner rate: the dropped term is $-\alpha\nabla^2\mathcal{L}^{tr}$
# times the query gradient, so it is proportional to $\alpha$ for a single step.

# %% [markdown]
# ### Q3 · Meta-SGD's per-parameter rates
# Meta-SGD adapts with $\theta' = \theta - \boldsymbol\alpha \circ \nabla_\theta \mathcal{L}^{tr}$, one rate per
# parameter entry. Write `metasgd_adapt(model, params, rates, x, y)` (rates: a dict shaped like
# `params`) for a single step. Then, for the rates below, set `alpha_gradient` to the meta-gradient of
# `maml.meta_loss` **with respect to the rates** of layer `"2.weight"` (a tensor of shape [40, 40]).

# %%
rates = {n: torch.full_like(p, 0.02) for n, p in theta.items()}


# %%
def metasgd_adapt(model, params, rates, x, y):
    ### BEGIN SOLUTION
    g = grad(lambda p: maml.mse(model, p, x, y))(params)
    return {n: params[n] - rates[n] * g[n] for n in params}
    ### END SOLUTION


### BEGIN SOLUTION
alpha_gradient = maml.meta_gradient(model, theta, tasks, inner_lr=rates)[1]["2.weight"]
### END SOLUTION

# %% tags=["check"]
with check("Q3 Meta-SGD rates", hint="The product with the rates is elementwise. For the second part, "
           "the rates must be an input of the function being differentiated, just like θ."):
    assert torch.allclose(flat(metasgd_adapt(model, theta, rates, xs[2], ys[2])),
                          flat(maml.adapt(model, theta, xs[2], ys[2], inner_lr=rates)), atol=1e-12)
    loss_at = lambda r: maml.meta_loss(model, theta, tasks, inner_lr=r).item()  # noqa: E731
    bumped = {n: r.clone() for n, r in rates.items()}
    bumped["2.weight"][5, 9] += 1e-6
    lowered = {n: r.clone() for n, r in rates.items()}
    lowered["2.weight"][5, 9] -= 1e-6
    assert tuple(alpha_gradient.shape) == (40, 40)
    assert abs(alpha_gradient[5, 9].item() - (loss_at(bumped) - loss_at(lowered)) / 2e-6) < 1e-6
    ### BEGIN HIDDEN CHECKS
    other = {n: torch.rand(p.shape, generator=torch.Generator().manual_seed(1), dtype=p.dtype) * 0.05
             for n, p in theta.items()}
    assert torch.allclose(flat(metasgd_adapt(model, theta, other, xs[3], ys[3])),
                          flat(maml.adapt(model, theta, xs[3], ys[3], inner_lr=other)), atol=1e-12)
    assert torch.allclose(alpha_gradient, maml.meta_gradient(model, theta, tasks, inner_lr=rates)[1]["2.weight"])
    ### END HIDDEN CHECKS

# %% [markdown]
# ### Q4 · Memory against inner steps
# `maml.meta_gradient_memory(T)` measures the peak memory (bytes) of one second-order meta-gradient
# with `T` inner steps (meta-batch 25). Measure it for `T = 1, …, 5` and set `mb_per_step` to the slope
# of a least-squares straight line through the points, in **megabytes** (1 MB = $10^6$ bytes, not
# $2^{20}$) per step.

# %%
### BEGIN SOLUTION
steps = np.arange(1, 6)
peaks = np.array([maml.meta_gradient_memory(int(t)) for t in steps]) / 1e6
mb_per_step = float(np.polyfit(steps, peaks, 1)[0])
### END SOLUTION

# %% tags=["check"]
with check("Q4 memory per inner step", hint="A straight-line fit has two coefficients; which one is the "
           "cost of one more step? Check the unit of your answer."):
    reference = np.polyfit(np.arange(1, 6), [maml.meta_gradient_memory(t) / 1e6 for t in range(1, 6)], 1)[0]
    assert abs(mb_per_step - reference) < 0.01 * abs(reference)

# %% [markdown]
# ### Q5 · Which escape?
# A meta-objective needs $T = 10^4$ inner steps, and memory for more than 10 steps of backprop is not
# available. Which method gives a gradient estimate whose memory does **not** grow with $T$ *and* that
# accounts for how every inner step depends on $\theta$ (not only the last few)? Set `answer` to one letter.
#
# - a) full backpropagation through the inner loop
# - b) truncated backpropagation through the last 10 steps
# - c) evolution strategies on the meta-loss
# - d) a larger meta-batch

# %%
### BEGIN SOLUTION
answer = "c"
### END SOLUTION

# %% tags=["check"]
with check("Q5 escape from the memory wall", hint="Which method needs only evaluations of the "
           "meta-loss, never a stored graph?", recorded=True):
    one_of(answer, "abcd")
    ### BEGIN HIDDEN CHECKS
    assert answer.strip().lower() == "c"
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# Truncation bounds memory but ignores the early steps' dependence on θ (a biased gradient); ES only
# evaluates losses, so its memory is that of one forward run, and it is unbiased for the Gaussian-smoothed
# objective — at the price of variance in d = 1761 dimensions.

# %% [markdown]
# ### Q6 · The best start on quadratic tasks
# Task $i$ has the loss $\mathcal{L}_i(\theta) = \tfrac12 h_i(\theta - c_i)^2$ on its support and query set alike.
# MAML with $T$ inner steps of rate $\alpha$ minimises $\operatorname{mean}_i \mathcal{L}_i(\theta'_i)$, where
# $\theta'_i$ is the start after $T$ gradient steps on task $i$. First **predict**: with the tasks below and
# $T = 3$, does MAML's best start lie closer to the stiff task ($h = 6$) or to the soft one ($h = 0.4$) than
# the pretraining start does? Then write `best_start(h, c, alpha, T)` that returns the exact minimiser
# (tensors `h`, `c` of shape `[n]`, a float), and set `moves_towards` to `"stiff"` or `"soft"`.

# %%
h_q = torch.tensor([6.0, 0.4, 2.0], dtype=torch.float64)
c_q = torch.tensor([1.5, -2.0, 0.5], dtype=torch.float64)


# %%
def best_start(h, c, alpha, T):
    ### BEGIN SOLUTION
    w = h * (1 - alpha * h) ** (2 * T)
    return float((w * c).sum() / w.sum())
    ### END SOLUTION


### BEGIN SOLUTION
pretrain_start = float((h_q * c_q).sum() / h_q.sum())
moves_towards = "soft" if abs(best_start(h_q, c_q, 0.1, 3) - (-2.0)) < abs(pretrain_start - (-2.0)) else "stiff"
### END SOLUTION

# %% tags=["check"]
with check("Q6 best start on quadratic tasks", hint="Write θ'_i − c_i after one step as a multiple of "
           "θ − c_i, then after T steps; the meta-loss is then a weighted sum of squares in θ."):
    for alpha, T in ((0.1, 1), (0.1, 3), (0.05, 2)):
        assert abs(best_start(h_q, c_q, alpha, T) - maml.quadratic_best_start(h_q, c_q, alpha, T)) < 1e-10
    towards_soft = (abs(maml.quadratic_best_start(h_q, c_q, 0.1, 3) + 2.0)
                    < abs(maml.quadratic_best_start(h_q, c_q, 0.1, 0, method="pretrain") + 2.0))
    assert moves_towards == ("soft" if towards_soft else "stiff")
    ### BEGIN HIDDEN CHECKS
    gen = torch.Generator().manual_seed(4)
    h_r = torch.rand(6, generator=gen, dtype=torch.float64) * 5 + 0.1
    c_r = torch.randn(6, generator=gen, dtype=torch.float64)
    assert abs(best_start(h_r, c_r, 0.15, 4) - maml.quadratic_best_start(h_r, c_r, 0.15, 4)) < 1e-10
    ### END HIDDEN CHECKS

# %% [markdown] tags=["solution-only"]
# One step multiplies the distance to $c_i$ by $1 - \alpha h_i$, so after $T$ steps the query loss is
# $\tfrac12 h_i(1 - \alpha h_i)^{2T}(\theta - c_i)^2$ and the minimiser is the mean of the $c_i$ weighted by
# $h_i(1 - \alpha h_i)^{2T}$. The stiff task's weight shrinks by $0.4^{6}$: three steps fix it from anywhere
# nearby, so MAML's start moves towards the soft task, which the loop can barely move.
