"""Exercise 06's checks as a student meets them: for every question a plausible wrong answer fails
the visible check, a correct answer written differently passes it, and the wrong multiple-choice
letter is recorded by the self-check and failed only by the key."""

from __future__ import annotations

from exercise_harness import answer_tests

NAME = "06_long_horizon_hpo"

WRONG = {  # each a mistake a student could plausibly make
    "Q1 forward-mode tangent step": (  # forgets that α itself depends on λ_w
        "def tangent_step(theta, v, Z, U, alpha, w, momentum=0.9):\n"
        "    v_new = momentum * v + problem.train_grad(theta)\n"
        "    U_new = momentum * U + problem.train_hvp(Z)\n"
        "    return theta - alpha * v_new, v_new, Z - alpha * U_new, U_new\n"),
    "Q2 Neumann series": (  # right series, K one too large (solves the bound for K instead of K + 1)
        "def neumann(H, v, alpha, K):\n"
        "    term, total = v, v\n"
        "    for _ in range(K):\n"
        "        term = term - alpha * (H @ term)\n"
        "        total = total + term\n"
        "    return alpha * total\n"
        "rho = 1 - alpha * float(eig[0])\n"
        "K_needed = math.ceil(math.log(1e-8) / math.log(rho))\n"),
    "Q3 optimal window": (  # sets the derivative to zero with 12 where the bound's derivative has 6
        "mse1, eps = 0.04, 0.02\n"
        "w_star = (12 * mse1 / eps**2) ** (1 / 3)\n"
        "w_best = round(w_star)\n"
        "mse_best = mse1 / w_best + eps**2 * (w_best**2 - 1) / 12\n"),
    "Q4 constant memory, exact": 'answer = "a"',
    "Q5 truncated vs persistent ES": (  # swaps the two runs
        "theta_es = hpo.train_es(ib, persistent=True, K=1, steps=3000)[-1]\n"
        "theta_pes = hpo.train_es(ib, persistent=False, K=1, steps=3000, n_particles=200)[-1]\n"
        "closer = 'pes'\n"),
    "Q6 reversible multiplication": (  # drops the digit taken from the buffer
        "def mul(x, buffer, n, d):\n"
        "    y, rest = divmod(x * n, d)\n"
        "    return y, buffer * d + rest\n"
        "def unmul(y, buffer, n, d):\n"
        "    buffer, rest = divmod(buffer, d)\n"
        "    return (y * d + rest) // n, buffer\n"),
}
ALTERNATIVE = {  # correct, written differently from the solution
    "Q1 forward-mode tangent step": (
        "def tangent_step(theta, v, Z, U, alpha, w, momentum=0.9):\n"
        "    v2 = momentum * v + problem.train_grad(theta)\n"
        "    U2 = momentum * U + problem.train_hvp(Z)\n"
        "    onehot = torch.zeros(Z.shape[0], 1, dtype=Z.dtype, device=Z.device)\n"
        "    onehot[w] = 1.0\n"
        "    Z2 = Z - alpha * U2 - alpha * onehot * v2[None, :]\n"
        "    return theta - alpha * v2, v2, Z2, U2\n"),
    "Q2 Neumann series": (
        "def neumann(H, v, alpha, K):\n"
        "    out, power = torch.zeros_like(v), v.clone()\n"
        "    for k in range(K + 1):\n"
        "        out = out + power\n"
        "        power = power - alpha * torch.mv(H, power)\n"
        "    return alpha * out\n"
        "r = 1 - alpha * float(eig[0])\n"
        "K_needed = 0\n"
        "while r ** (K_needed + 1) > 1e-8:\n"
        "    K_needed += 1\n"),
    "Q3 optimal window": (
        "bound = lambda w: 0.04 / w + 0.02 ** 2 * (w * w - 1) / 12\n"
        "w_star = float(np.cbrt(6 * 0.04 / 0.02 ** 2))\n"
        "w_best = min(range(1, 101), key=bound)\n"
        "mse_best = bound(w_best)\n"),
    "Q4 constant memory, exact": 'answer = "C"',
    "Q5 truncated vs persistent ES": (
        "runs = {name: hpo.train_es(ib, persistent=name == 'pes', K=1, steps=3000,\n"
        "                           **({} if name == 'pes' else {'n_particles': 200})) for name in ('es', 'pes')}\n"
        "theta_es, theta_pes = float(runs['es'][-1]), float(runs['pes'][-1])\n"
        "closer = min(('es', 'pes'), key=lambda name: abs(float(runs[name][-1]) - ib.optimum))\n"),
    "Q6 reversible multiplication": (
        "def mul(x, buffer, n, d):\n"
        "    low = buffer % n\n"
        "    total = x * n + low\n"
        "    return total // d, (buffer // n) * d + total % d\n"
        "def unmul(y, buffer, n, d):\n"
        "    rest = buffer % d\n"
        "    total = y * d + rest\n"
        "    return total // n, (buffer // d) * n + total % n\n"),
}
MULTIPLE_CHOICE = "Q4 constant memory, exact"

globals().update(answer_tests(NAME, WRONG, ALTERNATIVE, (MULTIPLE_CHOICE,)))
