"""Exercise 09's checks as a student meets them: for every question a plausible wrong answer fails the
visible check, and a correct answer written differently passes it; a wrong multiple-choice letter is
recorded by the self-check and failed only by the key."""

from __future__ import annotations

from exercise_harness import answer_tests

NAME = "09_double_descent"

WRONG = {  # each a mistake a student could plausibly make
    "Q1 min-norm least squares": (  # the normal equations: singular as soon as n < d
        "def min_norm(X, y):\n"
        "    return torch.linalg.solve(X.T @ X, X.T @ y)\n"),
    "Q2 theory curve": (  # drops the −1 of the inverse-Wishart moments
        "def risk_theory(n, d, sigma, beta_norm=1.0):\n"
        "    if n <= d - 2:\n"
        "        return beta_norm**2 * (1 - n / d) + sigma**2 * n / (d - n)\n"
        "    if n >= d + 2:\n"
        "        return sigma**2 * d / (n - d)\n"
        "    return math.inf\n"),
    "Q3 optimal ridge": "lam_q3 = 0.8**2 / 2.0**2  # σ²/‖β‖², forgetting d",
    "Q4 the peak when the data double": 'answer_q4 = "a"',
    "Q5 more data near the threshold": 'answer_q5 = "a"',
    "Q6 equalized step sizes": (  # divides by the scale, not its square
        "def equalized_step(theta, X, y, scale, lr):\n"
        "    return theta - lr / scale * (X.T @ (X @ theta - y)) / len(y)\n"),
}
ALTERNATIVE = {  # correct, written differently from the solution
    "Q1 min-norm least squares": (
        "def min_norm(X, y):\n"
        "    return torch.linalg.pinv(X) @ y\n"),
    "Q2 theory curve": (
        "def risk_theory(n, d, sigma, beta_norm=1.0):\n"
        "    if abs(n - d) < 2:\n"
        "        return float('inf')\n"
        "    variance = sigma**2 * (n / (d - n - 1) if n < d else d / (n - d - 1))\n"
        "    return variance + (beta_norm**2 * (d - n) / d if n < d else 0.0)\n"),
    "Q3 optimal ridge": "lam_q3 = 300 * 0.8**2 / 2.0**2",
    "Q4 the peak when the data double": 'answer_q4 = "B"',
    "Q5 more data near the threshold": 'answer_q5 = "c "',
    "Q6 equalized step sizes": (
        "def equalized_step(theta, X, y, scale, lr):\n"
        "    residual = X @ theta - y\n"
        "    grad = X.T @ residual / X.shape[0]\n"
        "    return theta - (lr * scale**-2) * grad\n"),
}
CHOICE = ("Q4 the peak when the data double", "Q5 more data near the threshold")

globals().update(answer_tests(NAME, WRONG, ALTERNATIVE, CHOICE))
