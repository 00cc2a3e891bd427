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
# **Why can attention be a gradient step?** A layer trained by three GD steps answers a query with its
# weights (left) or by attending to its training records (right): both give 1.25.

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
from mlcourse.widgets import choice, live, slider

device = mlcourse.setup()  # threads pinned, every generator seeded, house plot style, device chosen
F64 = torch.float64

# The smallest case: a 2 → 1 layer, three records, plain SGD with learning rate 0.5.
W0_demo = torch.tensor([[0.5, -0.5]], dtype=F64)
X_demo = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=F64)
Y_demo = torch.tensor([[1.0], [2.0], [2.5]], dtype=F64)
W_demo, K_demo, E_demo = du.train_linear_layer(W0_demo, X_demo, Y_demo, lr=0.5)
x_demo = torch.tensor([2.0, -1.0], dtype=F64)

# %% slideshow={"slide_type": "-"}
def vec(v) -> str:
    return "(" + ", ".join(f"{float(a):+.2f}" for a in v) + ")"


alpha_demo = du.attention_weights(K_demo, x_demo)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
for ax in (left, right):
    ax.axis("off")
left.set_title("Primal: one weight matrix, updated in place", loc="left")
lines = [(r"$W_0$", vec(W0_demo[0]))]
lines += [(rf"$+\ \mathbf{{e}}_{i + 1}\mathbf{{x}}_{i + 1}^\top$", vec(E_demo[i, 0] * K_demo[i])) for i in range(3)]
lines += [(r"$=\ W$", vec(W_demo[0]))]
for row, (name, value) in enumerate(lines):
    _ = left.text(0.02, 0.9 - 0.13 * row, name, fontsize=13, transform=left.transAxes)
    _ = left.text(0.30, 0.9 - 0.13 * row, value, fontsize=13, family="monospace", transform=left.transAxes)
_ = left.text(0.02, 0.12, rf"$y = W\mathbf{{x}}$ = {float(W_demo[0] @ x_demo):.2f}", fontsize=14,
              transform=left.transAxes, color="C1")
right.set_title(rf"Dual: keep every record, attend with $\mathbf{{x}}$ = {vec(x_demo)}", loc="left")
header = ["t", r"key $\mathbf{x}_t$", r"value $e_t$", r"$\alpha_t = \mathbf{x}_t^\top\mathbf{x}$", r"$\alpha_t e_t$"]
columns = [0.0, 0.08, 0.40, 0.60, 0.85]
for c, text in zip(columns, header):
    _ = right.text(c, 0.9, text, fontsize=12, transform=right.transAxes)
for i in range(3):
    row = [str(i + 1), vec(K_demo[i]), f"{float(E_demo[i, 0]):+.2f}", f"{float(alpha_demo[i]):+.0f}",
           f"{float(alpha_demo[i] * E_demo[i, 0]):+.2f}"]
    for c, text in zip(columns, row):
        _ = right.text(c, 0.77 - 0.13 * i, text, fontsize=12, family="monospace", transform=right.transAxes)
_ = right.text(0.0, 0.30, rf"$W_0\mathbf{{x}}$ = {float(W0_demo[0] @ x_demo):+.2f}", fontsize=13, transform=right.transAxes)
_ = right.text(0.0, 0.12, rf"$y = W_0\mathbf{{x}} + \sum_t \alpha_t e_t$ = {float(du.dual_forward(W0_demo, K_demo, E_demo, x_demo)[0]):.2f}",
               fontsize=14, transform=right.transAxes, color="C1")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Not a coincidence
# Train a one-output linear layer for three steps of gradient descent and answer a query $\mathbf x$ two
# ways: with the trained weight matrix (left), or by keeping every training input and error signal and
# *attending* to them (right). The two computations are the same sum in a different order. If a layer
# trained by GD is attention over its training data, can a Transformer's attention over its prompt be
# training?

