"""Tests for mlcourse.duality: every claim of lecture 03 against a direct computation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlcourse import duality as du

F64 = torch.float64



def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def regression_data(n=200, d_in=5, d_out=3, seed=0):
    g = gen(seed)
    W0 = torch.randn(d_out, d_in, generator=g, dtype=F64)
    X = torch.randn(n, d_in, generator=g, dtype=F64)
    noise = 0.1 * torch.randn(n, d_out, generator=g, dtype=F64)
    Y = X @ torch.randn(d_in, d_out, generator=g, dtype=F64) + noise
    return W0, X, Y


# --- attention -------------------------------------------------------------------------------------

def test_linear_attention_is_the_weighted_sum_of_values():
    g = gen(1)
    K, V, Q = torch.randn(7, 4, generator=g, dtype=F64), torch.randn(7, 2, generator=g, dtype=F64), \
        torch.randn(3, 5, 4, generator=g, dtype=F64)
    out = du.linear_attention(K, V, Q)
    loop = torch.zeros(3, 5, 2, dtype=F64)
    for t in range(7):
        loop += (Q @ K[t])[..., None] * V[t]
    assert out.shape == (3, 5, 2)
    torch.testing.assert_close(out, loop, rtol=0, atol=1e-12)
    alpha = du.attention_weights(K, Q[0, 0])
    np.testing.assert_allclose(alpha.numpy(), K.numpy() @ Q[0, 0].numpy(), atol=1e-12)


@pytest.mark.parametrize("shapes", [((7, 4), (6, 2), (4,)), ((7, 4), (7, 2), (3,)), ((7,), (7, 2), (4,))])
def test_linear_attention_rejects_bad_shapes(shapes):
    K, V, Q = (torch.zeros(s) for s in shapes)
    with pytest.raises(ValueError, match="expected"):
        du.linear_attention(K, V, Q)


# --- primal and dual form --------------------------------------------------------------------------

@pytest.mark.parametrize("momentum, batch_size, epochs", [(0.0, 1, 1), (0.0, 4, 3), (0.9, 1, 1), (0.5, 8, 2)])
def test_training_matches_torch_optim_sgd(momentum, batch_size, epochs):
    W0, X, Y = regression_data(n=64)
    W, _, _ = du.train_linear_layer(W0, X, Y, lr=0.03, epochs=epochs, batch_size=batch_size,
                                    momentum=momentum)
    layer = torch.nn.Linear(5, 3, bias=False, dtype=F64)
    with torch.no_grad():
        layer.weight.copy_(W0)
    opt = torch.optim.SGD(layer.parameters(), lr=0.03, momentum=momentum)
    for _ in range(epochs):
        for Xb, Yb in zip(X.split(batch_size), Y.split(batch_size)):
            opt.zero_grad()
            (0.5 * torch.nn.functional.mse_loss(layer(Xb), Yb, reduction="sum") / len(Xb)).backward()
            opt.step()
    torch.testing.assert_close(W, layer.weight.detach(), rtol=0, atol=1e-12)


def test_records_are_inputs_and_error_signals_in_order():
    W0, X, Y = regression_data(n=12)
    lr, B = 0.1, 3
    W, keys, values = du.train_linear_layer(W0, X, Y, lr=lr, batch_size=B)
    torch.testing.assert_close(keys, X, rtol=0, atol=0)
    # replay the steps by hand: e_b = -lr (ŷ_b - y_b) / B with ŷ from the weights before the step
    Wt = W0.clone()
    for s in range(4):
        sl = slice(B * s, B * (s + 1))
        e = -lr * (X[sl] @ Wt.T - Y[sl]) / B
        torch.testing.assert_close(values[sl], e, rtol=0, atol=1e-14)
        Wt = Wt + e.T @ X[sl]
    torch.testing.assert_close(W, Wt, rtol=0, atol=1e-13)


def test_dual_equals_primal_after_200_sgd_steps_float64():
    W0, X, Y = regression_data(n=200)
    W, keys, values = du.train_linear_layer(W0, X, Y, lr=0.05)
    assert keys.shape == (200, 5) and values.shape == (200, 3)
    x = torch.randn(50, 5, generator=gen(3), dtype=F64)
    assert (x @ W.T - du.dual_forward(W0, keys, values, x)).abs().max() <= 1e-10
    # the primal weights are literally W0 + Σ e_t ⊗ x_t
    torch.testing.assert_close(W, W0 + values.T @ keys, rtol=0, atol=1e-12)


def test_dual_equals_primal_with_shuffling_and_epochs():
    W0, X, Y = regression_data(n=40)
    W, keys, values = du.train_linear_layer(W0, X, Y, lr=0.05, epochs=5, batch_size=4, generator=gen(7))
    assert keys.shape == (200, 5)
    assert not torch.equal(keys[:40], X)  # reshuffled
    x = torch.randn(10, 5, generator=gen(3), dtype=F64)
    assert (x @ W.T - du.dual_forward(W0, keys, values, x)).abs().max() <= 1e-10


def test_naive_dual_fails_with_momentum_and_momentum_form_restores_it():
    W0, X, Y = regression_data(n=200)
    W, keys, values = du.train_linear_layer(W0, X, Y, lr=0.01, momentum=0.9)
    x = torch.randn(50, 5, generator=gen(3), dtype=F64)
    assert (x @ W.T - du.dual_forward(W0, keys, values, x)).abs().max() > 1e-3
    exact = du.momentum_dual_forward(W0, keys, values, x, momentum=0.9)
    assert (x @ W.T - exact).abs().max() <= 1e-10
    W, keys, values = du.train_linear_layer(W0, X, Y, lr=0.01, momentum=0.7, batch_size=5, epochs=2,
                                            generator=gen(1))
    exact = du.momentum_dual_forward(W0, keys, values, x, momentum=0.7, batch_size=5)
    assert (x @ W.T - exact).abs().max() <= 1e-10


def test_momentum_weights_count_the_buffer_reapplications():
    mu, B, S = 0.8, 2, 5
    c = du.momentum_weights(B * S, momentum=mu, batch_size=B)
    # simulate: at each step the buffer holds μ^(age) of every earlier step's gradient
    expected = np.zeros(S)
    for step in range(S):
        for s in range(step + 1):
            expected[s] += mu ** (step - s)
    np.testing.assert_allclose(c.numpy(), np.repeat(expected, B), rtol=1e-14)
    torch.testing.assert_close(du.momentum_weights(6, momentum=0.0), torch.ones(6, dtype=F64))


def test_momentum_attention_hand_computed_three_records():
    """The seed's MoAttn on three records by hand: keys (1,0), (0,1), (1,1), values 10, 100, 1000,
    query (2, −1), λ = ½. Attention weights 2, −1, 1 give 20 − 100 + 1000 = 920; the momentum term
    sums the values before the current (third) one: λ²·10 + λ·100 = 2.5 + 50; total 972.5."""
    K = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=F64)
    V = torch.tensor([[10.0], [100.0], [1000.0]], dtype=F64)
    q = torch.tensor([2.0, -1.0], dtype=F64)
    assert du.momentum_attention(K, V, q, lam=0.5).item() == 972.5
    assert du.linear_attention(K, V, q).item() == 920.0
    assert du.momentum_attention(K, V, q, lam=0.0).item() == 920.0  # λ = 0: plain attention
    assert du.momentum_attention(K[:1], V[:1], q, lam=0.5).item() == 20.0  # one record: nothing before it


def test_momentum_attention_matches_the_seed_formula():
    g = gen(2)
    K, V, q = torch.randn(6, 3, generator=g, dtype=F64), torch.randn(6, 2, generator=g, dtype=F64), \
        torch.randn(4, 3, generator=g, dtype=F64)
    lam, N = 0.6, 6
    expected = sum((q @ K[i])[:, None] * V[i] for i in range(N)) \
        + sum(lam ** (N - i) * V[i - 1] for i in range(1, N))  # Σ_{i=1}^{N-1} λ^{N-i} v_i, 1-based
    torch.testing.assert_close(du.momentum_attention(K, V, q, lam=lam), expected, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="lam"):
        du.momentum_attention(K, V, q, lam=1.0)


def test_moattn_is_not_the_exact_dual_of_momentum_sgd():
    """The lecture's claim: a layer trained with momentum equals the c_t-weighted dual form, and MoAttn
    over the same records (with μ as λ) is a different function of the query."""
    W0, X, Y = regression_data(n=30)
    W, keys, values = du.train_linear_layer(W0, X, Y, lr=0.01, momentum=0.9)
    x = torch.randn(20, 5, generator=gen(3), dtype=F64)
    exact = du.momentum_dual_forward(W0, keys, values, x, momentum=0.9)
    assert (x @ W.T - exact).abs().max() <= 1e-10
    moattn = x @ W0.T + du.momentum_attention(keys, values, x, lam=0.9)
    assert (x @ W.T - moattn).abs().max() > 0.1


@pytest.mark.parametrize("kwargs, match", [
    (dict(X=torch.zeros(10, 4)), "X"), (dict(Y=torch.zeros(10, 2)), "Y"), (dict(W0=torch.zeros(5)), "W0"),
    (dict(batch_size=3), "batch_size"), (dict(momentum=1.0), "momentum")])
def test_train_linear_layer_rejects_bad_input(kwargs, match):
    args = dict(W0=torch.zeros(3, 5), X=torch.zeros(10, 5), Y=torch.zeros(10, 3))
    args.update({k: v for k, v in kwargs.items() if k in args})
    opts = {k: v for k, v in kwargs.items() if k not in args}
    with pytest.raises(ValueError, match=match):
        du.train_linear_layer(args["W0"], args["X"], args["Y"], lr=0.1, **opts)


def test_dual_forward_rejects_bad_shapes():
    with pytest.raises(ValueError, match="expected W0"):
        du.dual_forward(torch.zeros(3, 5), torch.zeros(4, 5), torch.zeros(4, 2), torch.zeros(5))


# --- one GD step in context (von Oswald et al. 2023) -------------------------------------------------

def test_icl_tasks_shapes_range_and_linearity():
    X, y, x_q, y_q = du.icl_regression_tasks(4000, dim=3, n_context=12, x_range=1.0, generator=gen(0))
    assert X.shape == (4000, 12, 3) and y.shape == (4000, 12)
    assert x_q.shape == (4000, 3) and y_q.shape == (4000,)
    assert X.abs().max() <= 0.5 and abs(float(X.var()) - 1 / 12) < 2e-3
    # y is linear in x: the context determines w (12 points in 3-d), which predicts the query exactly
    w = torch.linalg.lstsq(X.double(), y.double()[..., None]).solution[..., 0]
    torch.testing.assert_close((x_q.double() * w).sum(-1), y_q.double(), rtol=0, atol=1e-4)
    X2, *_ = du.icl_regression_tasks(10, x_range=2.0, generator=gen(0))
    assert X2.abs().max() > 0.5 and X2.abs().max() <= 1.0
    with pytest.raises(ValueError, match="x_range"):
        du.icl_regression_tasks(3, x_range=0.0)


def test_gd_step_prediction_closed_form():
    X, y, x_q, _ = du.icl_regression_tasks(50, generator=gen(1), dtype=F64)
    lr, N = 3.0, X.shape[1]
    expected = lr / N * torch.einsum("bn,bnd,bd->b", y, X, x_q)
    torch.testing.assert_close(du.gd_step_prediction(X, y, x_q, lr), expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(du.gd_step_prediction(X[0], y[0], x_q[0], lr), expected[0], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="expected X"):
        du.gd_step_prediction(X, y[:, :3], x_q, lr)


def test_optimal_lr_reference_numbers():
    lr, risk, zero = du.optimal_gd_lr(dim=10, n_context=10, x_var=1 / 12, x_fourth=1 / 80)
    assert abs(lr - 6.0606) < 1e-4 and abs(risk - 0.20623) < 1e-5 and abs(zero - 0.41667) < 1e-5
    assert du.uniform_moments(1.0) == (1 / 12, 1 / 80)
    # η* minimises the quadratic risk
    assert du.one_step_gd_risk(lr * 1.01) > risk and du.one_step_gd_risk(lr * 0.99) > risk


def test_analytic_risk_matches_monte_carlo():
    X, y, x_q, y_q = du.icl_regression_tasks(200_000, generator=gen(5), dtype=F64)
    for lr in (0.0, 3.0, 6.0606, 9.0):
        mc = 0.5 * (du.gd_step_prediction(X, y, x_q, lr) - y_q).pow(2)
        se = float(mc.std()) / len(mc) ** 0.5
        assert abs(float(mc.mean()) - du.one_step_gd_risk(lr)) < 4 * se  # 4 standard errors
    # a different input distribution: x ~ N(0, 1) has σ² = 1, m4 = 3
    g = gen(6)
    Xg = torch.randn(100_000, 10, 10, generator=g, dtype=F64)
    xg = torch.randn(100_000, 10, generator=g, dtype=F64)
    w = torch.randn(100_000, 10, generator=g, dtype=F64)
    yg, yq = torch.einsum("bnd,bd->bn", Xg, w), (xg * w).sum(-1)
    lr_star, risk, _ = du.optimal_gd_lr(x_var=1.0, x_fourth=3.0)
    mc = 0.5 * (du.gd_step_prediction(Xg, yg, xg, lr_star) - yq).pow(2)
    assert abs(float(mc.mean()) - risk) < 4 * float(mc.std()) / len(mc) ** 0.5


def test_constructed_lsa_is_one_gd_step_float32():
    X, y, x_q, _ = du.icl_regression_tasks(2000, generator=gen(2))
    lsa = du.LinearSelfAttention(10).from_gd(6.0606, 10)
    pred = lsa.predict(X, y, x_q)
    assert pred.dtype == torch.float32
    assert (pred - du.gd_step_prediction(X, y, x_q, 6.0606)).abs().max() <= 1e-5
    assert abs(lsa.learned_lr(10) - 6.0606) < 1e-5
    # the updated query token keeps x_q; the attention scores are x_i · x_q
    torch.testing.assert_close(lsa(X, y, x_q)[:, :10], x_q)
    torch.testing.assert_close(lsa.attention_scores(X, y, x_q), torch.einsum("bnd,bd->bn", X, x_q))
    assert torch.allclose(du.input_gradient_alignment(lsa, X[:50], y[:50], x_q[:50], 6.0606),
                          torch.ones(50), atol=1e-5)


def test_lsa_rejects_bad_shapes():
    lsa = du.LinearSelfAttention(10)
    with pytest.raises(ValueError, match="dim 10"):
        lsa.predict(torch.zeros(2, 5, 4), torch.zeros(2, 5), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="expected X"):
        lsa.predict(torch.zeros(2, 5, 10), torch.zeros(2, 4), torch.zeros(2, 10))


def test_input_gradient_is_the_implicit_linear_model():
    # for one GD step the input gradient is w1 = (η/N) Σ y_i x_i; check the LSA's by finite differences
    X, y, x_q, _ = du.icl_regression_tasks(3, generator=gen(4), dtype=F64)
    lsa = du.LinearSelfAttention(10, generator=gen(0), dtype=F64)
    cos = du.input_gradient_alignment(lsa, X, y, x_q, 2.0)
    eps = 1e-6
    fd = torch.stack([(lsa.predict(X, y, x_q + eps * e) - lsa.predict(X, y, x_q - eps * e)) / (2 * eps)
                      for e in torch.eye(10, dtype=F64)], -1).detach()
    w1 = 2.0 / 10 * torch.einsum("bn,bnd->bd", y, X)
    torch.testing.assert_close(cos, torch.cosine_similarity(fd, w1, dim=-1), rtol=0, atol=1e-6)


def test_cached_trained_lsa_reaches_gd_solution():
    model, losses = du.trained_lsa()
    assert losses.shape == (2000,) and float(losses[:10].mean()) > 0.3
    X, y, x_q, y_q = du.icl_regression_tasks(100_000, generator=gen(11))
    with torch.no_grad():
        loss = float(du.lsa_loss(model, X, y, x_q, y_q))
    assert abs(loss - 0.206) < 0.005
    assert abs(model.learned_lr(10) - 6.07) < 0.1
    assert float(du.input_gradient_alignment(model, X[:2000], y[:2000], x_q[:2000], 6.0606).mean()) > 0.99


@pytest.mark.parametrize("x_range", [1.0, 2.0])
def test_trained_lsa_recompute_path_reproduces_the_cache(x_range):
    cached, cached_losses = du.trained_lsa(x_range=x_range)
    fresh, losses = du.trained_lsa(x_range=x_range, recompute=True)
    torch.testing.assert_close(losses, cached_losses, rtol=0, atol=1e-3)
    assert abs(fresh.learned_lr(10) - cached.learned_lr(10)) < 1e-2


def test_lsa_trained_on_wider_inputs_learns_the_step_for_them():
    """Trained on x ~ U(−1, 1) the layer learns η*(U(−1, 1)) = 1.515, a quarter of the step for the
    lecture's prompts, and its loss there is the analytic one-step risk 0.825."""
    lr_wide, risk_wide, _ = du.optimal_gd_lr(x_var=1 / 3, x_fourth=1 / 5)
    assert abs(lr_wide - 1.51515) < 1e-4 and abs(risk_wide - 0.82492) < 1e-4
    model, losses = du.trained_lsa(x_range=2.0)
    assert abs(model.learned_lr(10) - lr_wide) < 0.05 and abs(float(losses[-200:].mean()) - risk_wide) < 0.02


