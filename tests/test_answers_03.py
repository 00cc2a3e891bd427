"""Exercise 03's checks as a student meets them: for every question a plausible wrong answer fails the
visible check, and a correct answer written differently passes it."""

from __future__ import annotations

from exercise_harness import answer_tests

NAME = "03_attention_duality"

WRONG = {  # each a mistake a student could plausibly make
    "Q1 linear attention": (  # right for a matrix of queries, breaks on batches and single queries
        "def attention(keys, values, queries):\n"
        "    return torch.einsum('td,qd,to->qo', keys, queries, values)\n"),
    "Q2 SGD with a key-value memory": (  # stores the error without the learning rate
        "def sgd_with_memory(W0, X, Y, lr):\n"
        "    W, keys, values = W0.clone(), [], []\n"
        "    for x, y in zip(X, Y):\n"
        "        e = -(W @ x - y)\n"
        "        W = W + lr * torch.outer(e, x)\n"
        "        keys.append(x)\n"
        "        values.append(e)\n"
        "    return W, torch.stack(keys), torch.stack(values)\n"),
    "Q3 best step for Gaussian inputs": (  # drops the +1 that the Gaussian's fourth moment brings
        "def eta_star_gaussian(dim, n_context, sigma):\n"
        "    return n_context / (sigma**2 * (n_context + dim))\n"),
    "Q4 GD-equivalent LSA weights": (  # divides by the dimension instead of the number of tokens
        "def gd_weights(dim, lr, n_context):\n"
        "    W_K = torch.zeros(dim + 1, dim + 1)\n"
        "    W_K[:dim, :dim] = torch.eye(dim)\n"
        "    W_V = torch.zeros(dim + 1, dim + 1)\n"
        "    W_V[dim, dim] = lr / dim\n"
        "    return W_K, W_K.clone(), W_V\n"),
    "Q5 record weights under momentum": (  # MoAttn's decay: recent records weigh most
        "def record_weights(T, mu):\n"
        "    return mu ** (T - 1 - torch.arange(T, dtype=torch.float64))\n"),
}
ALTERNATIVE = {  # correct, written differently from the solution
    "Q1 linear attention": (
        "def attention(keys, values, queries):\n"
        "    return torch.einsum('...d,td,to->...o', queries, keys, values)\n"),
    "Q2 SGD with a key-value memory": (  # autograd for the error signal
        "def sgd_with_memory(W0, X, Y, lr):\n"
        "    W, keys, values = W0.clone(), [], []\n"
        "    for x, y in zip(X, Y):\n"
        "        out = (W @ x).requires_grad_(True)\n"
        "        (g,) = torch.autograd.grad(0.5 * ((out - y) ** 2).sum(), out)\n"
        "        e = -lr * g\n"
        "        W = W + e[:, None] * x[None, :]\n"
        "        keys.append(x.clone())\n"
        "        values.append(e)\n"
        "    return W, torch.stack(keys), torch.stack(values)\n"),
    "Q3 best step for Gaussian inputs": (  # E tr S / E tr S², with the moments plugged in unsimplified
        "def eta_star_gaussian(dim, n_context, sigma):\n"
        "    s2, m4 = sigma**2, 3 * sigma**4\n"
        "    tr_s = dim * s2\n"
        "    tr_s2 = dim * (dim - 1) * s2**2 / n_context + dim * (s2**2 + (m4 - s2**2) / n_context)\n"
        "    return tr_s / tr_s2\n"),
    "Q4 GD-equivalent LSA weights": (  # keys see the whole token: y_q = 0 makes it harmless
        "def gd_weights(dim, lr, n_context):\n"
        "    W_V = torch.zeros(dim + 1, dim + 1)\n"
        "    W_V[-1, -1] = lr / n_context\n"
        "    return torch.eye(dim + 1), torch.diag(torch.cat([torch.ones(dim), torch.zeros(1)])), W_V\n"),
    "Q5 record weights under momentum": (  # simulate the buffer's coefficients
        "def record_weights(T, mu):\n"
        "    c = torch.zeros(T, dtype=torch.float64)\n"
        "    buffer = torch.zeros(T, dtype=torch.float64)\n"
        "    for s in range(T):\n"
        "        buffer = mu * buffer\n"
        "        buffer[s] += 1.0\n"
        "        c += buffer\n"
        "    return c\n"),
}

globals().update(answer_tests(NAME, WRONG, ALTERNATIVE, ()))
