"""Attention as the dual form of gradient descent (lecture 03).

Row-vector convention throughout: one example per row, a linear layer maps ``x`` to ``x @ W.T`` with
``W`` of shape ``[d_out, d_in]``.

Three claims, each made exact and measurable here:

1. **Primal = dual** (Irie, Csordás & Schmidhuber 2022, "The dual form of neural networks revisited",
   eqs. 2-4). A linear layer trained by gradient descent has weights ``W = W0 + Σ_t e_t ⊗ x_t``, where
   ``x_t`` is a training input and ``e_t = -η ∂L/∂y_t`` its error signal. So its output on a query is
   ``x W0ᵀ + Attention(X, E, x)``: unnormalised linear attention over everything it was trained on.
2. **Momentum** (Dai et al. 2022, "Why can GPT learn in-context?", §6). With momentum each recorded
   value is re-applied at every later step, so the exact dual form weights value ``t`` by a geometric
   sum; attention with momentum (MoAttn, :func:`momentum_attention`) is the Transformer-side analogy.
3. **One GD step = one linear self-attention layer** (von Oswald et al. 2023, "Transformers learn
   in-context by gradient descent", Prop. 1). On tokens ``(x_i, y_i)`` and a query ``(x_q, 0)``, a
   linear self-attention layer with constructed weights outputs exactly the prediction of a linear
   model after one gradient step from ``w = 0`` on the context; a trained layer finds the same solution.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import Tensor, nn
from torch.func import grad, vmap

from mlcourse import runtime
from mlcourse.inputs import checked, fraction, need, nonnegative, positive, size

DATA = Path(__file__).parent / "data"
CACHE = DATA / "duality_lsa.pt"
LSA_SETTINGS = dict(dim=10, n_context=10, x_range=1.0, steps=2000, batch_size=512, lr=1e-3,
                    init_std=0.1, seed=0)


def _need(cond: bool, message: str) -> None:
    if not cond:
        raise ValueError(message)


# --- 1. attention, primal and dual form -------------------------------------------------------------

@checked
def linear_attention(keys: Tensor, values: Tensor, queries: Tensor) -> Tensor:
    """Unnormalised linear dot attention: ``Σ_t values_t (keys_t · query)`` (Irie et al. 2022, eq. 1).

    keys [T, d_in], values [T, d_out], queries [..., d_in] → [..., d_out]. No softmax, no 1/√d.
    The attention weights ``α_t = keys_t · query`` are :func:`attention_weights`.
    """
    _need(keys.dim() == 2 and values.dim() == 2 and keys.shape[0] == values.shape[0],
          f"expected keys [T, d_in] and values [T, d_out] with the same T, got "
          f"{tuple(keys.shape)} and {tuple(values.shape)}")
    return attention_weights(keys, queries) @ values


@checked
def attention_weights(keys: Tensor, queries: Tensor) -> Tensor:
    """``α_t = keys_t · query``: keys [T, d_in], queries [..., d_in] → [..., T]."""
    _need(keys.dim() == 2 and queries.dim() >= 1 and queries.shape[-1] == keys.shape[1],
          f"expected keys [T, d_in] and queries [..., d_in] with the same d_in, got "
          f"{tuple(keys.shape)} and {tuple(queries.shape)}")
    return queries @ keys.T


def _half_mse(Y_hat: Tensor, Y: Tensor) -> Tensor:
    """The training loss ``L = 1/(2B) Σ_b ||ŷ_b − y_b||²`` of one minibatch of B examples."""
    return 0.5 * ((Y_hat - Y) ** 2).sum(-1).mean()


@checked(lr=positive, epochs=size, batch_size=size, momentum=fraction,
         shapes=dict(W0="o i", X="n i", Y="n o"))
def train_linear_layer(W0: Tensor, X: Tensor, Y: Tensor, *, lr: float, epochs: int = 1,
                       batch_size: int = 1, momentum: float = 0.0,
                       generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Minibatch SGD on ``L = 1/(2B) Σ_b ||x_b Wᵀ − y_b||²`` from ``W0`` [d_out, d_in]; record the
    dual form as it goes.

    The weights follow torch.optim.SGD (``buf ← μ buf + ∂L/∂W``, ``W ← W − η buf``), using
    autograd's weight gradient. Independently, every training input is stored as a key ``x_t`` and
    its error signal ``e_t = −η ∂L/∂ŷ_t`` (autograd with respect to the layer's output) as a value,
    in order.

    X [n, d_in], Y [n, d_out]; ``batch_size`` must divide n (every step then holds exactly
    ``batch_size`` records, which :func:`momentum_dual_forward` relies on). Examples are visited in
    order, or reshuffled every epoch with ``generator`` when one is given. X and Y are cast to W0's
    dtype and device. Returns ``(W, keys [epochs·n, d_in], values [epochs·n, d_out])``.
    """
    _need(W0.dim() == 2, f"expected W0 [d_out, d_in], got {tuple(W0.shape)}")
    d_out, d_in = W0.shape
    _need(X.dim() == 2 and X.shape[1] == d_in,
          f"expected X [n, d_in={d_in}] for W0 {tuple(W0.shape)}, got {tuple(X.shape)}")
    _need(Y.shape == (X.shape[0], d_out), f"expected Y [n={X.shape[0]}, d_out={d_out}], got {tuple(Y.shape)}")
    _need(epochs >= 1 and batch_size >= 1 and X.shape[0] % batch_size == 0,
          f"need epochs >= 1 and a batch_size dividing n={X.shape[0]}, got epochs={epochs}, "
          f"batch_size={batch_size}")
    _need(0.0 <= momentum < 1.0, f"momentum must be in [0, 1), got {momentum}")
    X, Y = X.to(W0), Y.to(W0)
    loss_of_W = lambda W, Xb, Yb: _half_mse(Xb @ W.T, Yb)  # noqa: E731
    W, buf, keys, values = W0.clone(), torch.zeros_like(W0), [], []
    for _ in range(epochs):
        order = (torch.randperm(X.shape[0], generator=generator, device=generator.device).to(X.device)
                 if generator is not None else torch.arange(X.shape[0], device=X.device))
        for batch in order.split(batch_size):
            Xb, Yb = X[batch], Y[batch]
            keys.append(Xb)
            values.append(-lr * grad(_half_mse)(Xb @ W.T, Yb))
            buf = momentum * buf + grad(loss_of_W)(W, Xb, Yb)
            W = W - lr * buf
    return W, torch.cat(keys), torch.cat(values)


