# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# > **Exercises.** Replace each `...` and each `raise NotImplementedError()` with your answer, then run
# > the check cell below it: ✓, or ✗ with a hint. *Run All* runs every check, answered or not.
# > Work in your own copy (`mlcourse start 00` makes one in `work/` and opens it), and grade the
# > whole notebook from a terminal with `mlcourse grade work/00_start_here.ipynb`.

# %% [markdown]
# # 00 · Start here — exercises
# Three warm-up questions to try the grading loop: answer, run the check cell, read ✓ or ✗.
# All three are about gradient descent on $f(w) = \tfrac{h}{2} w^2$, where one step maps
# $w \mapsto (1 - \eta h)\, w$.

# %%
import math

import mlcourse
from mlcourse.grading import check, one_of

device = mlcourse.setup()


def converges(eta: float, h: float) -> bool:
    """Does GD with learning rate eta converge on f(w) = h w^2 / 2? (|1 - eta h| < 1)"""
    return abs(1.0 - eta * h) < 1.0


# %% [markdown]
# ### Q1 · The largest stable learning rate
# For curvature `h = 4.0`, set `eta_max` to the supremum of learning rates for which GD converges.

# %% mlcourse={"answer": "eta_max"}
h = 4.0
# YOUR CODE HERE: replace each ... with your answer
eta_max = ...


# %% tags=["check"]
with check("Q1 largest stable learning rate", hint="A step multiplies w by (1 - eta h); when does that shrink |w|?"):
    assert converges(0.999 * eta_max, h) and not converges(1.001 * eta_max, h)


# %% [markdown]
# ### Q2 · Steps to a tolerance
# Write `steps_to_tolerance(eta, h, w0=1.0, tol=1e-6)`: the number of GD steps until $|w_t| < $ `tol`
# for the first time (0 if $|w_0|$ is already below it). Assume GD converges.

# %% mlcourse={"answer": "steps_to_tolerance"}
def steps_to_tolerance(eta: float, h: float, w0: float = 1.0, tol: float = 1e-6) -> int:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
def _closed_form(eta, h, w0=1.0, tol=1e-6):
    if abs(w0) < tol:
        return 0
    return math.ceil(math.log(tol / abs(w0)) / math.log(abs(1.0 - eta * h)) - 1e-12)


with check("Q2 steps to tolerance", hint="Multiply by (1 - eta h) until |w| < tol, counting the steps."):
    for eta, hh in [(0.1, 4.0), (0.45, 4.0), (0.3, 1.0)]:
        assert steps_to_tolerance(eta, hh) == _closed_form(eta, hh)
    assert steps_to_tolerance(0.1, 4.0, w0=1e-7) == 0

# %% [markdown]
# ### Q3 · Grading from the terminal
# Which command grades a whole exercise notebook without modifying it? Set `answer` to one letter.
#
# - a) `pytest exercises/00_start_here.ipynb`
# - b) `mlcourse grade exercises/00_start_here.ipynb`
# - c) `jupyter nbconvert --execute --inplace exercises/00_start_here.ipynb`

# %% mlcourse={"answer": "answer"}
# YOUR CODE HERE: replace each ... with your answer
answer = ...


# %% tags=["check"]
with check("Q3 the grading command", hint="Only one of them promises to leave your file untouched.", recorded=True):
    one_of(answer, "abc")