# --- Dai et al.'s criteria --------------------------------------------------------------------------

def test_rec2ftp_counts_by_hand():
    y = torch.zeros(6)
    zsl = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.0, 1.0])  # wrong on all but index 4
    ft = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.0, 1.0])  # fixes indices 0-3
    icl = torch.tensor([0.0, 0.0, 0.0, 1.0, 1.0, 0.0])  # also right on 0-2 (3 of 4)
    assert du.rec2ftp(y, zsl, ft, icl, tol=0.5) == pytest.approx(75.0)
    with pytest.raises(ValueError, match="undefined"):
        du.rec2ftp(y, zsl, zsl, icl, tol=0.5)
    with pytest.raises(ValueError, match="equal shapes"):
        du.rec2ftp(y, zsl[:3], ft, icl, tol=0.5)


def test_similarities_are_mean_cosines():
    g = gen(9)
    a, b, c = (torch.randn(20, 8, generator=g, dtype=F64) for _ in range(3))
    ref = np.mean([np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v)
                   for u, v in zip((c - a).numpy(), (b - a).numpy())])
    assert du.sim_aou(a, b, c) == pytest.approx(ref, abs=1e-12)
    assert du.sim_am(b, 3 * b) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="equal shapes"):
        du.sim_am(a, b[:, :3])