@checked(shapes=dict(W0="_ i", x="... i"))
def dual_forward(W0: Tensor, keys: Tensor, values: Tensor, x: Tensor) -> Tensor:
    """The dual form ``S2(x) = x W0ᵀ + Attention(X, E, x)`` (Irie et al. 2022, eq. 4).

    W0 [d_out, d_in], keys [T, d_in], values [T, d_out], x [..., d_in] → [..., d_out].
    """
    _need(W0.dim() == 2 and keys.dim() == 2 and values.dim() == 2
          and keys.shape[1] == W0.shape[1] and values.shape[1] == W0.shape[0],
          f"expected W0 [d_out, d_in], keys [T, d_in], values [T, d_out], got {tuple(W0.shape)}, "
          f"{tuple(keys.shape)}, {tuple(values.shape)}")
    return x @ W0.T + linear_attention(keys, values, x)


@checked(momentum=fraction, batch_size=size)
def momentum_weights(n_records: int, *, momentum: float, batch_size: int = 1) -> Tensor:
    """How often momentum re-applies each record:
    ``c_t = Σ_{k=0}^{S−1−s_t} μ^k = (1 − μ^{S−s_t})/(1 − μ)``.

    Record ``t`` was made at step ``s_t = t // batch_size`` of ``S = n_records / batch_size`` steps.
    Its gradient enters the momentum buffer at step ``s_t`` and stays there, decayed by ``μ`` per step,
    for the ``S − s_t`` updates that remain. Returns [n_records] (float64).
    """
    _need(n_records >= 0 and batch_size >= 1 and n_records % batch_size == 0,
          f"need batch_size >= 1 dividing n_records, got n_records={n_records}, batch_size={batch_size}")
    _need(0.0 <= momentum < 1.0, f"momentum must be in [0, 1), got {momentum}")
    step = torch.arange(n_records, dtype=torch.float64).div(batch_size, rounding_mode="floor")
    steps_left = n_records // batch_size - step
    return (1.0 - momentum ** steps_left) / (1.0 - momentum)


