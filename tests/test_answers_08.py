"""Exercise 08's checks as a student meets them: a plausible wrong answer fails the visible check,
a correct answer written differently passes it, and the wrong multiple-choice letter is caught only
by the key (the self-check records it)."""

from __future__ import annotations

from exercise_harness import FAIL, answer_tests, check_lines

NAME = "08_fractal_trainability"

WRONG = {  # each a mistake a student could plausibly make
    "Q1 convergence measure": (  # averages the whole curve instead of the last 20 values
        "def measure(losses):\n"
        "    v = torch.where(torch.isfinite(losses), losses, torch.full_like(losses, 1e6))\n"
        "    v = (v / v[..., :1]).clamp(max=1e6)\n"
        "    converged = v.mean(-1) < 1\n"
        "    return torch.where(converged, -v.sum(-1), (1 / v).sum(-1))\n"),
    "Q2 boundary mask": (  # looks only at horizontal neighbours
        "def boundary(values):\n"
        "    a, b = values[:-1, :-1], values[:-1, 1:]\n"
        "    return a * b < 0\n"),
    "Q3 box counting": (  # forgets the boxes cut off by the right and bottom edges
        "def count_boxes(mask, s):\n"
        "    R, C = mask.shape\n"
        "    return sum(bool(mask[i:i + s, j:j + s].any())\n"
        "               for i in range(0, R - s + 1, s) for j in range(0, C - s + 1, s))\n"),
    "Q4 the small-input-rate edge": (  # drops the factor 2 of the Hessian of a mean of squares
        "H = torch.tanh(math.sqrt(2) * problem.X @ problem.W0 / math.sqrt(problem.width))\n"
        "hessian = H.T @ H / (problem.n_points * problem.width**2)\n"
        "log_edge = math.log10(2 / torch.linalg.eigvalsh(hessian).max().item())\n"),
    "Q5 bounded hidden layer": 'answer = "c"',
    "Q6 minibatch weights": (  # marks the drawn points but ignores repeats
        "def minibatch_weights(idx, n):\n"
        "    w = torch.zeros(n, dtype=torch.float64)\n"
        "    w[idx] = n / len(idx)\n"
        "    return w\n"),
}
MORE_WRONG = {  # a second plausible mistake for the questions where two are common
    "Q1 convergence measure": (  # normalises before replacing the non-finite losses
        "def measure(losses):\n"
        "    v = losses / losses[..., :1]\n"
        "    v = torch.where(torch.isfinite(v), v, torch.full_like(v, 1e6)).clamp(max=1e6)\n"
        "    converged = v[..., -20:].mean(-1) < 1\n"
        "    return torch.where(converged, -v.sum(-1), (1 / v).sum(-1))\n"),
    "Q4 the small-input-rate edge": (  # GD on a quadratic diverges past 1/λ, says the student
        "H = torch.tanh(math.sqrt(2) * problem.X @ problem.W0 / math.sqrt(problem.width))\n"
        "hessian = 2 * H.T @ H / (problem.n_points * problem.width**2)\n"
        "log_edge = math.log10(1 / torch.linalg.eigvalsh(hessian).max().item())\n"),
    "Q6 minibatch weights": (  # counts without rescaling
        "def minibatch_weights(idx, n):\n"
        "    return torch.bincount(idx, minlength=n).double()\n"),
}
ALTERNATIVE = {  # correct, written differently from the solution
    "Q1 convergence measure": (
        "def measure(losses):\n"
        "    v = losses.clone()\n"
        "    v[~torch.isfinite(v)] = 1e6\n"
        "    v = torch.minimum(v / v[..., [0]], torch.tensor(1e6, dtype=v.dtype))\n"
        "    tail = v[..., v.shape[-1] - 20:].mean(-1)\n"
        "    return torch.where(tail < 1, -v.sum(-1), v.reciprocal().sum(-1))\n"),
    "Q2 boundary mask": (
        "def boundary(values):\n"
        "    s = torch.sign(values)\n"
        "    corners = [s[:-1, :-1], s[1:, :-1], s[:-1, 1:], s[1:, 1:]]\n"
        "    pos = sum((c > 0).int() for c in corners)\n"
        "    return (pos > 0) & (pos < 4)\n"),
    "Q3 box counting": (
        "def count_boxes(mask, s):\n"
        "    R, C = mask.shape\n"
        "    padded = np.zeros((-(-R // s) * s, -(-C // s) * s), bool)\n"
        "    padded[:R, :C] = mask\n"
        "    return int(padded.reshape(padded.shape[0] // s, s, -1, s).any(axis=(1, 3)).sum())\n"),
    "Q4 the small-input-rate edge": (
        "A = fr.activation(problem.X @ problem.W0 / problem.width**0.5) / problem.width\n"
        "lam = 2 * torch.linalg.svdvals(A)[0] ** 2 / problem.n_points\n"
        "log_edge = math.log10(2) - math.log10(lam)\n"),
    "Q5 bounded hidden layer": 'answer = " A "',
    "Q6 minibatch weights": (
        "def minibatch_weights(idx, n):\n"
        "    w = torch.zeros(n, dtype=torch.float64)\n"
        "    for i in idx.tolist():\n"
        "        w[i] += 1\n"
        "    return w * n / len(idx)\n"),
}

globals().update(answer_tests(NAME, WRONG, ALTERNATIVE, ("Q5 bounded hidden layer",)))


def test_the_visible_checks_reject_a_second_common_mistake() -> None:
    lines = check_lines(NAME, MORE_WRONG)
    for q in MORE_WRONG:
        assert lines[q].startswith(f"{FAIL} {q} — hint:"), lines[q]
