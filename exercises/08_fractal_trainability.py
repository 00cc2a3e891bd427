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
# > Work in your own copy (`mlcourse start 08` makes one in `work/` and opens it), and grade the
# > whole notebook from a terminal with `mlcourse grade work/08_fractal_trainability.ipynb`.

# %% [markdown]
# # 08 · Fractal trainability — exercises
# Six graded questions: rebuild the pieces of the picture (the convergence measure, the boundary, a
# box count), predict where the boundary starts, explain its flat part, and turn a minibatch into a
# weighted full batch. The network is lecture 08's: width 8, tanh, 72 points.

# %%
import math

import numpy as np
import torch

import mlcourse
from mlcourse import fractal as fr
from mlcourse.grading import check, one_of

device = mlcourse.setup()
problem = fr.make_problem(8, seed=0)
cpu = torch.device("cpu")

# %% [markdown]
# ### Q1 · The convergence measure
# Write `measure(losses)` for a loss curve `losses` [..., steps] → [...]: set non-finite losses to
# `1e6`, divide by the first loss, clip at `1e6` to get $v$. If the mean of the last 20 $v$ is below 1
# the value is $-\sum v$, otherwise $\sum 1/v$.

# %% mlcourse={"answer": "measure"}
def measure(losses: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
curves = torch.stack([fr.train_losses(problem, 1.0, lr_out, steps=60) for lr_out in (10.0, 60.0, 300.0)])
odd = torch.rand(4, 30, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 3
odd[1, 7:] = float("inf")  # overflowed: counts as 1e6 before normalising
odd[2, 1:] = 1e9  # finite but beyond the clip
odd[3, 1:10] = 5 * odd[3, 0]  # a bump early on ...
odd[3, -20:] = odd[3, 0] * torch.linspace(1.5, 0.2, 20)  # ... and the last 20 average below the start
with check("Q1 convergence measure", hint="Follow the order of the sentence: replace, normalise, clip, "
           "then decide on the last 20 values only."):
    assert torch.allclose(measure(curves), fr.convergence_measure(curves), rtol=1e-12)
    assert torch.allclose(measure(odd), fr.convergence_measure(odd), rtol=1e-12)


# %% [markdown]
# ### Q2 · The boundary
# Write `boundary(values)` for a grid `values` [R, R] → a bool tensor [R − 1, R − 1] that is `True`
# where the 2×2 block with top-left corner (i, j) contains both a negative and a positive value.

# %% mlcourse={"answer": "boundary"}
def boundary(values: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
grid = fr.trainability_grid(problem, (3.0, 4.0), (1.1, 1.5), resolution=32, device=cpu)
with check("Q2 boundary mask", hint="Stack the four corners of every block; what must be true of their "
           "smallest and largest value?"):
    assert torch.equal(boundary(grid), fr.boundary_mask(grid))


# %% [markdown]
# ### Q3 · Counting boxes
# Write `count_boxes(mask, s)`: tile the bool image `mask` with s×s boxes starting at the top-left
# corner (boxes at the right and bottom edges may be cut off: they count like the others) and return
# how many boxes contain at least one `True` pixel.

# %% mlcourse={"answer": "count_boxes"}
def count_boxes(mask: np.ndarray, s: int) -> int:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
edges = np.asarray(fr.boundary_mask(grid))  # 31 × 31: the boxes at the edges are cut off
edges_t = edges.T.copy()
with check("Q3 box counting", hint="Step over the box corners with stride s; a slice past the edge is "
           "simply shorter."):
    for m in (edges, edges_t):
        assert [count_boxes(m, s) for s in (2, 4, 8, 16)] == list(fr.box_counts(m, np.array([2, 4, 8, 16])))


# %% [markdown]
# ### Q4 · Where the boundary starts
# With a tiny input-layer rate only $W_1$ learns. The loss is then quadratic in $W_1$: compute its
# Hessian's largest eigenvalue $\lambda_{\max}$ at the initial weights and set `log_edge` to
# $\log_{10}$ of the output-layer rate at which gradient descent starts to diverge.

# %% mlcourse={"answer": "H,hessian,log_edge"}
# YOUR CODE HERE: replace each ... with your answer
log_edge = ...


# %% tags=["check"]
with check("Q4 the small-input-rate edge", hint="ŷ = H W₁ / w is linear in W₁: write the loss as a quadratic "
           "in W₁ (mind the mean and the square). Then ask when one GD step on f(x) = λx²/2 makes |x| grow."):
    lo, hi, res = log_edge - 0.25, log_edge + 0.25, 41
    strip = fr.trainability_grid(problem, (-3.0, -2.0), (lo, hi), resolution=res, device=cpu)
    diverged = (strip[:, 0] >= 0).nonzero()
    assert len(diverged) > 0 and (strip[: diverged[0], 0] < 0).all()
    assert abs(lo + (hi - lo) * (diverged[0].item() - 0.5) / (res - 1) - log_edge) < 0.02

# %% [markdown]
# ### Q5 · Why can't the input layer blow up the loss?
# With tanh and a small output-layer rate, the lecture's grid trains for every input-layer rate up to
# $10^6$. Why? Set `answer` to one letter.
#
# - a) the hidden activations $\tanh(\cdot)$ stay in $[-1, 1]$, so $\hat y = H W_1 / w$ stays bounded while $W_1$ barely moves
# - b) the gradient with respect to $W_0$ is exactly zero at initialisation
# - c) the mean-field scaling divides the input-layer rate by the width

# %% mlcourse={"answer": "answer"}
# YOUR CODE HERE: replace each ... with your answer
answer = ...


# %% tags=["check"]
with check("Q5 bounded hidden layer", hint="Two of the options are claims you can test in one line each "
           "(a gradient at the initial weights; the formula for Z). Rule them out first.", recorded=True):
    one_of(answer, "abc")


# %% [markdown]
# ### Q6 · A minibatch is a weighted full batch
# The paper's minibatch variant draws `batch_size` indices with replacement each step. Its gradient is
# the gradient of the *full-batch* loss with each point weighted by how often it was drawn. Write
# `minibatch_weights(idx, n)` for one step's indices `idx` [m] → weights [n] (float64) such that
# $\frac1m \sum_k \ell(x_{\text{idx}_k}) = \frac1n \sum_i \text{weight}_i\, \ell(x_i)$ for any per-point loss $\ell$.

# %% mlcourse={"answer": "minibatch_weights"}
def minibatch_weights(idx: torch.Tensor, n: int) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError()



# %% tags=["check"]
with check("Q6 minibatch weights", hint="Count how often each point was drawn, then choose the factor "
           "that makes the two means equal for a loss that is 1 on every point."):
    idx = fr.minibatches(problem.n_points, 16, 1, seed=3)[0]
    per_point = ((torch.tanh(math.sqrt(2) * problem.X @ problem.W0 / math.sqrt(problem.width))
                  @ problem.W1 / problem.width - problem.Y) ** 2).squeeze(1)
    for draw in (idx, torch.tensor([5, 5, 9])):  # the second draws point 5 twice
        assert torch.allclose(per_point[draw].mean(), (minibatch_weights(draw, problem.n_points) * per_point).mean())

