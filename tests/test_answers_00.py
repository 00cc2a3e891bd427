"""Exercise 00's checks as a student meets them: a plausible wrong answer fails the visible check,
a correct answer written differently passes it, and the wrong multiple-choice letter is caught only
by the key (the self-check records it)."""

from __future__ import annotations

from exercise_harness import answer_tests

NAME = "00_start_here"

WRONG = {  # each a mistake a student could plausibly make
    "Q1 largest stable learning rate": "h = 4.0\neta_max = 1.0 / h  # confuses the edge with the optimum",
    "Q2 steps to tolerance": (  # counts one step too many (w checked before the update)
        "def steps_to_tolerance(eta, h, w0=1.0, tol=1e-6):\n"
        "    steps, w = 0, w0\n"
        "    while True:\n"
        "        w, steps = (1.0 - eta * h) * w, steps + 1\n"
        "        if abs(w) < tol:\n"
        "            return steps + 1\n"),
    "Q3 the grading command": 'answer = "c"',
}
ALTERNATIVE = {  # correct, written differently from the solution
    "Q1 largest stable learning rate": "h = 4.0\neta_max = 0.5",
    "Q2 steps to tolerance": (
        "import math\n"
        "def steps_to_tolerance(eta, h, w0=1.0, tol=1e-6):\n"
        "    t = 0\n"
        "    while abs(w0 * (1 - eta * h) ** t) >= tol:\n"
        "        t += 1\n"
        "    return t\n"),
    "Q3 the grading command": 'answer = " B "',
}

globals().update(answer_tests(NAME, WRONG, ALTERNATIVE, ("Q3 the grading command",)))