# %% [markdown] slideshow={"slide_type": "notes"}
# Every number in the figure is computed: `du.train_linear_layer` ran three SGD steps on the loss
# ½(Wx − y)² with learning rate 0.5 and recorded each input x_t and error signal e_t = −0.5 (ŷ_t − y_t).
# Walk through one row on each side before any formula.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Unnormalised linear attention
# Keep $T$ keys $\mathbf k_t \in \mathbb R^{d_\text{in}}$ with values $\mathbf v_t \in \mathbb R^{d_\text{out}}$.
# A query $\mathbf q$ scores each key by a dot product and returns the scored sum of values:
# $$\operatorname{Attention}(\mathbf K, \mathbf V, \mathbf q) = \sum_{t=1}^{T} \alpha_t \mathbf v_t,
# \qquad \alpha_t = \mathbf k_t^\top \mathbf q .$$
# No softmax and no $1/\sqrt d$: the weights can be negative and need not sum to one. The right half of
# the opening figure is exactly this, with the training inputs as keys and the error signals as values.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Primal and dual form
# A layer $\mathbf y = W \mathbf x$ sees inputs $\mathbf x_t$. Backpropagation hands it the error signal
# $\mathbf e_t = -\eta\, \partial L / \partial \mathbf y_t$, and the gradient step on $W$ is the outer product
# $\mathbf e_t \otimes \mathbf x_t = \mathbf e_t\mathbf x_t^\top$. After $T$ steps
# $$S_1(\mathbf x) = W\mathbf x, \qquad W = W_0 + \sum_{t=1}^{T} \mathbf e_t \otimes \mathbf x_t \quad\text{(primal)}.$$
# Store the inputs as keys $X$ and the error signals as values $E$ instead, and answer by attention:
# $$S_2(\mathbf x) = W_0 \mathbf x + \operatorname{Attention}(X, E, \mathbf x) \quad\text{(dual)}.$$
# **Corollary** (Irie, Csordás & Schmidhuber 2022): $S_1 = S_2$. The proof is one line,
# $W \mathbf x = W_0 \mathbf x + \sum_t \mathbf e_t (\mathbf x_t^\top \mathbf x)$: an outer product applied to $\mathbf x$
# *is* a dot-product-weighted value.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The same at scale
# A $4 \to 2$ layer, plain SGD (batch 1, learning rate 0.05, 200 steps, float64) on a noisy linear target;
# `du.train_linear_layer` records every $(\mathbf x_t, \mathbf e_t)$ on the way. Compare both forms on 1000
# fresh queries.

# %% slideshow={"slide_type": "-"}
g = torch.Generator().manual_seed(0)
W0 = 0.5 * torch.randn(2, 4, generator=g, dtype=F64)
X = torch.randn(200, 4, generator=g, dtype=F64)
Y = X @ torch.randn(4, 2, generator=g, dtype=F64) + 0.1 * torch.randn(200, 2, generator=g, dtype=F64)
W, K, E = du.train_linear_layer(W0, X, Y, lr=0.05)
x_test = torch.randn(1000, 4, generator=g, dtype=F64)
primal = x_test @ W.T
dual = du.dual_forward(W0, K, E, x_test)
print(f"memory: keys {tuple(K.shape)}, values {tuple(E.shape)}; weights {tuple(W.shape)}")
print(f"max |S1(x) - S2(x)| over 1000 queries: {(primal - dual).abs().max().item():.1e}")
print(f"max |W - (W0 + sum_t e_t x_t^T)|:      {(W - (W0 + E.T @ K)).abs().max().item():.1e}")

# %% [markdown] slideshow={"slide_type": "notes"}
# The gap is float64 round-off: the two forms are the same function computed in two orders. The primal
# form sums the outer products once, during training; the dual form sums them again for every query.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Remark 1 · Nothing is forgotten
# The dual form keeps every training event: record $t$'s share of any output is $\alpha_t \mathbf e_t$,
# readable long after training. What limits the model's "memory" is retrieval (a dot product with the
# query), not storage. The records that moved the first output of the $4 \to 2$ layer most on one query:

# %% slideshow={"slide_type": "-"}
x_q = x_test[0]
share = du.attention_weights(K, x_q) * E[:, 0]  # record t's contribution to output 0
for t in share.abs().argsort(descending=True)[:3].tolist():
    print(f"record t = {t:3d}: alpha_t e_t = {share[t].item():+.4f}")
total = (W0 @ x_q)[0] + share.sum()
print(f"W0 x_q + sum of all {len(share)} shares = {total.item():+.4f};  primal output {(W @ x_q)[0].item():+.4f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Remark 2 · Unlimited memory is not necessarily useful
# The dual form grows by $d_\text{in} + d_\text{out}$ numbers per step and reads all of them per query; the primal
# form stores $d_\text{in} d_\text{out}$ numbers, forever. Both give the *same* outputs: a memory that stores
# everything is not, by that alone, a better learner than a fixed-size one.

# %% slideshow={"slide_type": "-"}
d_in, d_out = 512, 512
T_range = np.arange(1, 20_001)
fig, ax = plt.subplots()
_ = ax.plot(T_range, np.full(T_range.shape, d_in * d_out), label=r"primal: $d_{in} d_{out}$ weights")
_ = ax.plot(T_range, T_range * (d_in + d_out), label=r"dual: $T (d_{in} + d_{out})$ keys and values")
ax.set(title="Memory of a 512 → 512 layer after T training examples", xlabel="training examples $T$",
       ylabel="stored numbers", yscale="log")
_ = ax.legend(loc="lower right")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Remark 3 · The attention form is not unique
# Any way of writing $W - W_0$ as a sum of outer products is a valid memory. The 200 records above can be
# replaced by $d_\text{in} = 4$: keys the unit vectors $\mathbf u_j$, values the columns $(W - W_0)\mathbf u_j$.
# Same layer, a fiftieth of the memory.

# %% slideshow={"slide_type": "-"}
K_basis = torch.eye(4, dtype=F64)
E_basis = (W - W0).T  # row j: the column (W − W0) u_j
print(f"4 records instead of 200: max gap to the primal form "
      f"{(du.dual_forward(W0, K_basis, E_basis, x_test) - primal).abs().max().item():.1e}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What breaks the duality: momentum
# With momentum $\mu$, SGD steps with a buffer $\mathbf b_s = \mu \mathbf b_{s-1} + \mathbf g_s$. A gradient from
# step $s$ stays in the buffer and is applied again at every later step, decayed by $\mu$ each time, so
# record $t$ enters $W$ with weight $c_t = \sum_{k=0}^{T-1-s_t} \mu^k = \frac{1 - \mu^{T - s_t}}{1 - \mu}$, not 1:
# $$W = W_0 + \sum_t c_t\, \mathbf e_t \otimes \mathbf x_t .$$
# The plain dual form (all $c_t = 1$) is then wrong; attention with each value scaled by $c_t$ is exact.

# %% slideshow={"slide_type": "-"}
W_mom, K_mom, E_mom = du.train_linear_layer(W0, X, Y, lr=0.01, momentum=0.9)
primal_mom = x_test @ W_mom.T
naive = (du.dual_forward(W0, K_mom, E_mom, x_test) - primal_mom).abs().max().item()
weighted = (du.momentum_dual_forward(W0, K_mom, E_mom, x_test, momentum=0.9) - primal_mom).abs().max().item()
print(f"momentum 0.9, 200 steps: plain dual form off by {naive:.2f}; with c_t weights off by {weighted:.1e}")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots()
for mu in (0.0, 0.5, 0.9, 0.99):
    _ = ax.plot(np.arange(1, 201), du.momentum_weights(200, momentum=mu).numpy(), label=f"$\\mu$ = {mu}")
ax.set(title="How much record t counts in W after 200 steps", xlabel="record $t$",
       ylabel="weight $c_t$", yscale="log")
_ = ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Explore: break the duality and restore it
# A one-dimensional fit $y \approx a u + b$ with inputs $\mathbf x_t = (u_t, 1)$, trained by SGD. Raise the
# momentum: the plain dual form drifts away from the trained line. Then switch the dual form to the
# momentum-weighted one. (At $\mu = 0$ the two forms coincide, so the switch is off.)

# %% slideshow={"slide_type": "-"}
g_line = torch.Generator().manual_seed(1)
u_line = 2 * torch.rand(300, generator=g_line, dtype=F64) - 1
X_line = torch.stack([u_line, torch.ones_like(u_line)], 1)
Y_line = (1.5 * u_line - 0.5 + 0.2 * torch.randn(300, generator=g_line, dtype=F64))[:, None]
W0_line = torch.zeros(1, 2, dtype=F64)
FORMS = {"plain attention Σ αₜ eₜ": "plain", "momentum-weighted Σ cₜ αₜ eₜ": "weighted"}


def primal_vs_dual(momentum: float = 0.0, steps: int = 60, lr: float = 0.1, form: str = "plain"):
    """Train the line by SGD with momentum; compare the primal output with the chosen dual form."""
    W_line, keys, values = du.train_linear_layer(W0_line, X_line[:steps], Y_line[:steps], lr=lr, momentum=momentum)
    if not torch.isfinite(W_line).all() or W_line.abs().max() > 1e6:
        raise FloatingPointError(f"|W| grew past 1e6: learning rate {lr:.2f} with momentum {momentum:.2f} diverges")
    c = du.momentum_weights(steps, momentum=momentum) if form == "weighted" else torch.ones(steps, dtype=F64)
    grid = torch.stack([torch.linspace(-1, 1, 41, dtype=F64), torch.ones(41, dtype=F64)], 1)
    primal_line = grid @ W_line.T
    dual_line = du.dual_forward(W0_line, keys, values * c[:, None], grid)
    gap = (primal_line - dual_line).abs().max().item()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    _ = left.scatter(u_line[:steps], Y_line[:steps, 0], s=8, color="gray", label="training examples")
    _ = left.plot(grid[:, 0], primal_line[:, 0], color="C0", label="primal Wx")
    _ = left.plot(grid[::4, 0], dual_line[::4, 0], "o", color="C1", markersize=6, label="dual form")
    left.set(title=f"max |primal − dual| = {gap:.1e}", xlabel="input u", ylabel="output y", ylim=(-3, 2))
    _ = left.legend(loc="upper left", fontsize=10)
    t_axis = np.arange(1, steps + 1)
    _ = right.fill_between(t_axis, 0, du.momentum_weights(steps, momentum=momentum).numpy(), step="mid",
                           color="C0", alpha=0.35, label="how much record t counts in W")
    _ = right.plot(t_axis, c.numpy(), color="C1", linewidth=2, linestyle="--", label="its weight in the dual form")
    right.set(title=f"momentum μ = {momentum:.2f}, T = {steps}", xlabel="record t", ylabel="weight cₜ",
              xlim=(0.5, steps + 0.5), ylim=(0, 1.7 / (1 - momentum)))
    _ = right.legend(loc="upper right", fontsize=10)
    return fig


live(primal_vs_dual, momentum=slider("momentum μ", 0.0, 0.95, 0.05), steps=slider("SGD steps T", 1, 300, 1),
     lr=slider("learning rate η", 0.01, 0.5, 0.01), form=choice("dual form", FORMS),
     enabled={"form": lambda p: p["momentum"] > 0})

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Attention with momentum (MoAttn)
# Dai et al. (2023) carried the analogy into Transformers: if attention does gradient descent, give it
# momentum. For the query at position $N$,
# $$\operatorname{MoAttn}(\mathbf K, \mathbf V, \mathbf q_N) = \operatorname{Attention}(\mathbf K, \mathbf V, \mathbf q_N)
# + \sum_{i=1}^{N-1} \lambda^{N-i}\, \mathbf v_i ,$$
# an exponentially decayed sum of the values *before* the current one (the current value $\mathbf v_N$ is not
# in it; $\mathbf v_{N-1}$ weighs $\lambda$, $\mathbf v_1$ weighs $\lambda^{N-1}$). On the opening figure's three records
# with $\lambda = \tfrac12$: $2.0 \cdot 0.25 - 1 \cdot 1.25 + 1 \cdot 0.5$, plus $\tfrac14 \cdot 0.25 + \tfrac12 \cdot 1.25$:

# %% slideshow={"slide_type": "-"}
moattn = du.momentum_attention(K_demo, E_demo, x_demo, lam=0.5).item()
plain_attn = du.linear_attention(K_demo, E_demo, x_demo).item()
print(f"Attention = {plain_attn:+.4f};  MoAttn = {moattn:+.4f} = Attention + 0.25·e_1 + 0.5·e_2")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **How it relates to GD with momentum.** SGD's buffer $\mathbf b_N = \sum_{i \le N} \mu^{N-i} \mathbf g_i$ re-applies
# old gradients with geometrically decaying weight; MoAttn adds the same kind of decayed sum of values. It
# is an analogy, not a dual form: the exact dual of momentum training (above) keeps every value inside the
# attention, scaled by $c_t$, so it still depends on the query through $\mathbf x_t^\top\mathbf x$. MoAttn's extra term
# does not depend on the query at all, and it weighs the *most recent* values most, while in the exact dual
# the *earliest* records count most ($c_1$ is the largest weight). On the momentum-trained $4 \to 2$ layer:

# %% slideshow={"slide_type": "-"}
moattn_out = x_test @ W0.T + du.momentum_attention(K_mom, E_mom, x_test, lam=0.9)
print(f"vs the layer trained with momentum 0.9:  W0 x + plain attention        off by {naive:.3f}")
print(f"                                         W0 x + MoAttn (lambda = 0.9)  off by {(moattn_out - primal_mom).abs().max().item():.3f}")
print(f"                                         W0 x + c_t-scaled attention   off by {weighted:.1e}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Their results (quoted): language-model perplexity 15.14 → **15.02** (validation, length 1024), and
# in-context accuracy over six tasks (SST5, IMDB, MR, CB, ARC-E, PIQA) 51.9 → **54.7** on average.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In-context learning as implicit fine-tuning
# Dai et al. (2023) read the corollary backwards: when a Transformer attends to demonstrations in its
# prompt, its attention output is $W_0 \mathbf q$ plus an attention term, like a layer *fine-tuned* on the
# demonstrations. von Oswald et al. (2023) made it exact in a toy:
# - tasks $y = \mathbf w^\top \mathbf x$, $\mathbf w \sim \mathcal N(0, I_{10})$, $\mathbf x \sim U(-\tfrac12, \tfrac12)^{10}$;
# - a prompt of $N = 10$ tokens $(\mathbf x_i, y_i)$ and a query token $(\mathbf x_q, 0)$;
# - one linear self-attention (LSA) layer must predict $y_q$.
#
# (Their text says $U(-1, 1)$; their code, and the numbers below, use $U(-\tfrac12, \tfrac12)$.)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### One gradient step is a dual form
# Fit $\mathbf w$ to the prompt, $L(\mathbf w) = \frac{1}{2N}\sum_i (\mathbf w^\top \mathbf x_i - y_i)^2$. One GD step
# from $\mathbf w = 0$ gives $\mathbf w_1 = \frac{\eta}{N}\sum_i y_i \mathbf x_i$, so
# $$\hat y_q = \mathbf w_1^\top \mathbf x_q = \sum_i \underbrace{\tfrac{\eta}{N} y_i}_{\text{value}}\;
# \underbrace{\mathbf x_i^\top \mathbf x_q}_{\alpha_i}:$$
# attention with keys $\mathbf x_i$ and values $\eta y_i / N$, the error signals of that step. An LSA layer
# can build both from the tokens: $W_K = W_Q = \begin{pmatrix} I & 0 \\ 0 & 0 \end{pmatrix}$,
# $W_V = \begin{pmatrix} 0 & 0 \\ 0 & \eta/N \end{pmatrix}$.

# %% slideshow={"slide_type": "-"}
g_icl = torch.Generator().manual_seed(3)
Xc, yc, xq, yq = du.icl_regression_tasks(10_000, dim=10, n_context=10, generator=g_icl)  # float32
lr_star, risk_star, risk_zero = du.optimal_gd_lr(dim=10, n_context=10, x_var=1 / 12, x_fourth=1 / 80)
gd_lsa = du.LinearSelfAttention(10).from_gd(lr_star, n_context=10)
with torch.no_grad():
    lsa_gap = (gd_lsa.predict(Xc, yc, xq) - du.gd_step_prediction(Xc, yc, xq, lr_star)).abs().max().item()
print(f"constructed LSA vs one GD step, 10,000 prompts, float32: max gap {lsa_gap:.1e}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ### The best single step
# The error is $\mathbf w^\top(\eta S - I)\mathbf x_q$ with $S = \frac1N\sum_i \mathbf x_i \mathbf x_i^\top$. Averaging over
# tasks gives a quadratic in $\eta$,
# $R(\eta) = \tfrac12\sigma^2\,(d - 2\eta\,\mathbb E\operatorname{tr}S + \eta^2\,\mathbb E\operatorname{tr}S^2)$,
# with $\sigma^2 = \mathbb E x^2 = \tfrac1{12}$, $\mathbb E\operatorname{tr}S = d\sigma^2$ and
# $\mathbb E\operatorname{tr}S^2 = d(d-1)\sigma^4/N + d\,(\sigma^4 + (m_4 - \sigma^4)/N)$, $m_4 = \mathbb E x^4 = \tfrac1{80}$.
# It is smallest at $\eta^* = \mathbb E\operatorname{tr}S / \mathbb E\operatorname{tr}S^2$.

# %% slideshow={"slide_type": "-"}
print(f"eta* = {lr_star:.4f}   R(eta*) = {risk_star:.5f}   zero predictor R(0) = {risk_zero:.5f}")
lr_text, risk_text, zero_text = du.optimal_gd_lr(x_var=1 / 3, x_fourth=1 / 5)  # the paper's text: U(-1, 1)
print(f"with x ~ U(-1, 1) instead: eta* = {lr_text:.4f}, R(eta*) = {risk_text:.5f}, R(0) = {zero_text:.5f}")

# %% slideshow={"slide_type": "subslide"}
etas = np.linspace(0, 12, 49)
with torch.no_grad():
    unit_step = du.gd_step_prediction(Xc, yc, xq, 1.0).double()  # ŷ is linear in η: ŷ(η) = η ŷ(1)
mc = [0.5 * ((eta * unit_step - yq.double()) ** 2).mean().item() for eta in etas]
fig, ax = plt.subplots(figsize=(8.5, 3.6))
_ = ax.plot(etas, [du.one_step_gd_risk(e) for e in etas], label="closed form $R(\\eta)$")
_ = ax.plot(etas[::3], mc[::3], "o", label="Monte Carlo, 10,000 prompts")
_ = ax.axvline(lr_star, color="gray", linestyle=":", label=f"$\\eta^*$ = {lr_star:.3f}")
ax.set(title="One GD step on the prompt: expected loss vs learning rate", xlabel="learning rate $\\eta$",
       ylabel="loss $\\frac{1}{2} E(\\hat y - y)^2$")
_ = ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ### A trained LSA finds the same step
# Now let a randomly initialised LSA learn from prompts alone: Adam (learning rate $10^{-3}$), 2000 steps,
# 512 fresh prompts per step. Nothing tells it about gradient descent. (The trained layer is stored
# with the course.)

# %% [markdown] slideshow={"slide_type": "notes"}
# `du.trained_lsa(recompute=True)` retrains it in about 8 s of CPU.

# %% slideshow={"slide_type": "-"}
model, losses = du.trained_lsa()
smooth = np.convolve(losses.numpy(), np.ones(50) / 50, mode="valid")
fig, ax = plt.subplots(figsize=(9, 3.6))
_ = ax.plot(np.arange(50, 2001), smooth, label="trained LSA (running mean of 50 steps)")
_ = ax.axhline(risk_star, color="C1", linestyle="--", label=f"one GD step at $\\eta^*$: {risk_star:.3f}")
_ = ax.axhline(risk_zero, color="gray", linestyle=":", label=f"zero predictor: {risk_zero:.3f}")
ax.set(title="Training a linear self-attention layer on prompts", xlabel="Adam step", ylabel="training loss")
_ = ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Does it take the same step?
# Its loss on fresh prompts, the step size its weights implement, and how well its input gradient lines up
# with that of one GD step (von Oswald et al.'s alignment measure):

# %% slideshow={"slide_type": "-"}
with torch.no_grad():
    lsa_loss = du.lsa_loss(model, Xc, yc, xq, yq).item()
    gd_loss = du.lsa_loss(gd_lsa, Xc, yc, xq, yq).item()
alignment = du.input_gradient_alignment(model, Xc[:2000], yc[:2000], xq[:2000], lr_star).mean().item()
print(f"test loss, 10,000 fresh prompts: trained LSA {lsa_loss:.3f}, one GD step {gd_loss:.3f}")
print(f"learned step size N·W_V[y,y]·mean diag(W_K^T W_Q): {model.learned_lr(n_context=10):.2f}  (eta* = {lr_star:.2f})")
print(f"cosine of d y_hat / d x_q, trained LSA vs GD: {alignment:.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The learned weights: up to a scale shared between $W_K^\top W_Q$ and $W_V$, the construction's pattern
# (identity on the $\mathbf x$ block, one entry of $W_V$). Only the last row of $W_V$ reaches the prediction;
# its other rows rewrite the query's $\mathbf x$ part, which nothing reads, so they keep their random
# initial values.

# %% slideshow={"slide_type": "-"}
with torch.no_grad():
    mats = {"trained $W_K^T W_Q$": model.W_K.T @ model.W_Q, "trained $W_V$": model.W_V}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, (name, M) in zip(axes, mats.items()):
    lim = M.abs().max().item()
    im = ax.imshow(M.detach().numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set(title=name, xlabel="token entry (10 = y)", ylabel="token entry")
    ax.grid(False)
    fig.colorbar(im, ax=ax, fraction=0.046)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Is ICL fine-tuning? Dai et al.'s three criteria
# Compare three predictors on the same prompts: **zero-shot** (no demonstrations), **fine-tuning** (update
# the weights on the demonstrations), **ICL** (read them in context).
# - **Rec2FTP**: among queries fine-tuning gets right and zero-shot gets wrong, the % ICL also gets right.
# - **SimAOU**: cosine between the output updates ICL − zero-shot and fine-tuning − zero-shot (baseline:
#   the fine-tuning update of an unrelated prompt, "random SimAOU").
# - **SimAM**: cosine between attention scores (before any softmax) of ICL and of fine-tuning (baseline:
#   the untrained model's scores, "ZSL SimAM").
#
# On the toy: zero-shot predicts 0; fine-tuning is one GD step at $\eta^*$ (its attention scores are the
# dual form's $\mathbf x_i^\top \mathbf x_q$); each prompt gets 20 queries, "right" means $|\hat y - y| < 0.25$.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Three in-context learners, not all of them gradient descent
# The layer trained above behaves like one GD step by construction of the task, so it would score ≈ 1 on
# everything. Two other learners make the criteria earn their keep: the same architecture **trained on
# $U(-1, 1)$ prompts** (it learned the step $\eta^* = 1.52$ that is best there, a quarter of the step for
# our prompts), and the **untrained** layer.

# %% slideshow={"slide_type": "-"}
learners = {"trained, same prompts": model, "trained on U(-1, 1)": du.trained_lsa(x_range=2.0)[0],
            "untrained": du.untrained_lsa()}
table = {name: du.compare_icl_to_finetuning(m, finetune_lr=lr_star, n_prompts=1000) for name, m in learners.items()}
print(f"{'learner':22s} {'step':>5s} {'loss':>6s} {'Rec2FTP':>8s} {'SimAOU':>7s} {'random':>7s} {'SimAM':>6s} {'ZSL':>6s}")
for name, c in table.items():
    print(f"{name:22s} {learners[name].learned_lr(10):5.2f} {c['loss']:6.3f} {c['Rec2FTP (%)']:8.1f} "
          f"{c['SimAOU']:7.3f} {c['random SimAOU']:7.3f} {c['SimAM']:6.3f} {c['ZSL SimAM']:6.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The layer trained on wider inputs does one gradient step **with the wrong step size**. Both cosine
# criteria call it a perfect match (0.998 and 0.999), because a cosine cannot see a scale; Rec2FTP sees it
# at once (13 %): its predictions are a quarter of the size they should be. SimAM and SimAOU test
# whether ICL updates in the *direction* of fine-tuning; only Rec2FTP tests whether it gets as far.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The paper's result on GPT (Dai et al. 2023, quoted)
# | model | task | Rec2FTP | SimAOU | random SimAOU | SimAM | ZSL SimAM |
# |---|---|---|---|---|---|---|
# | GPT 1.3B | SST2 | 86.32 | 0.128 | 0.003 | 0.608 | 0.555 |
# | GPT 1.3B | AGNews | 85.41 | 0.155 | 0.003 | 0.536 | 0.152 |
# | GPT 2.7B | SST2 | 93.87 | 0.113 | 0.003 | 0.687 | 0.687 |
# | GPT 2.7B | MR | 95.44 | 0.120 | 0.001 | 0.346 | 0.314 |
#
# (4 of their 12 rows.) SimAOU is small (0.07–0.21) but clearly above its random baseline
# (−0.003 … 0.004) in all 12 rows. SimAM is above its zero-shot baseline in 11 rows, often by only
# 0.03–0.05, and equal to it for GPT 2.7B on SST2. On real models the agreement is partial, and as the toy
# shows, high similarities alone would not establish that ICL takes the same step as fine-tuning.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What to remember
# 1. A linear layer trained by gradient descent equals $W_0$ plus unnormalised linear attention over its
#    training inputs (keys) and error signals (values), to round-off: the same sum in another order.
# 2. The memory forgets nothing, grows without bound, and is not unique.
# 3. Momentum breaks the plain dual form; scaling each value by $c_t = (1 - \mu^{T-s_t})/(1 - \mu)$ restores it.
#    MoAttn, $\sum_{i<N}\lambda^{N-i}\mathbf v_i$ added to attention, is an analogy to that, not the exact dual.
# 4. One LSA layer can implement one GD step on its prompt, and a trained one does (test loss 0.207 vs
#    0.206 for the step, learned step 6.08 vs $\eta^*$ = 6.06).
#    Dai et al.'s cosine criteria cannot tell a step of the right size from one of the wrong size.
#
# **Theme and next:** inside the LSA the learning rate of the inner gradient step is no longer a
# metaparameter chosen by hand: it is a product of weights ($N\,W_V[y,y]$ times the scale of $W_K^\top W_Q$)
# learned by the outer training. Learning the
# inner optimizer's knobs by outer gradient descent is meta-learning, the subject of lecture 04 (MAML).
