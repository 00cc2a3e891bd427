"""Exercise 07's checks as a student meets them: for every question a plausible wrong answer fails the
visible check, and a correct answer written differently passes it; the wrong multiple-choice letter
is recorded by the self-check and failed only by the key."""

from __future__ import annotations

from exercise_harness import answer_tests

NAME = "07_optimizer_zoo"

WRONG = {  # each a mistake a student could plausibly make
    "Q1 Adam's step": (  # ε under the square root, as in the seed's AdaGrad
        "def adam_step(w, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):\n"
        "    b1, b2 = betas\n"
        "    t = state.get('t', 0) + 1\n"
        "    m = b1 * state.get('m', torch.zeros_like(w)) + (1 - b1) * grad\n"
        "    v = b2 * state.get('v', torch.zeros_like(w)) + (1 - b2) * grad**2\n"
        "    return w - lr * (m / (1 - b1**t)) / torch.sqrt(v / (1 - b2**t) + eps), {'t': t, 'm': m, 'v': v}\n"),
    "Q2 AdamW vs L2": 'answer_q2 = "c"',
    "Q3 Hutchinson": (  # averages |v ⊙ Av| = |Av|, as AdaHessian's released code
        "def hutchinson(matvec, n, samples, generator):\n"
        "    total = torch.zeros(n, dtype=F64)\n"
        "    for _ in range(samples):\n"
        "        v = torch.randint(0, 2, (n,), generator=generator).to(F64) * 2 - 1\n"
        "        total += (v * matvec(v)).abs()\n"
        "    return total / samples\n"),
    "Q4 Hyperband brackets": (  # s_max from a floating-point logarithm
        "def bracket_sizes(R, eta):\n"
        "    s_max = int(math.log(R, eta))\n"
        "    return [[math.ceil((s_max + 1) * eta**s / (s + 1)) // eta**i for i in range(s + 1)]\n"
        "            for s in range(s_max, -1, -1)]\n"),
    "Q5 expected improvement": (  # forgets the exploration term σφ(z)
        "def ei(mu, sigma, best):\n"
        "    z = (best - mu) / sigma\n"
        "    return (best - mu) * torch.special.ndtr(z)\n"),
    "Q6 recombination weights": (  # linear instead of logarithmic in the rank
        "def recombination(lam):\n"
        "    mu = lam // 2\n"
        "    w = torch.arange(mu, 0, -1, dtype=F64)\n"
        "    w = w / w.sum()\n"
        "    return w, float(1 / (w**2).sum())\n"),
    "Q7 the rate of one mode": (  # forgets the momentum: gradient descent's |1 − ηλ|
        "def mode_rate(lr, beta, lam):\n"
        "    return abs(1 - lr * lam)\n"),
}
ALTERNATIVE = {  # correct, written differently from the solution
    "Q1 Adam's step": (  # Kingma & Ba's efficient form: bias corrections folded into η and ε
        "import math\n"
        "def adam_step(w, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):\n"
        "    t, m, v = state.get('state', (0, 0 * w, 0 * w))\n"
        "    t += 1\n"
        "    m = betas[0] * m + (1 - betas[0]) * grad\n"
        "    v = betas[1] * v + (1 - betas[1]) * grad * grad\n"
        "    c2 = math.sqrt(1 - betas[1] ** t)\n"
        "    step = lr * c2 / (1 - betas[0] ** t)\n"
        "    return w - step * m / (v.sqrt() + eps * c2), {'state': (t, m, v)}\n"),
    "Q2 AdamW vs L2": 'answer_q2 = " B "',
    "Q3 Hutchinson": (
        "def hutchinson(matvec, n, samples, generator):\n"
        "    out = []\n"
        "    for _ in range(samples):\n"
        "        v = 2 * torch.bernoulli(torch.full((n,), 0.5, dtype=F64), generator=generator) - 1\n"
        "        out.append(v * matvec(v))\n"
        "    return torch.stack(out).mean(0)\n"),
    "Q4 Hyperband brackets": (
        "def bracket_sizes(R, eta):\n"
        "    s_max = max(s for s in range(64) if eta**s <= R)\n"
        "    out = []\n"
        "    for s in reversed(range(s_max + 1)):\n"
        "        n = -(-(s_max + 1) * eta**s // (s + 1))  # integer ceiling\n"
        "        out.append([n // eta**i for i in range(s + 1)])\n"
        "    return out\n"),
    "Q5 expected improvement": (
        "def ei(mu, sigma, best):\n"
        "    normal = torch.distributions.Normal(torch.zeros((), dtype=F64), torch.ones((), dtype=F64))\n"
        "    z = (best - mu) / sigma\n"
        "    return sigma * (z * normal.cdf(z) + normal.log_prob(z).exp())\n"),
    "Q6 recombination weights": (
        "import numpy as np\n"
        "def recombination(lam):\n"
        "    ranks = np.arange(1, lam // 2 + 1)\n"
        "    w = np.log(lam / 2 + 0.5) - np.log(ranks)\n"
        "    w /= w.sum()\n"
        "    return torch.from_numpy(w), 1.0 / float(np.sum(w**2))\n"),
    "Q7 the rate of one mode": (  # the roots of the characteristic polynomial, by hand
        "import cmath\n"
        "def mode_rate(lr, beta, lam):\n"
        "    tr = 1 + beta - lr * lam\n"
        "    root = cmath.sqrt(tr * tr - 4 * beta)\n"
        "    return max(abs((tr + root) / 2), abs((tr - root) / 2))\n"),
}

globals().update(answer_tests(NAME, WRONG, ALTERNATIVE, ("Q2 AdamW vs L2",)))
