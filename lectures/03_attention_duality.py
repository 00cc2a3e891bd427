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
# # 03 · Attention as the dual form of gradient descent
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mlcourse/mlcourse/HEAD?urlpath=lab/tree/lectures/03_attention_duality.ipynb)
#
# A linear layer trained by gradient descent is its initial weights **plus linear attention over
# everything it was trained on**. Read backwards: an attention layer that sees examples in its context
# can run a gradient step on them. We make both statements exact, then measure them.
#
# Papers: Irie, Csordás & Schmidhuber 2022 (the dual form); Dai et al. 2022 (ICL as implicit
# fine-tuning, momentum attention); von Oswald et al. 2023 (transformers learn in context by GD).

# %% slideshow={"slide_type": "skip"} tags=["colab", "remove-cell"]
# On Google Colab only: install the course into this runtime (Colab's GPU is used when present).
import os
import sys

if "google.colab" in sys.modules:
    import subprocess

    source = os.environ.get("MLCOURSE_SOURCE", "git+https://github.com/mlcourse/mlcourse@main")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"mlcourse @ {source}"], check=True)

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import torch

import mlcourse
from mlcourse import duality as du
from mlcourse.widgets import live, slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen
F64 = torch.float64

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Unnormalised linear attention
# Keep $T$ keys $\mathbf k_t \in \mathbb R^{d_\text{in}}$ with values $\mathbf v_t \in \mathbb R^{d_\text{out}}$.
# A query $\mathbf q$ scores each key by a dot product and returns the scored sum of values:
# $$\operatorname{Attention}(\mathbf K, \mathbf V, \mathbf q) = \sum_{t=1}^{T} \alpha_t \mathbf v_t,
# \qquad \alpha_t = \mathbf k_t^\top \mathbf q .$$
# No softmax and no $1/\sqrt d$: the weights $\alpha_t$ can be negative and need not sum to one.

# %% slideshow={"slide_type": "subslide"}
keys = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
values = torch.tensor([[10.0], [100.0], [1000.0]])
query = torch.tensor([2.0, -1.0])
print("attention weights alpha_t:", du.attention_weights(keys, query).tolist())
print("output sum_t alpha_t v_t :", du.linear_attention(keys, values, query).tolist())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Primal form: a linear layer trained by gradient descent
# A layer $\mathbf y = \mathbf W \mathbf x$ sees inputs $\mathbf x_t$. Backpropagation hands it an error
# signal $\mathbf e_t = -\eta\, \partial L / \partial \mathbf y_t$, and the gradient step on $\mathbf W$ is the
# outer product $\mathbf e_t \otimes \mathbf x_t$. After $T$ steps
# $$\mathbf W = \mathbf W_0 + \sum_{t=1}^{T} \mathbf e_t \otimes \mathbf x_t, \qquad S_1(\mathbf x) = \mathbf W \mathbf x .$$
#
# We train a $4 \to 2$ layer with plain SGD (batch 1, 200 steps, float64) on a noisy linear target, and
# let `du.train_linear_layer` record every $(\mathbf x_t, \mathbf e_t)$ on the way.