@checked(momentum=fraction, batch_size=size, shapes=dict(W0="o i", keys="T i", values="T o", x="... i"))
def momentum_dual_forward(W0: Tensor, keys: Tensor, values: Tensor, x: Tensor, *, momentum: float,
                          batch_size: int = 1) -> Tensor:
    """The dual form of a layer trained by SGD with momentum ``μ``:
    ``x W0ᵀ + Σ_t c_t e_t (x_t · x)`` with ``c_t`` from :func:`momentum_weights`.

    Unrolling ``buf_s = Σ_{r≤s} μ^{s−r} g_r`` gives
    ``W = W0 − η Σ_s buf_s = W0 + Σ_t c_t e_t ⊗ x_t``:
    attention over the same keys and values, each value scaled by its accumulated momentum (the
    exact counterpart of Dai et al.'s momentum attention). Takes the keys and values recorded by
    :func:`train_linear_layer` with the same ``momentum`` and ``batch_size``; μ = 0 is
    :func:`dual_forward`.
    """
    c = momentum_weights(keys.shape[0], momentum=momentum, batch_size=batch_size).to(values)
    return dual_forward(W0, keys, values * c[:, None], x)


@checked(lam=fraction, shapes=dict(keys="T d", values="T k", query="... d"))
def momentum_attention(keys: Tensor, values: Tensor, query: Tensor, *, lam: float) -> Tensor:
    """Attention with momentum, the seed's MoAttn (Dai et al. 2022, §6):
    ``MoAttn = Attention(K, V, q) + Σ_{i=1}^{N−1} λ^{N−i} v_i``, N = number of records.

    The query is the N-th (current) token: attention reads all N records, the momentum term an
    exponential moving sum of the values *before* it — the current value is not in the sum, the one
    just before it weighs λ, the oldest λ^{N−1}. keys [N, d_in], values [N, d_out], query
    [..., d_in] → [..., d_out].

    How it relates to GD with momentum: SGD's buffer ``b_N = Σ_{i≤N} μ^{N−i} g_i`` re-applies old
    gradients with geometrically decaying weight; MoAttn adds the same kind of decayed sum of
    values to the attention output. It is an analogy, not a dual form: the exact dual of a layer
    trained with momentum (:func:`momentum_dual_forward`) keeps every value inside the attention and
    scales it by ``c_t``, so it still depends on the query through ``x_t · x``; MoAttn's extra term
    does not depend on the query at all.
    """
    _need(0.0 <= lam < 1.0, f"lam must be in [0, 1), got {lam}")
    N = values.shape[0]
    decay = lam ** torch.arange(N - 1, 0, -1, dtype=values.dtype, device=values.device)  # λ^{N−1} … λ¹
    return linear_attention(keys, values, query) + decay @ values[:-1]


# --- 2. in-context linear regression (von Oswald et al. 2023) ----------------------------------------

