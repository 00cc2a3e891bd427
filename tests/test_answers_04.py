"""Exercise 04's checks as a student meets them: for every question a plausible wrong answer fails
the visible check, a correct answer written differently passes it, and the wrong multiple-choice
letter is recorded by the self-check and failed only by the key."""

from __future__ import annotations

from exercise_harness import answer_tests

NAME = "04_maml"

WRONG = {  # each a mistake a student could plausibly make
    "Q1 functional inner step": (  # steps up the gradient
        "def inner_step(model, params, x, y, lr):\n"
        "    g = grad(lambda p: (functional_call(model, p, (x,)) - y).pow(2).mean())(params)\n"
        "    return {n: params[n] + lr * g[n] for n in params}\n"),
    "Q2 first-order gradient and its error": (  # query gradient at θ instead of at the adapted θ'
        "def first_order_gradient(model, params, tasks, lr):\n"
        "    gs = [grad(lambda p: maml.mse(model, p, xq_, yq_))(params) for _, _, xq_, yq_ in zip(*tasks)]\n"
        "    return {n: torch.stack([g[n] for g in gs]).mean(0) for n in params}\n"
        "exact = flat(maml.meta_gradient(model, theta, tasks, inner_lr=0.05))\n"
        "relative_error = ((flat(first_order_gradient(model, theta, tasks, 0.05)) - exact).norm()"
        " / exact.norm()).item()\n"),
    "Q3 Meta-SGD rates": (  # right step, but the meta-gradient with respect to θ, not to the rates
        "def metasgd_adapt(model, params, rates, x, y):\n"
        "    g = grad(lambda p: maml.mse(model, p, x, y))(params)\n"
        "    return {n: params[n] - rates[n] * g[n] for n in params}\n"
        "alpha_gradient = maml.meta_gradient(model, theta, tasks, inner_lr=rates)[0]['2.weight']\n"),
    "Q4 memory per inner step": (  # mebibytes instead of megabytes: 4.9 % off
        "steps = np.arange(1, 6)\n"
        "peaks = np.array([maml.meta_gradient_memory(int(t)) for t in steps]) / 2**20\n"
        "mb_per_step = float(np.polyfit(steps, peaks, 1)[0])\n"),
    "Q5 escape from the memory wall": 'answer = "b"',
    "Q6 best start on quadratic tasks": (  # first-order MAML's weights h(1 − αh)^T
        "def best_start(h, c, alpha, T):\n"
        "    w = h * (1 - alpha * h) ** T\n"
        "    return float((w * c).sum() / w.sum())\n"
        "moves_towards = 'soft'\n"),
}
ALTERNATIVE = {  # correct, written differently from the solution
    "Q1 functional inner step": (
        "import torch.nn.functional as F\n"
        "def inner_step(model, params, x, y, lr):\n"
        "    g = torch.func.grad(lambda p: F.mse_loss(functional_call(model, p, (x,)), y))(params)\n"
        "    return {n: p - lr * g[n] for n, p in params.items()}\n"),
    "Q2 first-order gradient and its error": (
        "def first_order_gradient(model, params, tasks, lr):\n"
        "    total = None\n"
        "    for x_s, y_s, x_q, y_q in zip(*tasks):\n"
        "        adapted = {n: p.detach().requires_grad_() for n, p in\n"
        "                   maml.adapt(model, params, x_s, y_s, inner_lr=lr).items()}\n"
        "        gs = torch.autograd.grad(maml.mse(model, adapted, x_q, y_q), list(adapted.values()))\n"
        "        total = list(gs) if total is None else [a + b for a, b in zip(total, gs)]\n"
        "    return {n: g / len(tasks[0]) for n, g in zip(params, total)}\n"
        "fo = flat(first_order_gradient(model, theta, tasks, 0.05))\n"
        "ex = flat(maml.meta_gradient(model, theta, tasks, inner_lr=0.05))\n"
        "relative_error = float(torch.linalg.vector_norm(fo - ex) / torch.linalg.vector_norm(ex))\n"),
    "Q3 Meta-SGD rates": (
        "def metasgd_adapt(model, params, rates, x, y):\n"
        "    return maml.adapt(model, params, x, y, inner_lr=rates)\n"
        "r = {n: v.clone().requires_grad_() for n, v in rates.items()}\n"
        "alpha_gradient = torch.autograd.grad(maml.meta_loss(model, theta, tasks, inner_lr=r), r['2.weight'])[0]\n"),
    "Q4 memory per inner step": (
        "t = np.arange(1.0, 6.0)\n"
        "m = np.array([maml.meta_gradient_memory(int(k)) for k in t]) * 1e-6\n"
        "mb_per_step = float(np.cov(t, m, bias=True)[0, 1] / np.var(t))\n"),
    "Q5 escape from the memory wall": 'answer = " C "',
    "Q6 best start on quadratic tasks": (
        "def best_start(h, c, alpha, T):\n"
        "    return float(np.average(c.numpy(), weights=(h * (1 - alpha * h) ** (2 * T)).numpy()))\n"
        "moves_towards = 'soft'\n"),
}
MULTIPLE_CHOICE = "Q5 escape from the memory wall"

globals().update(answer_tests(NAME, WRONG, ALTERNATIVE, (MULTIPLE_CHOICE,)))
