"""Exercise 01's checks as a student meets them: for every question a plausible wrong answer fails the
visible check, a correct answer written differently passes it, and a wrong multiple-choice answer is
recorded by the self-check and failed only by the key."""

from __future__ import annotations

from exercise_harness import FAIL, answer_tests, check_lines

NAME = "01_hyperparameters_vs_metaparameters"

WRONG = {  # each a mistake a student could plausibly make
    "Q1 log evidence": (  # counts the degree, not the number of basis functions (D/2 ln α → (D-1)/2 ln α)
        "def log_evidence(Phi, t, alpha, beta):\n"
        "    N, D = Phi.shape\n"
        "    A = alpha * torch.eye(D, dtype=Phi.dtype) + beta * Phi.T @ Phi\n"
        "    m = beta * torch.linalg.solve(A, Phi.T @ t)\n"
        "    E = beta / 2 * ((t - Phi @ m) ** 2).sum() + alpha / 2 * m @ m\n"
        "    return float((D - 1) / 2 * math.log(alpha) + N / 2 * math.log(beta) - E\n"
        "                 - torch.logdet(A) / 2 - N / 2 * math.log(2 * math.pi))\n"),
    "Q2 re-estimation step": (  # forgets γ in the noise update: 1/β = |r|² / N
        "def reestimate_step(Phi, t, alpha, beta):\n"
        "    lam = beta * torch.linalg.eigvalsh(Phi.T @ Phi)\n"
        "    gamma = float((lam / (alpha + lam)).sum())\n"
        "    m = hp.posterior(Phi, t, alpha, beta)[0]\n"
        "    return gamma / float(m @ m), len(t) / float(((t - Phi @ m) ** 2).sum()), gamma\n"),
    "Q3 classify": 'answer = "hmmm"',  # the declared structural prior called a metaparameter
    "Q4 temperature": 'answer_tau = "a"',
    "Q5 grid vs random": (  # floor instead of ceiling: one evaluation short of 90 %
        "LO, HI, TOL = -12.0, 4.0, 0.05\n"
        "k_grid = math.ceil((HI - LO) / (2 * TOL)) + 1\n"
        "n_random_90 = math.floor(math.log(0.1) / math.log(1 - 2 * TOL / (HI - LO)))\n"),
    "Q6 distinct values": "distinct_grid, distinct_random = 20, 20",
}
ALTERNATIVE = {  # correct, written differently from the solution
    "Q1 log evidence": (  # the N×N Gaussian marginal instead of PRML 3.86
        "def log_evidence(Phi, t, alpha, beta):\n"
        "    C = torch.eye(len(t), dtype=Phi.dtype) / beta + Phi @ Phi.T / alpha\n"
        "    return float(torch.distributions.MultivariateNormal(torch.zeros_like(t), C).log_prob(t))\n"),
    "Q2 re-estimation step": (
        "def reestimate_step(Phi, t, alpha, beta):\n"
        "    A = alpha * torch.eye(Phi.shape[1], dtype=Phi.dtype) + beta * Phi.T @ Phi\n"
        "    m = beta * torch.linalg.solve(A, Phi.T @ t)\n"
        "    gamma = float(Phi.shape[1] - alpha * torch.trace(torch.linalg.inv(A)))\n"
        "    return gamma / float(m @ m), (len(t) - gamma) / float(((t - Phi @ m) ** 2).sum()), gamma\n"),
    "Q3 classify": 'answer = " HMMH "',
    "Q4 temperature": 'answer_tau = "C"',
    "Q5 grid vs random": (
        "LO, HI, TOL = -12.0, 4.0, 0.05\n"
        "k_grid = next(k for k in range(2, 1000) if (HI - LO) / (k - 1) / 2 <= TOL)\n"
        "n_random_90 = next(n for n in range(1, 5000) if (1 - 2 * TOL / (HI - LO)) ** n <= 0.1)\n"),
    "Q6 distinct values": "distinct_grid = len(hp.grid_points(-12.0, 4.0, 20))\ndistinct_random = 20 * 20",
}

globals().update(answer_tests(NAME, WRONG, ALTERNATIVE, ("Q3 classify", "Q4 temperature")))


def test_a_badly_formed_classification_says_what_form_is_expected() -> None:
    line = check_lines(NAME, {"Q3 classify": 'answer = "hm"'})["Q3 classify"]
    assert line.startswith(f"{FAIL} Q3 classify — the answer is four letters"), line