@checked(n_tasks=size, dim=size, n_context=size, x_range=positive)
def icl_regression_tasks(n_tasks: int, *, dim: int = 10, n_context: int = 10, x_range: float = 1.0,
                         generator: torch.Generator | None = None, device: str | torch.device | None = None,
                         dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Random linear regression tasks: ``w ~ N(0, I)``, ``x ~ U(−x_range/2, x_range/2)^dim``, ``y = wᵀx``.

    von Oswald et al.'s code draws x from U(−½, ½) (``x_range=1``); their text says U(−1, 1)
    (``x_range=2``). Returns the context ``X [n_tasks, n_context, dim]``, ``y [n_tasks, n_context]``
    and one query per task ``x_q [n_tasks, dim]``, ``y_q [n_tasks]``, on ``device`` (default: the
    generator's).
    """
    _need(n_tasks >= 1 and dim >= 1 and n_context >= 1 and x_range > 0,
          f"need n_tasks, dim, n_context >= 1 and x_range > 0, got {n_tasks}, {dim}, {n_context}, {x_range}")
    where = generator.device if generator is not None else device  # sample where the generator lives
    w = torch.randn(n_tasks, dim, generator=generator, device=where, dtype=dtype)
    X = (torch.rand(n_tasks, n_context + 1, dim, generator=generator, device=where, dtype=dtype)
         - 0.5) * x_range
    w, X = w.to(device), X.to(device)
    y = torch.einsum("nkd,nd->nk", X, w)
    return X[:, :-1], y[:, :-1], X[:, -1], y[:, -1]


def _check_tasks(X: Tensor, y: Tensor, x_q: Tensor) -> None:
    _need(X.dim() >= 2 and y.shape == X.shape[:-1] and x_q.shape == X.shape[:-2] + X.shape[-1:],
          f"expected X [..., N, d], y [..., N], x_q [..., d], got {tuple(X.shape)}, {tuple(y.shape)}, "
          f"{tuple(x_q.shape)}")


def _regression_loss(w: Tensor, X: Tensor, y: Tensor) -> Tensor:
    """``L(w) = 1/(2N) Σ_i (wᵀx_i − y_i)²`` on one task's context."""
    return 0.5 * ((X @ w - y) ** 2).mean()


def _gd_step_one(X: Tensor, y: Tensor, x_q: Tensor, lr: float) -> Tensor:
    w1 = -lr * grad(_regression_loss)(torch.zeros_like(x_q), X, y)
    return x_q @ w1


@checked(lr=nonnegative)
def gd_step_prediction(X: Tensor, y: Tensor, x_q: Tensor, lr: float) -> Tensor:
    """Prediction at ``x_q`` after one GD step from ``w = 0`` on ``L = 1/(2N) Σ (wᵀx_i − y_i)²``.

    Closed form ``ŷ = (η/N) Σ_i y_i x_iᵀ x_q``: the dual form of this step, with keys ``x_i`` and
    values ``η y_i / N``. X [..., N, d], y [..., N], x_q [..., d] → [...].
    """
    _check_tasks(X, y, x_q)
    f = lambda X, y, x_q: _gd_step_one(X, y, x_q, lr)  # noqa: E731
    for _ in range(X.dim() - 2):
        f = vmap(f)
    return f(X, y, x_q)


@checked(x_range=positive)
def uniform_moments(x_range: float = 1.0) -> tuple[float, float]:
    """Second and fourth moments of x ~ U(−r/2, r/2): ``E x² = r²/12``, ``E x⁴ = r⁴/80``."""
    return x_range ** 2 / 12.0, x_range ** 4 / 80.0


def _trace_moments(dim: int, n_context: int, x_var: float, x_fourth: float) -> tuple[float, float]:
    """``E tr S = dσ²`` and ``E tr S² = d(d−1)σ⁴/N + d(σ⁴ + (m₄ − σ⁴)/N)``
    for ``S = (1/N) Σ_i x_i x_iᵀ``, with i.i.d. zero-mean coordinates of variance σ² and fourth
    moment m₄."""
    _need(dim >= 1 and n_context >= 1 and x_var > 0 and x_fourth >= x_var ** 2,
          f"need dim, n_context >= 1, x_var > 0 and x_fourth >= x_var², got {dim}, {n_context}, "
          f"{x_var}, {x_fourth}")
    d, N, s2 = dim, n_context, x_var
    return d * s2, d * (d - 1) * s2 ** 2 / N + d * (s2 ** 2 + (x_fourth - s2 ** 2) / N)


@checked(lr=nonnegative, dim=size, n_context=size, x_var=positive, x_fourth=positive)
def one_step_gd_risk(lr: float, *, dim: int = 10, n_context: int = 10, x_var: float = 1 / 12,
                     x_fourth: float = 1 / 80) -> float:
    """Expected loss ``½ E (ŷ − y_q)²`` of the one-step GD predictor, in closed form.

    With ``S = (1/N) Σ_i x_i x_iᵀ`` the error is ``wᵀ(ηS − I)x_q``; averaging over w ~ N(0, I), then
    over x_q (i.i.d. zero-mean coordinates of variance σ²) gives
    ``R(η) = ½σ² (d − 2η E tr S + η² E tr S²)`` (moments in :func:`_trace_moments`).
    """
    tr_S, tr_S2 = _trace_moments(dim, n_context, x_var, x_fourth)
    return 0.5 * x_var * (dim - 2 * lr * tr_S + lr ** 2 * tr_S2)


@checked(dim=size, n_context=size, x_var=positive, x_fourth=positive)
def optimal_gd_lr(*, dim: int = 10, n_context: int = 10, x_var: float = 1 / 12,
                  x_fourth: float = 1 / 80) -> tuple[float, float, float]:
    """The best one-step learning rate ``η* = E tr S / E tr S²`` (the minimiser of the quadratic
    :func:`one_step_gd_risk`), its risk, and the risk ``½ d σ²`` of the zero predictor (η = 0).

    For d = N = 10 and x ~ U(−½, ½): η* = 6.0606, risk 0.20623, zero predictor 0.41667.
    """
    kw = dict(dim=dim, n_context=n_context, x_var=x_var, x_fourth=x_fourth)
    tr_S, tr_S2 = _trace_moments(dim, n_context, x_var, x_fourth)
    lr = tr_S / tr_S2
    return lr, one_step_gd_risk(lr, **kw), one_step_gd_risk(0.0, **kw)


# --- 3. a linear self-attention layer --------------------------------------------------------------

@checked(dim=size, init_std=nonnegative)
class LinearSelfAttention(nn.Module):
    """One linear self-attention layer reading tokens ``e_i = (x_i, y_i)`` and a query ``e_q = (x_q, 0)``.

    The query token is updated by unnormalised linear attention over the N context tokens,
    ``e_q ← e_q + Σ_i (W_V e_i) ((W_K e_i) · (W_Q e_q))``, and the prediction is the updated token's
    last entry (von Oswald et al. 2023, eq. 4, with their projection P folded into W_V and the
    query attending to the context only). All three matrices are [dim + 1, dim + 1], drawn
    i.i.d. N(0, init_std²) (on the generator's device, then moved to ``device``).
    """

    def __init__(self, dim: int, *, init_std: float = 0.1, generator: torch.Generator | None = None,
                 device: str | torch.device | None = None, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        _need(dim >= 1, f"dim must be >= 1, got {dim}")
        self.dim = dim
        where = generator.device if generator is not None else device
        shape = (dim + 1, dim + 1)
        self.W_K, self.W_Q, self.W_V = (
            nn.Parameter((init_std * torch.randn(shape, generator=generator, device=where, dtype=dtype))
                         .to(device))
            for _ in range(3))

    @torch.no_grad()
    def from_gd(self, lr: float, n_context: int) -> "LinearSelfAttention":
        """Set the weights that make this layer one GD step from ``w = 0`` (von Oswald et al., Prop. 1):
        ``W_K = W_Q = [[I_d, 0], [0, 0]]`` (keys and queries are the x part), ``W_V`` all zero but
        ``η/N`` in the corner (the value is ``η y_i / N``, the error signal of GD at w = 0). Returns self.
        """
        _need(n_context >= 1, f"n_context must be >= 1, got {n_context}")
        eye_x = torch.eye(self.dim + 1, dtype=self.W_K.dtype, device=self.W_K.device)
        eye_x[-1, -1] = 0.0
        self.W_K.copy_(eye_x)
        self.W_Q.copy_(eye_x)
        self.W_V.zero_()
        self.W_V[-1, -1] = lr / n_context
        return self

    def _tokens(self, X: Tensor, y: Tensor, x_q: Tensor) -> tuple[Tensor, Tensor]:
        _check_tasks(X, y, x_q)
        _need(X.shape[-1] == self.dim, f"expected inputs of dim {self.dim}, got X {tuple(X.shape)}")
        E = torch.cat([X, y[..., None]], dim=-1)
        e_q = torch.cat([x_q, torch.zeros_like(x_q[..., :1])], dim=-1)
        return E, e_q

    def attention_scores(self, X: Tensor, y: Tensor, x_q: Tensor) -> Tensor:
        """The query's attention weights ``(W_K e_i) · (W_Q e_q)`` over the context: [..., N]."""
        E, e_q = self._tokens(X, y, x_q)
        return torch.einsum("...nk,...k->...n", E @ self.W_K.T, e_q @ self.W_Q.T)

    def forward(self, X: Tensor, y: Tensor, x_q: Tensor) -> Tensor:
        """The updated query token ``e_q + Σ_i α_i W_V e_i``: X [..., N, d], y [..., N], x_q [..., d]
        → [..., d + 1]."""
        E, e_q = self._tokens(X, y, x_q)
        alpha = self.attention_scores(X, y, x_q)
        return e_q + torch.einsum("...n,...nk->...k", alpha, E @ self.W_V.T)

    def predict(self, X: Tensor, y: Tensor, x_q: Tensor) -> Tensor:
        """The layer's prediction for ``y_q``: the last entry of the updated query token, [...]."""
        return self(X, y, x_q)[..., -1]

    @torch.no_grad()
    def learned_lr(self, n_context: int) -> float:
        """The step size this layer implements: ``N · (W_V)[y, y] · mean diag((W_Kᵀ W_Q)[x, x])``.

        The prediction's ``y_i x_iᵀ x_q`` term has coefficient matrix ``(W_V)[y,y] (W_Kᵀ W_Q)[x,x]``;
        for GD it is ``(η/N) I``. Exact for :meth:`from_gd`; for a trained layer, the average
        diagonal (the off-diagonal part should be near zero).
        """
        M = self.W_K.T @ self.W_Q
        d = self.dim
        return float(n_context * self.W_V[d, d] * torch.diagonal(M[:d, :d]).mean())


@checked
def lsa_loss(model: LinearSelfAttention, X: Tensor, y: Tensor, x_q: Tensor, y_q: Tensor) -> Tensor:
    """``½ mean (ŷ − y_q)²`` over a batch of tasks: the loss whose zero predictor scores ½ d σ²."""
    need(y_q.shape == X.shape[:-2], f"y_q must hold one target per task of X {list(X.shape)}: shape "
         f"{list(X.shape[:-2])}, got {list(y_q.shape)}")
    return 0.5 * ((model.predict(X, y, x_q) - y_q) ** 2).mean()


@checked(steps=size, batch_size=size, lr=positive, n_context=size, x_range=positive)
def train_lsa(model: LinearSelfAttention, *, steps: int = 2000, batch_size: int = 512, lr: float = 1e-3,
              n_context: int = 10, x_range: float = 1.0, generator: torch.Generator | None = None,
              progress: bool | Callable[..., Iterable] = False) -> Tensor:
    """Adam on :func:`lsa_loss`, a fresh batch of tasks every step (von Oswald et al.'s protocol).
    Trains ``model`` in place; returns the training loss of every step, [steps]."""
    _need(steps >= 1 and batch_size >= 1, f"need steps, batch_size >= 1, got {steps}, {batch_size}")
    p = model.W_K
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = torch.empty(steps)
    for step in runtime.track(range(steps), progress, desc="training LSA"):
        tasks = icl_regression_tasks(batch_size, dim=model.dim, n_context=n_context, x_range=x_range,
                                     generator=generator, device=p.device, dtype=p.dtype)
        loss = lsa_loss(model, *tasks)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses[step] = loss.detach()
    return losses


def _cache_path(x_range: float) -> Path:
    return CACHE if x_range == LSA_SETTINGS["x_range"] else DATA / f"duality_lsa_xrange{x_range:g}.pt"


@checked
def trained_lsa(*, x_range: float = 1.0, recompute: bool = False, device: str | torch.device | None = None,
                progress: bool | Callable[..., Iterable] = False) -> tuple[LinearSelfAttention, Tensor]:
    """The lecture's trained layer (settings ``LSA_SETTINGS``: d = N = 10, Adam 1e-3, 2000 steps,
    batch 512, seed 0) and its training losses.

    ``x_range`` is the width of the training inputs' range, x ~ U(−x_range/2, x_range/2): 1 is
    von Oswald et al.'s code (the lecture's main layer), 2 their text's U(−1, 1) — a layer trained on
    other prompts, which learns another step size. Loaded from ``mlcourse/data/duality_lsa*.pt``
    unless ``recompute`` (about 8 s of CPU each) or the cache was made with other settings.
    ``python -m mlcourse.duality`` rewrites both caches.
    """
    s = {**LSA_SETTINGS, "x_range": float(x_range)}
    path = _cache_path(float(x_range))
    if not recompute and path.exists():
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if saved["settings"] == s:
            model = LinearSelfAttention(s["dim"], init_std=0.0)
            model.load_state_dict(saved["state"])
            return model.to(device), saved["losses"]
    gen = torch.Generator().manual_seed(s["seed"])
    model = LinearSelfAttention(s["dim"], init_std=s["init_std"], generator=gen)
    losses = train_lsa(model, steps=s["steps"], batch_size=s["batch_size"], lr=s["lr"],
                       n_context=s["n_context"], x_range=s["x_range"], generator=gen, progress=progress)
    return model.to(device), losses


def untrained_lsa() -> LinearSelfAttention:
    """The trained layers' starting point (same seed and init_std): the zero-shot baseline of SimAM."""
    s = LSA_SETTINGS
    return LinearSelfAttention(s["dim"], init_std=s["init_std"],
                               generator=torch.Generator().manual_seed(s["seed"]))


@checked(lr=nonnegative, shapes=dict(X="B N d", y="B N", x_q="B d"))
def input_gradient_alignment(model: LinearSelfAttention, X: Tensor, y: Tensor, x_q: Tensor,
                             lr: float) -> Tensor:
    """Cosine between ``∂ŷ/∂x_q`` of the layer and of one GD step (von Oswald et al.'s "model
    alignment"): both predictors are linear in ``x_q`` for a fixed context, so the input gradient is
    the linear model each one implicitly applies. X [B, N, d], y [B, N], x_q [B, d] → [B]."""
    _check_tasks(X, y, x_q)
    _need(X.dim() == 3, f"expected a batch of tasks X [B, N, d], got {tuple(X.shape)}")
    g_lsa = vmap(grad(lambda xq, X, y: model.predict(X, y, xq)))(x_q, X, y)
    g_gd = vmap(grad(lambda xq, X, y: _gd_step_one(X, y, xq, lr)))(x_q, X, y)
    return torch.cosine_similarity(g_lsa, g_gd, dim=-1).detach()


# --- 4. ICL vs fine-tuning: Dai et al.'s criteria, on any predictions ------------------------------

@checked(tol=positive, same_shape=("y", "zero_shot", "finetuned", "icl"))
def rec2ftp(y: Tensor, zero_shot: Tensor, finetuned: Tensor, icl: Tensor, *, tol: float) -> float:
    """Recall to fine-tuning predictions (Dai et al. 2022, §4.2), in percent: among the queries that
    fine-tuning gets right and zero-shot gets wrong, the share ICL also gets right. For regression,
    "right" means ``|ŷ − y| < tol``. All inputs have the same shape."""
    _need(y.shape == zero_shot.shape == finetuned.shape == icl.shape,
          f"expected equal shapes, got {tuple(y.shape)}, {tuple(zero_shot.shape)}, "
          f"{tuple(finetuned.shape)}, {tuple(icl.shape)}")
    right = lambda p: (p - y).abs() < tol  # noqa: E731
    gained = right(finetuned) & ~right(zero_shot)
    _need(bool(gained.any()), "fine-tuning fixes no zero-shot error at this tol: Rec2FTP is undefined")
    return 100.0 * float((gained & right(icl)).sum() / gained.sum())


@checked(same_shape=("zero_shot", "finetuned", "icl"))
def sim_aou(zero_shot: Tensor, finetuned: Tensor, icl: Tensor) -> float:
    """Similarity of attention output updates (Dai et al. 2022): mean cosine between the updates
    ``icl − zero_shot`` and ``finetuned − zero_shot``; each row ([..., k]) is one example's output."""
    _need(zero_shot.shape == finetuned.shape == icl.shape and zero_shot.dim() >= 1,
          f"expected equal shapes [..., k], got {tuple(zero_shot.shape)}, {tuple(finetuned.shape)}, "
          f"{tuple(icl.shape)}")
    return float(torch.cosine_similarity(icl - zero_shot, finetuned - zero_shot, dim=-1).mean())


@checked(same_shape=("scores_a", "scores_b"))
def sim_am(scores_a: Tensor, scores_b: Tensor) -> float:
    """Similarity of attention maps (Dai et al. 2022): mean cosine between two models' attention
    scores (before any softmax) of the same queries over the same context, rows [..., N]."""
    _need(scores_a.shape == scores_b.shape and scores_a.dim() >= 1,
          f"expected equal shapes [..., N], got {tuple(scores_a.shape)} and {tuple(scores_b.shape)}")
    return float(torch.cosine_similarity(scores_a, scores_b, dim=-1).mean())


@checked(finetune_lr=positive, n_prompts=size, n_queries=size, n_context=size, tol=positive, x_range=positive)
def compare_icl_to_finetuning(icl: LinearSelfAttention, *, finetune_lr: float,
                              zero_shot: LinearSelfAttention | None = None, n_prompts: int = 2000,
                              n_queries: int = 20, n_context: int = 10, tol: float = 0.25,
                              x_range: float = 1.0, seed: int = 3) -> dict[str, float]:
    """Dai et al.'s three criteria on the in-context regression toy, for any in-context learner.

    Zero-shot predicts 0 (no demonstrations); fine-tuning is one GD step at ``finetune_lr`` from
    w = 0 on the prompt (its attention scores are the dual form's ``x_i · x_q``, the constructed
    layer :meth:`LinearSelfAttention.from_gd`); ICL is ``icl`` reading the same prompt. Each of
    ``n_prompts`` prompts gets ``n_queries`` queries, so an output update is a vector of that many
    predictions. Returns ``Rec2FTP (%)`` (right = |ŷ − y| < tol), ``SimAOU``, ``random SimAOU``
    (fine-tuning updates of the neighbouring prompt), ``SimAM`` (ICL's vs fine-tuning's scores of
    each query over the context), ``ZSL SimAM`` (``zero_shot``'s scores, default
    :func:`untrained_lsa`), and ``loss`` (½ mean squared error of ICL).
    """
    p = icl.W_K
    gen = torch.Generator().manual_seed(seed)
    B, N, M, d = n_prompts, n_context, n_queries, icl.dim
    X, y, x_last, y_last = icl_regression_tasks(B, dim=d, n_context=N + M - 1, x_range=x_range, generator=gen,
                                                dtype=p.dtype)
    X_ctx, y_ctx = X[:, :N], y[:, :N]
    X_q = torch.cat([X[:, N:], x_last[:, None]], 1)            # [B, M, d]: M queries per prompt
    y_q = torch.cat([y[:, N:], y_last[:, None]], 1)
    X_p, y_p = X_ctx[:, None].expand(B, M, N, d), y_ctx[:, None].expand(B, M, N)
    ft_layer = LinearSelfAttention(d, dtype=p.dtype).from_gd(finetune_lr, n_context=N)
    zero_shot = untrained_lsa() if zero_shot is None else zero_shot
    with torch.no_grad():
        icl_pred = icl.predict(X_p, y_p, X_q)
        ft_pred = gd_step_prediction(X_p, y_p, X_q, finetune_lr)
        zsl_pred = torch.zeros_like(icl_pred)
        scores = {name: m.attention_scores(X_p, y_p, X_q)
                  for name, m in (("icl", icl), ("ft", ft_layer), ("zsl", zero_shot))}
    return {
        "Rec2FTP (%)": rec2ftp(y_q, zsl_pred, ft_pred, icl_pred, tol=tol),
        "SimAOU": sim_aou(zsl_pred, ft_pred, icl_pred),
        "random SimAOU": sim_aou(zsl_pred, ft_pred.roll(1, dims=0), icl_pred),
        "SimAM": sim_am(scores["icl"], scores["ft"]),
        "ZSL SimAM": sim_am(scores["zsl"], scores["ft"]),
        "loss": float(0.5 * ((icl_pred - y_q) ** 2).mean()),
    }


if __name__ == "__main__":  # regenerate the cached trained layers
    runtime.set_threads(1)
    for x_range in (1.0, 2.0):
        model, losses = trained_lsa(x_range=x_range, recompute=True)
        DATA.mkdir(exist_ok=True)
        path = _cache_path(x_range)
        torch.save({"settings": {**LSA_SETTINGS, "x_range": x_range}, "state": model.state_dict(),
                    "losses": losses}, path)
        print(f"wrote {path}: final loss {losses[-100:].mean():.4f}, learned lr {model.learned_lr(10):.3f}")
