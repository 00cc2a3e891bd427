# ---
# jupyter:
#   jupytext:
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
# > **Exercises.** Replace each `...` and each `raise NotImplementedError()` with your answer, then run
# > the check cell below it: ✓, or ✗ with a hint. *Run All* runs every check, answered or not.
# > Work in your own copy (`mlcourse start 03` makes one in `work/` and opens it), and grade the
# > whole notebook from a terminal with `mlcourse grade work/03_attention_duality.ipynb`.

# %% [markdown]
# # 03 · Attention as the dual form of gradient descent — exercises
# Five questions: write linear attention, record a layer's training as a key–value memory and check the
# duality, derive the best one-step learning rate for Gaussian inputs, build the attention weights
# that perform one gradient step, and work out how much each record counts when SGD has momentum.
# Row-vector convention as in the lecture: a linear layer maps `x` to `x @ W.T`, `W` is `[d_out, d_in]`.

# %%
import torch

import mlcourse
from mlcourse import duality as du
from mlcourse.grading import check

device = mlcourse.setup()
F64 = torch.float64
g = torch.Generator().manual_seed(0)

# %% [markdown]
# ### Q1 · Unnormalised linear attention
# Write `attention(keys, values, queries)`: keys `[T, d_in]`, values `[T, d_out]`, queries
# `[..., d_in]` → `[..., d_out]`, returning $\sum_t \mathbf v_t\,(\mathbf k_t^\top \mathbf q)$ for every query.
# No softmax, no scaling; any leading batch dimensions of `queries` must be kept.

# %% mlcourse={"answer": "attention"}
def attention(keys: torch.Tensor, values: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q1 linear attention", hint="The weights are dot products of each query with every key; "
           "then weight the values. Work on the last axis of the queries so that any leading axes survive."):
    K, V = torch.randn(6, 3, generator=g), torch.randn(6, 2, generator=g)
    for Q in (torch.randn(5, 3, generator=g), torch.randn(4, 5, 3, generator=g), torch.randn(3, generator=g)):
        out = attention(K, V, Q)
        assert out.shape == Q.shape[:-1] + (2,) and torch.allclose(out, du.linear_attention(K, V, Q), atol=1e-5)


# %% [markdown]
# ### Q2 · Record the training of a layer as a memory
# Write `sgd_with_memory(W0, X, Y, lr)`: one pass of plain SGD, one example at a time in order, on
# $L_t = \tfrac12 \lVert \mathbf W \mathbf x_t - \mathbf y_t \rVert^2$, starting from `W0`. Return the final
# weights and the memory: `keys` (the inputs, `[T, d_in]`) and `values` (the error signals
# $\mathbf e_t = -\eta\,\partial L_t / \partial \mathbf y$ at the moment of the step, `[T, d_out]`).
# The check then verifies the corollary: `x @ W.T` equals `du.dual_forward(W0, keys, values, x)`.

# %% mlcourse={"answer": "sgd_with_memory"}
def sgd_with_memory(W0: torch.Tensor, X: torch.Tensor, Y: torch.Tensor, lr: float):
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q2 SGD with a key-value memory", hint="Differentiate L_t with respect to the layer's output "
           "for the error signal; the weight update is its outer product with the input."):
    W0 = torch.randn(2, 3, generator=g, dtype=F64)
    X, Y = torch.randn(50, 3, generator=g, dtype=F64), torch.randn(50, 2, generator=g, dtype=F64)
    W, keys, values = sgd_with_memory(W0, X, Y, 0.1)
    W_ref, keys_ref, values_ref = du.train_linear_layer(W0, X, Y, lr=0.1)
    assert torch.allclose(W, W_ref, atol=1e-10)
    x = torch.randn(20, 3, generator=g, dtype=F64)
    assert torch.allclose(du.dual_forward(W0, keys, values, x), x @ W.T, atol=1e-10)


# %% [markdown]
# ### Q3 · The best single step for Gaussian inputs
# In the lecture's toy ($y = \mathbf w^\top\mathbf x$, $\mathbf w \sim \mathcal N(0, I_d)$, $N$ context
# points), one GD step from $\mathbf w = 0$ with rate $\eta$ has expected loss
# $R(\eta) = \tfrac12\sigma^2\,(d - 2\eta\,\mathbb E\operatorname{tr}\mathbf S + \eta^2\,\mathbb E\operatorname{tr}\mathbf S^2)$ where
# $\mathbb E\operatorname{tr}\mathbf S = d\sigma^2$ and
# $\mathbb E\operatorname{tr}\mathbf S^2 = d(d-1)\sigma^4/N + d\,(\sigma^4 + (m_4 - \sigma^4)/N)$.
#
# Now let the inputs be Gaussian, $\mathbf x \sim \mathcal N(0, \sigma^2 I_d)$. Work out $\eta^*$ on paper
# (it simplifies to a short fraction of $d$, $N$ and $\sigma$) and write `eta_star_gaussian(dim, n_context, sigma)`.