# %% slideshow={"slide_type": "subslide"}
g = torch.Generator().manual_seed(0)
W0 = 0.5 * torch.randn(2, 4, generator=g, dtype=F64)
X = torch.randn(200, 4, generator=g, dtype=F64)
Y = X @ torch.randn(4, 2, generator=g, dtype=F64) + 0.1 * torch.randn(200, 2, generator=g, dtype=F64)
W, K, E = du.train_linear_layer(W0, X, Y, lr=0.05)
print(f"steps: {len(K)}, keys {tuple(K.shape)}, values {tuple(E.shape)}, weights {tuple(W.shape)}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Dual form: the same layer as a key–value memory
# Store the inputs as keys and the error signals as values, keep $\mathbf W_0$, and answer a query by attention:
# $$S_2(\mathbf x) = \mathbf W_0 \mathbf x + \operatorname{Attention}(\mathbf X, \mathbf E, \mathbf x).$$
# **Corollary** (Irie et al. 2022): $S_1 = S_2$. The proof is one line,
# $\mathbf W \mathbf x = \mathbf W_0 \mathbf x + \sum_t \mathbf e_t (\mathbf x_t^\top \mathbf x)$:
# an outer product applied to $\mathbf x$ *is* a dot-product-weighted value.

# %% slideshow={"slide_type": "subslide"}
x_test = torch.randn(1000, 4, generator=g, dtype=F64)
primal = x_test @ W.T
dual = du.dual_forward(W0, K, E, x_test)
gap = (primal - dual).abs().max().item()
proof = (W - (W0 + E.T @ K)).abs().max().item()  # the one-line proof, as matrices: W − W0 = Eᵀ X
assert gap <= 1e-10 and proof <= 1e-10
print("max |S1(x) - S2(x)| over 1000 queries <= 1e-10:", gap <= 1e-10)
print("max |W - (W0 + sum_t e_t x_t^T)|     <= 1e-10:", proof <= 1e-10)

# %% [markdown] slideshow={"slide_type": "notes"}
# The gap is float64 round-off (about 1e-15): the two forms are the same function computed in two
# orders. The primal form sums the outer products once, during training; the dual form sums them
# again for every query.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Live: which past examples does a query attend to?
# A one-dimensional fit $y \approx a u + b$ with inputs $\mathbf x_t = (u_t, 1)$. Choose how many SGD steps
# $T$ and the learning rate. Left: the trained line (primal) and the attention memory's answers (dual).
# Middle: the query's attention weights $\alpha_t = \mathbf x_t^\top \mathbf x_q$ over the training
# history. Right: the dual output at the query built up record by record, ending on the primal output.

# %% slideshow={"slide_type": "subslide"}
g_line = torch.Generator().manual_seed(1)
u_line = 2 * torch.rand(300, generator=g_line, dtype=F64) - 1
X_line = torch.stack([u_line, torch.ones_like(u_line)], 1)
Y_line = (1.5 * u_line - 0.5 + 0.2 * torch.randn(300, generator=g_line, dtype=F64))[:, None]
W0_line = torch.zeros(1, 2, dtype=F64)


def primal_vs_dual(steps: int = 60, lr: float = 0.1, query: float = 0.8):
    """Train the line for `steps` SGD steps; compare the primal and dual forms; show the query's attention."""
    W, keys, values = du.train_linear_layer(W0_line, X_line[:steps], Y_line[:steps], lr=lr)
    if not torch.isfinite(W).all() or W.abs().max() > 1e6:
        raise FloatingPointError(f"|W| grew past 1e6: lr = {lr:.2f} is too large for SGD on this data")
    grid = torch.stack([torch.linspace(-1, 1, 41, dtype=F64), torch.ones(41, dtype=F64)], 1)
    primal, dual = grid @ W.T, du.dual_forward(W0_line, keys, values, grid)
    x_q = torch.tensor([query, 1.0], dtype=F64)
    alpha = du.attention_weights(keys, x_q)
    running = (W0_line @ x_q) + torch.cumsum(alpha * values[:, 0], 0)
    t = np.arange(1, steps + 1)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    axes[0].scatter(u_line[:steps], Y_line[:steps, 0], s=8, color="gray", label="seen examples")
    axes[0].plot(grid[:, 0], primal[:, 0], label="primal $Wx$")
    axes[0].plot(grid[::4, 0], dual[::4, 0], "o", markersize=5, label="dual $W_0x + $Attn")
    axes[0].axvline(query, color="C1", linestyle=":", label="query")
    axes[0].set(title=f"T = {steps}: max gap {(primal - dual).abs().max():.0e}", xlabel="input $u$",
                ylabel="output $y$")
    axes[0].legend(fontsize=8)
    axes[1].bar(t, alpha, width=1.0, color="C0")
    axes[1].set(title="attention weights $\\alpha_t = x_t^\\top x_q$", xlabel="training step $t$",
                ylabel="$\\alpha_t$")
    axes[2].plot(t, running, label="$W_0x_q + \\sum_{s\\leq t}\\alpha_s e_s$")
    axes[2].axhline(float(x_q @ W[0]), color="C1", linestyle="--", label="primal $Wx_q$")
    axes[2].set(title=f"dual output at $u_q$ = {query:.2f}", xlabel="records read $t$",
                ylabel="output $y$")
    axes[2].legend(fontsize=8)
    return fig


live(primal_vs_dual, steps=slider("GD steps T", 1, 300, 1), lr=slider("learning rate η", 0.01, 2.0, 0.01),
     query=slider("query x", -1.0, 1.0, 0.05))

# %% [markdown] slideshow={"slide_type": "notes"}
# Try: steps = 1 (the memory has one record, the line is one outer product away from zero); a large
# learning rate (past about 1.6 the SGD steps overshoot and, after 300 steps, the widget says
# "diverged"); move the query: here $\alpha_t = 1 + u_t u_q$, so at $u_q = \pm 1$ the examples on the
# query's side get weight near 2 and those on the far side near 0; at $u_q = 0$ all weigh the same.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Remark 1 · Nothing is forgotten
# The dual form keeps every training event: example $t$'s share of any output is $\alpha_t \mathbf e_t$,
# readable long after training. What limits the model's "memory" is retrieval (a dot product with the
# query), not storage. Here: the records that moved the 4 → 2 layer's first output most on one query.

# %% slideshow={"slide_type": "subslide"}
x_q = x_test[0]
share = du.attention_weights(K, x_q) * E[:, 0]  # record t's contribution to output 0
top = share.abs().argsort(descending=True)[:3]
for t in top.tolist():
    print(f"record t = {t:3d}: alpha_t e_t = {share[t].item():+.4f}")
total = (W0 @ x_q)[0] + share.sum()
assert abs(total - (W @ x_q)[0]) < 1e-10
print(f"W0 x_q + sum of all {len(share)} shares = {total.item():+.4f} = primal output")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Remark 2 · Unlimited memory is not necessarily useful
# The dual form grows by $d_\text{in} + d_\text{out}$ numbers per step and reads all of them per query;
# the primal form stores $d_\text{in} d_\text{out}$ numbers, forever. Both give the *same* outputs:
# a memory that stores everything is not, by that alone, a better learner than a fixed-size one.

# %% slideshow={"slide_type": "subslide"}
d_in, d_out = 512, 512
T = np.arange(1, 20_001)
fig, ax = plt.subplots()
_ = ax.plot(T, np.full(T.shape, d_in * d_out), label="primal: $d_{in} d_{out}$ weights")
_ = ax.plot(T, T * (d_in + d_out), label="dual: $T (d_{in} + d_{out})$ keys and values")
ax.set(title="Memory of a 512 → 512 layer after T training examples", xlabel="training examples $T$",
       ylabel="stored numbers", yscale="log")
ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Remark 3 · The attention form is not unique
# Any factorisation of $\mathbf W - \mathbf W_0$ into outer products is a valid memory. The 200 records
# above can be replaced by $d_\text{in} = 4$: keys the unit vectors $\mathbf u_j$, values the columns
# $(\mathbf W - \mathbf W_0)\mathbf u_j$. Same layer, a fiftieth of the memory.

# %% slideshow={"slide_type": "subslide"}
K_basis = torch.eye(4, dtype=F64)
E_basis = (W - W0).T  # row j: the column (W − W0) u_j
gap_basis = (du.dual_forward(W0, K_basis, E_basis, x_test) - primal).abs().max().item()
assert gap_basis <= 1e-10
print("4 records instead of 200, max gap <= 1e-10:", gap_basis <= 1e-10)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In-context learning as implicit fine-tuning
# Dai et al. (2022) read the corollary backwards: when a Transformer attends to demonstrations in its
# prompt, its attention output is $\mathbf W_0 \mathbf q$ plus an attention term, like a layer
# *fine-tuned* on the demonstrations. von Oswald et al. (2023) made it exact in a toy:
# - tasks $y = \mathbf w^\top \mathbf x$, $\mathbf w \sim \mathcal N(0, I_{10})$, $\mathbf x \sim U(-\tfrac12, \tfrac12)^{10}$;
# - a prompt of $N = 10$ tokens $(\mathbf x_i, y_i)$ and a query token $(\mathbf x_q, 0)$;
# - one linear self-attention (LSA) layer must predict $y_q$.
#
# (Their text says $U(-1, 1)$; their code, and the numbers below, use $U(-\tfrac12, \tfrac12)$.)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### One gradient step is a dual form
# Fit $\mathbf w$ to the prompt: $L(\mathbf w) = \frac{1}{2N}\sum_i (\mathbf w^\top \mathbf x_i - y_i)^2$.
# One GD step from $\mathbf w = 0$ gives $\mathbf w_1 = \frac{\eta}{N}\sum_i y_i \mathbf x_i$, so
# $$\hat y_q = \mathbf w_1^\top \mathbf x_q = \sum_i \underbrace{\tfrac{\eta}{N} y_i}_{\text{value}}\;
# \underbrace{\mathbf x_i^\top \mathbf x_q}_{\alpha_i}:$$
# attention with keys $\mathbf x_i$ and values $\eta y_i / N$, which is exactly the error signal
# $\mathbf e_i$ of that step. An LSA layer can build both from the tokens:
# $\mathbf W_K = \mathbf W_Q = \begin{pmatrix} I & 0 \\ 0 & 0 \end{pmatrix}$,
# $\mathbf W_V = \begin{pmatrix} 0 & 0 \\ 0 & \eta/N \end{pmatrix}$.

# %% slideshow={"slide_type": "subslide"}
g_icl = torch.Generator().manual_seed(3)
Xc, yc, xq, yq = du.icl_regression_tasks(10_000, dim=10, n_context=10, generator=g_icl)  # float32
lr_star, risk_star, risk_zero = du.optimal_gd_lr(dim=10, n_context=10, x_var=1 / 12, x_fourth=1 / 80)
gd_lsa = du.LinearSelfAttention(10).from_gd(lr_star, n_context=10)
with torch.no_grad():
    lsa_gap = (gd_lsa.predict(Xc, yc, xq) - du.gd_step_prediction(Xc, yc, xq, lr_star)).abs().max().item()
assert lsa_gap <= 1e-5
print("constructed LSA vs one GD step, 10,000 prompts, float32, max gap <= 1e-5:", lsa_gap <= 1e-5)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### The best single step
# The error is $\mathbf w^\top(\eta \mathbf S - I)\mathbf x_q$ with $\mathbf S = \frac1N\sum_i \mathbf x_i \mathbf x_i^\top$.
# Averaging over tasks gives a quadratic in $\eta$,
# $R(\eta) = \tfrac12\sigma^2\,(d - 2\eta\,\mathbb E\operatorname{tr}\mathbf S + \eta^2\,\mathbb E\operatorname{tr}\mathbf S^2)$,
# with $\sigma^2 = \mathbb E x^2 = \tfrac1{12}$, $\mathbb E\operatorname{tr}\mathbf S = d\sigma^2$ and
# $\mathbb E\operatorname{tr}\mathbf S^2 = d(d-1)\sigma^4/N + d\,(\sigma^4 + (m_4 - \sigma^4)/N)$, $m_4 = \mathbb E x^4 = \tfrac1{80}$.
# It is minimised at $\eta^* = \mathbb E\operatorname{tr}\mathbf S / \mathbb E\operatorname{tr}\mathbf S^2$.

# %% slideshow={"slide_type": "subslide"}
assert abs(lr_star - 6.0606) < 1e-4 and abs(risk_star - 0.20623) < 1e-5 and abs(risk_zero - 0.41667) < 1e-5
print(f"eta* = {lr_star:.4f}   R(eta*) = {risk_star:.5f}   zero predictor R(0) = {risk_zero:.5f}")
var2, m4_2 = du.uniform_moments(2.0)  # the paper's text: x ~ U(-1, 1)
lr_text, risk_text, zero_text = du.optimal_gd_lr(x_var=var2, x_fourth=m4_2)
print(f"with U(-1, 1) instead: eta* = {lr_text:.4f}, R(eta*) = {risk_text:.5f}, R(0) = {zero_text:.5f}")

# %% slideshow={"slide_type": "subslide"}
etas = np.linspace(0, 12, 49)
with torch.no_grad():
    unit_step = du.gd_step_prediction(Xc, yc, xq, 1.0).double()  # ŷ is linear in η: ŷ(η) = η ŷ(1)
mc = [0.5 * ((eta * unit_step - yq.double()) ** 2).mean().item() for eta in etas]
fig, ax = plt.subplots()
_ = ax.plot(etas, [du.one_step_gd_risk(e) for e in etas], label="closed form $R(\\eta)$")
_ = ax.plot(etas[::3], mc[::3], "o", label="Monte Carlo, 10,000 prompts")
_ = ax.axvline(lr_star, color="gray", linestyle=":", label=f"$\\eta^*$ = {lr_star:.3f}")
ax.set(title="One GD step on the prompt: expected loss vs learning rate", xlabel="learning rate $\\eta$",
       ylabel="loss $\\frac{1}{2} E(\\hat y - y)^2$")
ax.legend(loc="lower left")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ### A trained LSA finds the same step
# Now let a randomly initialised LSA learn from prompts alone: Adam (lr $10^{-3}$), 2000 steps, 512 fresh
# prompts per step. Nothing tells it about gradient descent. The layer was trained once by
# `python -m mlcourse.duality` and cached (`du.trained_lsa(recompute=True)` retrains it, about 10 s of CPU).

# %% slideshow={"slide_type": "subslide"}
model, losses = du.trained_lsa()
smooth = np.convolve(losses.numpy(), np.ones(50) / 50, mode="valid")
fig, ax = plt.subplots()
_ = ax.plot(np.arange(50, 2001), smooth, label="trained LSA (running mean of 50 steps)")
_ = ax.axhline(risk_star, color="C1", linestyle="--", label=f"one GD step at $\\eta^*$: {risk_star:.3f}")
_ = ax.axhline(risk_zero, color="gray", linestyle=":", label=f"zero predictor: {risk_zero:.3f}")
ax.set(title="Training a linear self-attention layer on prompts", xlabel="Adam step", ylabel="training loss")
ax.legend()
plt.show()

# %% slideshow={"slide_type": "subslide"}
with torch.no_grad():
    lsa_loss = du.lsa_loss(model, Xc, yc, xq, yq).item()
    gd_loss = du.lsa_loss(gd_lsa, Xc, yc, xq, yq).item()
lr_learned = model.learned_lr(n_context=10)
alignment = du.input_gradient_alignment(model, Xc[:2000], yc[:2000], xq[:2000], lr_star).mean().item()
assert abs(lsa_loss - 0.206) < 0.01 and abs(lr_learned - lr_star) < 0.1 and alignment > 0.99
print(f"test loss, 10,000 fresh prompts: trained LSA {lsa_loss:.3f}, one GD step {gd_loss:.3f}")
print(f"learned step size N W_V[y,y] mean diag(W_K^T W_Q): {lr_learned:.2f}  (eta* = {lr_star:.2f})")
print(f"cosine of d y_hat / d x_q, LSA vs GD: {alignment:.4f}  (> 0.99)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The learned weights: up to a scale shared between $\mathbf W_K^\top \mathbf W_Q$ and $\mathbf W_V$, the
# same pattern as the construction (identity on the $\mathbf x$ block, one entry of $\mathbf W_V$).
# Only the last row of $\mathbf W_V$ reaches the prediction; its other rows rewrite the query's
# $\mathbf x$ part, which nothing reads, so they keep their random initial values.

# %% slideshow={"slide_type": "-"}
with torch.no_grad():
    mats = {"trained $W_K^T W_Q$": model.W_K.T @ model.W_Q, "trained $W_V$": model.W_V,
            "constructed $W_K^T W_Q$": gd_lsa.W_K.T @ gd_lsa.W_Q, "constructed $W_V$": gd_lsa.W_V}
fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))
for ax, (name, M) in zip(axes, mats.items()):
    lim = M.abs().max().item()
    im = ax.imshow(M.detach().numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set(title=name, xlabel="token entry (10 = y)", ylabel="token entry")
    ax.grid(False)
    fig.colorbar(im, ax=ax, fraction=0.046)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Is ICL fine-tuning? Dai et al.'s three criteria
# Compare three predictors on the same prompts: **zero-shot** (no demonstrations), **fine-tuning**
# (update the weights on the demonstrations), **ICL** (read them in context).
# - **Rec2FTP**: among queries fine-tuning gets right and zero-shot gets wrong, the % ICL also gets right.
# - **SimAOU**: cosine between the output updates ICL − zero-shot and fine-tuning − zero-shot
#   (baseline: the fine-tuning update of an unrelated prompt, "random SimAOU").
# - **SimAM**: cosine between attention scores (before any softmax) of ICL and of fine-tuning
#   (baseline: the untrained model's scores, "ZSL SimAM").

# %% [markdown] slideshow={"slide_type": "subslide"}
# On our toy: zero-shot predicts $0$; fine-tuning is one GD step at $\eta^*$ (its attention scores are
# the dual form's $\mathbf x_i^\top \mathbf x_q$); ICL is the trained LSA; the untrained LSA is its initial
# weights. Each prompt gets 20 queries, so an output update is a vector of 20 predictions;
# "right" means $|\hat y - y| < 0.25$.

# %% slideshow={"slide_type": "subslide"}
B, N, M = 2000, 10, 20
Xa, ya, xa_q, ya_q = du.icl_regression_tasks(B, n_context=N + M - 1, generator=g_icl)
Xp, yp = Xa[:, None, :N].expand(B, M, N, 10), ya[:, None, :N].expand(B, M, N)  # one prompt, M queries
Xm, ym = torch.cat([Xa[:, N:], xa_q[:, None]], 1), torch.cat([ya[:, N:], ya_q[:, None]], 1)  # M queries
untrained = du.LinearSelfAttention(10, init_std=du.LSA_SETTINGS["init_std"],
                                   generator=torch.Generator().manual_seed(du.LSA_SETTINGS["seed"]))
with torch.no_grad():
    icl = model.predict(Xp, yp, Xm)
    ft = du.gd_step_prediction(Xp, yp, Xm, lr_star)
    zsl = torch.zeros_like(icl)
    scores = {name: m.attention_scores(Xa[:, :N], ya[:, :N], Xm[:, 0])
              for name, m in [("icl", model), ("ft", gd_lsa), ("zsl", untrained)]}
criteria = {
    "Rec2FTP (%)": du.rec2ftp(ym, zsl, ft, icl, tol=0.25),
    "SimAOU": du.sim_aou(zsl, ft, icl),
    "random SimAOU": du.sim_aou(zsl, ft.roll(1, dims=0), icl),
    "SimAM": du.sim_am(scores["icl"], scores["ft"]),
    "ZSL SimAM": du.sim_am(scores["zsl"], scores["ft"]),
}
assert criteria["Rec2FTP (%)"] > 90 and criteria["SimAOU"] > 0.95 and abs(criteria["random SimAOU"]) < 0.1
assert criteria["SimAM"] > 0.95 > criteria["ZSL SimAM"]
for name, value in criteria.items():
    print(f"{name:14s} {value:6.2f}" if name.startswith("Rec") else f"{name:14s} {value:6.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The paper's result on GPT (Dai et al. 2022, quoted)
# On real Transformers the agreement is partial but far above the baselines:
#
# | model | task | Rec2FTP | SimAOU | random SimAOU | SimAM | ZSL SimAM |
# |---|---|---|---|---|---|---|
# | GPT 1.3B | SST2 | 86.32 | 0.128 | 0.003 | 0.608 | 0.555 |
# | GPT 1.3B | AGNews | 85.41 | 0.155 | 0.003 | 0.536 | 0.152 |
# | GPT 2.7B | CB | 100.00 | 0.184 | −0.001 | 0.362 | 0.228 |
# | GPT 2.7B | MR | 95.44 | 0.120 | 0.001 | 0.346 | 0.314 |
#
# (4 of their 12 rows.) In our toy the layer *is* a gradient step, so the criteria are close to 1.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Momentum breaks the plain dual form
# With momentum $\mu$, SGD applies a buffer $\mathbf b_s = \mu \mathbf b_{s-1} + \mathbf g_s$. A gradient
# from step $s$ is applied again at every later step, decayed by $\mu$ each time, so record $t$ enters
# $\mathbf W$ with weight $c_t = \sum_{k=0}^{T-1-s_t} \mu^k = \frac{1 - \mu^{T - s_t}}{1 - \mu}$, not 1:
# $$\mathbf W = \mathbf W_0 + \sum_t c_t\, \mathbf e_t \otimes \mathbf x_t .$$

# %% slideshow={"slide_type": "subslide"}
W_mom, K_mom, E_mom = du.train_linear_layer(W0, X, Y, lr=0.01, momentum=0.9)
primal_mom = x_test @ W_mom.T
naive = (du.dual_forward(W0, K_mom, E_mom, x_test) - primal_mom).abs().max().item()
exact = (du.momentum_dual_forward(W0, K_mom, E_mom, x_test, momentum=0.9) - primal_mom).abs().max().item()
assert naive > 1e-3 and exact <= 1e-10
print(f"momentum 0.9: plain dual form off by {naive:.2f}; with c_t, gap <= 1e-10: {exact <= 1e-10}")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
for mu in (0.0, 0.5, 0.9, 0.99):
    _ = ax.plot(np.arange(1, 201), du.momentum_weights(200, momentum=mu).numpy(), label=f"$\\mu$ = {mu}")
ax.set(title="How often momentum re-applies record t (200 steps)", xlabel="record $t$",
       ylabel="weight $c_t$", yscale="log")
ax.legend(loc="center left")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Attention with momentum
# Dai et al. (2022) carried the idea into Transformers: if attention is a gradient step, give it momentum,
# $$\operatorname{MoAttn}(\mathbf K, \mathbf V, \mathbf q) = \operatorname{Attention}(\mathbf K, \mathbf V, \mathbf q)
# + \sum_{i=1}^{T} \lambda^{T-i} \mathbf v_i ,$$
# an exponential moving sum of the values added to the attention output (recent tokens weigh most).
# It is an analogy, not the exact dual form above (which re-weights each value inside the attention).

# %% slideshow={"slide_type": "subslide"}
print("MoAttn on the toy memory, lambda = 0.5:", du.momentum_attention(keys, values, query, lam=0.5).tolist())
print("(attention", du.linear_attention(keys, values, query).tolist(), "+ 0.25·10 + 0.5·100 + 1·1000)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Their results (quoted)
# Language modelling perplexity, lower is better (train length 1024, validation at three lengths):
#
# | model | train | valid 256 | valid 512 | valid 1024 |
# |---|---|---|---|---|
# | Transformer | 17.61 | 19.50 | 16.87 | 15.14 |
# | Transformer + MoAttn | **17.55** | **19.37** | **16.73** | **15.02** |
#
# In-context accuracy over six tasks (SST5, IMDB, MR, CB, ARC-E, PIQA): 51.9 → **54.7** on average.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - A linear layer trained by GD = $\mathbf W_0$ + unnormalised linear attention over its training
#   inputs (keys) and error signals (values); equal to round-off.
# - The memory forgets nothing, grows without bound, and is not unique.
# - With momentum each value is re-weighted by $c_t$; MoAttn is the Transformer-side analogue.
# - One LSA layer can implement one GD step on its prompt, and a trained one does:
#   loss ≈ 0.206, step ≈ $\eta^* = 6.06$, input-gradient cosine > 0.99.