def test_icl_criteria_for_gd_itself_and_for_gd_with_another_step():
    """Exact cases: ICL = the constructed GD layer gives Rec2FTP 100, SimAOU = SimAM = 1. ICL = GD
    with a quarter of the step gives the same cosines (they cannot see a scale) but a low Rec2FTP."""
    lr = du.optimal_gd_lr()[0]
    same = du.compare_icl_to_finetuning(du.LinearSelfAttention(10).from_gd(lr, 10), finetune_lr=lr, n_prompts=500)
    assert same["Rec2FTP (%)"] == 100.0
    assert abs(same["SimAOU"] - 1) < 1e-5 and abs(same["SimAM"] - 1) < 1e-5 and abs(same["random SimAOU"]) < 0.05
    quarter = du.compare_icl_to_finetuning(du.LinearSelfAttention(10).from_gd(lr / 4, 10), finetune_lr=lr,
                                           n_prompts=500)
    assert abs(quarter["SimAOU"] - 1) < 1e-5 and abs(quarter["SimAM"] - 1) < 1e-5
    assert quarter["Rec2FTP (%)"] < 20


def test_icl_criteria_of_the_lecture_learners():
    """Lecture 03's table (n_prompts = 1000): the trained layer agrees with fine-tuning on all three
    criteria; the layer trained on U(−1, 1) prompts keeps both cosines near 1 but recovers few of
    fine-tuning's corrections; the untrained layer is the baseline."""
    lr = du.optimal_gd_lr()[0]
    trained = du.compare_icl_to_finetuning(du.trained_lsa()[0], finetune_lr=lr, n_prompts=1000)
    wide = du.compare_icl_to_finetuning(du.trained_lsa(x_range=2.0)[0], finetune_lr=lr, n_prompts=1000)
    untrained = du.compare_icl_to_finetuning(du.untrained_lsa(), finetune_lr=lr, n_prompts=1000)
    assert trained["Rec2FTP (%)"] > 90 and trained["SimAOU"] > 0.99 and trained["SimAM"] > 0.99
    assert wide["Rec2FTP (%)"] < 20 and wide["SimAOU"] > 0.99 and wide["SimAM"] > 0.99
    assert untrained["Rec2FTP (%)"] < 5 and untrained["SimAOU"] < 0.1 and untrained["SimAM"] < 0.2
    assert abs(trained["random SimAOU"]) < 0.05 and trained["ZSL SimAM"] == untrained["SimAM"]
    assert abs(trained["loss"] - 0.206) < 0.02 and abs(wide["loss"] - 0.333) < 0.02