# %% mlcourse={"answer": "eta_star_gaussian"}
def eta_star_gaussian(dim: int, n_context: int, sigma: float) -> float:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
def _sampled_best_eta(dim, n_context, sigma, n_tasks=40_000, seed=1):
    """The eta minimising ½ mean (η ŷ(1) − y)² over sampled Gaussian tasks (no closed form): ŷ is linear
    in η, so the sampled loss is a quadratic whose minimum is mean(ŷ(1) y) / mean(ŷ(1)²)."""
    gen = torch.Generator().manual_seed(seed)
    X = sigma * torch.randn(n_tasks, n_context + 1, dim, generator=gen, dtype=F64)
    w = torch.randn(n_tasks, dim, generator=gen, dtype=F64)
    y = torch.einsum("bnd,bd->bn", X, w)
    unit = du.gd_step_prediction(X[:, :-1], y[:, :-1], X[:, -1], 1.0)
    return float((unit * y[:, -1]).mean() / (unit**2).mean())


with check("Q3 best step for Gaussian inputs", hint="You need the fourth moment of a Gaussian coordinate; "
           "then minimise the quadratic in eta and simplify the fraction."):
    for d, n, s in [(10, 10, 1.0), (5, 20, 0.5)]:
        # the sampled loss is a quadratic in eta; your eta must sit at its minimum, within 2.5 %
        eta = eta_star_gaussian(d, n, s)
        sampled = _sampled_best_eta(d, n, s)
        assert abs(eta / sampled - 1) < 0.025


# %% [markdown]
# ### Q4 · Attention weights that take one gradient step
# A `du.LinearSelfAttention(dim)` layer reads tokens $\mathbf e_i = (\mathbf x_i, y_i)$ and a query
# $\mathbf e_q = (\mathbf x_q, 0)$ (each of length `dim + 1`, y last) and predicts the last entry of
# $\mathbf e_q + \sum_i (\mathbf W_V \mathbf e_i)\,\big((\mathbf W_K \mathbf e_i)^\top (\mathbf W_Q \mathbf e_q)\big)$.
# Write `gd_weights(dim, lr, n_context)` returning `(W_K, W_Q, W_V)` (float32, `[dim+1, dim+1]` each) so
# that the layer's prediction equals one GD step from $\mathbf w = 0$ on
# $\frac{1}{2N}\sum_i(\mathbf w^\top \mathbf x_i - y_i)^2$, i.e. `du.gd_step_prediction(X, y, x_q, lr)`.
# (Don't call `from_gd`: build the matrices yourself.)

# %% mlcourse={"answer": "gd_weights"}
def gd_weights(dim: int, lr: float, n_context: int):
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
def _lsa_with(weights, dim):
    layer = du.LinearSelfAttention(dim)
    with torch.no_grad():
        for p, w in zip((layer.W_K, layer.W_Q, layer.W_V), weights):
            p.copy_(w)
    return layer


with check("Q4 GD-equivalent LSA weights", hint="Keys and queries should see only the x part of a token; "
           "the value should carry y_i, scaled as in the GD step."):
    for dim, lr, n_ctx in [(10, 2.5, 10), (6, 1.3, 15)]:
        X, y, x_q, _ = du.icl_regression_tasks(500, dim=dim, n_context=n_ctx, generator=g)
        with torch.no_grad():
            pred = _lsa_with(gd_weights(dim, lr, n_ctx), dim).predict(X, y, x_q)
        assert (pred - du.gd_step_prediction(X, y, x_q, lr)).abs().max() < 1e-5


# %% [markdown]
# ### Q5 · How much does each record count under momentum?
# Train a layer by SGD with momentum $\mu$ (batch 1, $T$ steps; the buffer is $\mathbf b_s = \mu\mathbf b_{s-1} + \mathbf g_s$
# and the step $W \leftarrow W - \eta\mathbf b_s$). The plain dual form then fails: record $t$ reaches $W$ more
# than once. **Predict** first: does the first record or the last one count more? Then write
# `record_weights(T, mu)` returning a float64 tensor `[T]` with the total weight $c_t$ with which record
# $t$ (in training order) enters $W = W_0 + \sum_t c_t\,\mathbf e_t \otimes \mathbf x_t$. The check scales the recorded
# values by your weights and compares the dual form with the trained layer. (Don't call
# `du.momentum_weights`.)

# %% mlcourse={"answer": "record_weights"}
def record_weights(T: int, mu: float) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
def _momentum_gap(weights_fn, mu, T=60, seed=4):
    """Max |primal − dual| when the dual form scales each recorded value by weights_fn(T, mu)."""
    gen = torch.Generator().manual_seed(seed)
    W0 = torch.randn(2, 3, generator=gen, dtype=F64)
    X, Y = torch.randn(T, 3, generator=gen, dtype=F64), torch.randn(T, 2, generator=gen, dtype=F64)
    W, keys, values = du.train_linear_layer(W0, X, Y, lr=0.05, momentum=mu)
    c = torch.as_tensor(weights_fn(T, mu), dtype=F64)
    assert c.shape == (T,), f"expected {T} weights, got shape {tuple(c.shape)}"
    x = torch.randn(20, 3, generator=gen, dtype=F64)
    return float((x @ W.T - du.dual_forward(W0, keys, values * c[:, None], x)).abs().max())


with check("Q5 record weights under momentum", hint="Unroll the buffer: how many of the remaining steps "
           "still contain the gradient of step t, and with which power of mu each time?"):
    for mu in (0.0, 0.5, 0.9):
        assert _momentum_gap(record_weights, mu) < 1e-10

