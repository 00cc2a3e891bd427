"""Exercise 05's checks as a student meets them: for every question a plausible wrong answer fails
the visible check, a correct answer written differently passes it, and a wrong multiple-choice
letter is recorded by the self-check and failed only by the key."""

from __future__ import annotations

import pytest

from exercise_harness import FAIL, PASS, RECORDED, check_lines

NAME = "05_hypernetworks"

WRONG = {  # each a mistake a student could plausibly make
    "Q1 ridge best response": (  # drops the 1/n of the mean
        "def ridge_best_response(X, y, log_lam):\n"
        "    d = X.shape[1]\n"
        "    return torch.linalg.solve(X.T @ X + np.exp(log_lam) * torch.eye(d, dtype=X.dtype), X.T @ y)\n"),
    "Q2 hypervolume": (  # forgets that points outside the reference box add nothing
        "def hypervolume(points, ref=(1.0, 1.0)):\n"
        "    p = np.asarray(points, dtype=float)\n"
        "    p = p[np.argsort(p[:, 0])]\n"
        "    area, level = 0.0, ref[1]\n"
        "    for f1, f2 in p:\n"
        "        if f2 < level:\n"
        "            area += (ref[0] - f1) * (level - f2)\n"
        "            level = f2\n"
        "    return float(area)\n"),
    "Q3 STN weight": (  # one scalar for the whole matrix instead of one per row
        "def stn_weight(W_elem, W_hyper, V, lam):\n"
        "    return W_elem + (V @ lam).sum() * W_hyper\n"),
    "Q4 what an STN cannot tune": 'answer = "a"',
    "Q5 linear scalarisation on a concave front": (  # the maximiser instead of the minimiser
        "ls_point = front[H.linear_scalarization(front, r).argmax()]\n"
        'answer5 = "a"\n'),
    "Q6 non-uniformity": (  # forgets to normalise r ⊙ f
        "def non_uniformity(f, ray):\n"
        "    rf = ray * f\n"
        "    return (rf * torch.log(len(f) * rf)).sum()\n"),
}
ALTERNATIVE = {  # correct, written differently from the solution
    "Q1 ridge best response": (  # least squares on the augmented system [X/√n; √(e^λ) I] w = [y/√n; 0]
        "def ridge_best_response(X, y, log_lam):\n"
        "    n, d = X.shape\n"
        "    A = torch.cat([X / n ** 0.5, np.exp(log_lam / 2) * torch.eye(d, dtype=X.dtype)])\n"
        "    b = torch.cat([y / n ** 0.5, torch.zeros(d, dtype=X.dtype)])\n"
        "    return torch.linalg.lstsq(A, b[:, None], driver='gelsd').solution[:, 0]\n"),
    "Q2 hypervolume": (  # sweep in the other order: by the second loss
        "def hypervolume(points, ref=(1.0, 1.0)):\n"
        "    inside = [(a, b) for a, b in np.asarray(points, dtype=float) if a < ref[0] and b < ref[1]]\n"
        "    total, edge = 0.0, ref[0]\n"
        "    for a, b in sorted(inside, key=lambda q: (q[1], q[0])):\n"
        "        if a < edge:\n"
        "            total += (edge - a) * (ref[1] - b)\n"
        "            edge = a\n"
        "    return total\n"),
    "Q3 STN weight": (
        "def stn_weight(W_elem, W_hyper, V, lam):\n"
        "    return W_elem + torch.diag(V @ lam) @ W_hyper\n"),
    "Q4 what an STN cannot tune": 'answer = "B "',
    "Q5 linear scalarisation on a concave front": (
        "values = [float(r @ p) for p in front]\n"
        "ls_point = front[values.index(min(values))]\n"
        'answer5 = " C"\n'),
    "Q6 non-uniformity": (
        "def non_uniformity(f, ray):\n"
        "    p = (ray * f) / torch.dot(ray, f)\n"
        "    return torch.sum(p * (torch.log(p) - torch.log(torch.tensor(1.0 / len(f), dtype=f.dtype))))\n"),
}
RECORDED_QUESTIONS = ("Q4 what an STN cannot tune", "Q5 linear scalarisation on a concave front")


@pytest.fixture(scope="module")
def wrong() -> dict[str, str]:
    return check_lines(NAME, WRONG)


@pytest.mark.parametrize("question", [q for q in WRONG if q != "Q4 what an STN cannot tune"])
def test_the_visible_checks_reject_plausible_wrong_answers(wrong: dict[str, str], question: str) -> None:
    assert wrong[question].startswith(f"{FAIL} {question} — hint:"), wrong[question]


def test_a_wrong_letter_is_recorded_by_the_self_check_and_failed_by_the_key(wrong: dict[str, str]) -> None:
    q4, q5 = RECORDED_QUESTIONS
    assert wrong[q4].startswith(f"{RECORDED} {q4}")
    letters = {q4: WRONG[q4], q5: "ls_point = front[H.linear_scalarization(front, r).argmin()]\nanswer5 = 'b'\n"}
    assert check_lines(NAME, {q5: letters[q5]})[q5].startswith(f"{RECORDED} {q5}")
    keyed = check_lines(NAME, letters, key=True)
    assert keyed[q4].startswith(f"{FAIL} {q4}") and keyed[q5].startswith(f"{FAIL} {q5}")


def test_the_visible_checks_accept_correct_answers_written_differently() -> None:
    lines = check_lines(NAME, ALTERNATIVE)
    for q in ALTERNATIVE:
        expected = RECORDED if q in RECORDED_QUESTIONS else PASS
        assert lines[q].startswith(f"{expected} {q}"), lines[q]
        if expected == PASS:
            assert lines[q] == f"{PASS} {q}", lines[q]
    keyed = check_lines(NAME, {q: ALTERNATIVE[q] for q in RECORDED_QUESTIONS}, key=True)
    assert all(keyed[q].startswith(f"{PASS} {q}") for q in RECORDED_QUESTIONS)
