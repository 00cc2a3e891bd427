"""Exercise 02's checks as a student meets them: for every question a plausible wrong answer fails the
visible check, a correct answer written differently passes it, and a wrong multiple-choice answer is
recorded by the self-check and failed only by the key."""

from __future__ import annotations

from exercise_harness import answer_tests

NAME = "02_evidence_estimation"

WRONG = {  # each a mistake a student could plausibly make
    "Q1 the bound from H": (  # the two-term Taylor series instead of the bound
        "def entropy_bound(H, lr):\n"
        "    return float(-lr * torch.trace(H) - lr**2 / 2 * torch.trace(H @ H))\n"),
    "Q2 the single-probe estimator": (  # the authors' form with J r and J² r: two products, not one
        "def one_probe(hvp, r, lr):\n"
        "    Jr = r - lr * hvp(r)\n"
        "    JJr = Jr - lr * hvp(Jr)\n"
        "    return r @ (-2 * r + 3 * Jr - JJr)\n"),
    "Q3 the validity limit for this H": "c_star = ev.BOUND_LIMIT  # the per-eigenvalue limit, not this H's",
    "Q4 the early-stopping step": (  # the population standard deviation (divides by r, not r - 1)
        "def early_stopping_step(evidence_runs):\n"
        "    step = int(evidence_runs.mean(1).argmax())\n"
        "    return step, float(evidence_runs[step].std(unbiased=False) / evidence_runs.shape[1] ** 0.5)\n"),
    "Q5 the slides' formula": 'answer = "b"',
}
ALTERNATIVE = {  # correct, written differently from the solution
    "Q1 the bound from H": (  # through the eigenvalues
        "def entropy_bound(H, lr):\n"
        "    lam = torch.linalg.eigvalsh(H)\n"
        "    return float((-lr * lam - (lr * lam) ** 2).sum())\n"),
    "Q2 the single-probe estimator": (
        "def one_probe(hvp, r, lr):\n"
        "    Hr = hvp(r)\n"
        "    return -lr * torch.dot(r, Hr) - lr**2 * torch.dot(Hr, Hr)\n"),
    "Q3 the validity limit for this H": (  # a fine scan instead of bisection
        "import numpy as np\n"
        "with warnings.catch_warnings():\n"
        "    warnings.simplefilter('ignore', RuntimeWarning)\n"
        "    grid = np.arange(0.60, 0.80, 1e-4)\n"
        "    ok = [ev.logdet_step_bound(H, c / lam_max) <= ev.logdet_step_exact(H, c / lam_max) for c in grid]\n"
        "c_star = float(grid[np.nonzero(ok)[0].max()])\n"),
    "Q4 the early-stopping step": (
        "def early_stopping_step(evidence_runs):\n"
        "    std, mean = torch.std_mean(evidence_runs, dim=1)\n"
        "    step = int(torch.argmax(mean).item())\n"
        "    return step, std[step].item() / evidence_runs.shape[1] ** 0.5\n"),
    "Q5 the slides' formula": 'answer = " C"',
}
MC = "Q5 the slides' formula"

globals().update(answer_tests(NAME, WRONG, ALTERNATIVE, (MC,)))
