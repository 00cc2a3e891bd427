"""Bad inputs for every public callable of the topic modules, and how each call answers them.

A *recipe* is a small valid call of one callable (its keyword arguments). A *mutation* replaces one
argument of it with a bad value: NaN or inf in a tensor or a number, a negative or fractional size, a
wrong type, an unavailable device, a non-float dtype (the call must refuse these), or a value the
call may take or refuse (numpy instead of a tensor, the other float dtype, a zero, an empty tensor,
a row less, a trailing singleton dimension). Each answer is classified:

- ``ok``: a value the call may take was taken, and the result is finite and of the documented shape;
- ``clear``: an error raised on purpose by the package (a ``raise`` in ``mlcourse/``) whose message
  names the argument;
- ``cryptic``: any other error (raised inside torch/numpy/Python, or not naming the argument);
- ``silent``: no error, but a value that must be refused was taken, or the result holds NaN/inf,
  or has another shape than the valid call's;
- ``hang``: the call ran past the time limit.

``python tests/bad_inputs.py`` walks every mutation of every recipe and prints the counts by class;
``tests/test_bad_inputs.py`` draws mutations with hypothesis and allows only ``ok`` and ``clear``.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import importlib
import inspect
import linecache
import math
import os
import re
import signal
import sys
import warnings
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import nn

MODULES = ("hyperparams", "evidence", "duality", "maml", "hypernets", "hpo", "memory", "optimizers",
           "search", "double_descent", "fractal")
PACKAGE = Path(importlib.import_module("mlcourse").__file__).parent
TIME_LIMIT_S = 10.0
F64 = torch.float64

# Callables that are not walked, each with its reason.
NOT_WALKED = {
    "maml.main": "the command line that retrains and overwrites the committed checkpoints",
    "hypernets.main": "the command line that retrains and overwrites the cached runs",
    "hpo.main": "the command line that recomputes and overwrites mlcourse/data/hpo_horizons.npz",
    "hypernets.bilevel_diagram": "a fixed picture for the lecture: it takes no arguments",
    "hpo.accumulation_figure": "a fixed picture for the lecture: it takes no arguments",
    **{f"fractal.{name}": f"a frozen record of {made}'s results (not inputs), built by {made}, which is walked"
       for name, made in (("BoxCount", "box_count"), ("DimensionCheck", "dimension_check"), ("Rendered", "load"))},
    "evidence.DegreeSelection": ("a frozen record of select_degree_by_gd_bound's results (not inputs), built by it, "
                                 "which is walked"),
    "fractal.main": "the command line that re-renders and overwrites the cached pictures",
    "fractal.save": "writes mlcourse/data/fractal_<name>.npz, the committed cache (its arguments come from "
                    "render, which is walked)",
}

# Arguments whose names say that a negative value means nothing (a rate, a scale, a tolerance, a
# probability, a count stored as a float): -1 must be refused. Other float arguments may be negative
# (log rates, offsets, bounds, targets).
NONNEGATIVE = re.compile(
    r"^(lr|lr_.*|.*_lr|lrs?|rate|sigma\d?|sigma2|noise|noise_std|prior_std|init_std|alpha|beta|tau|"
    r"eps|tol|x_range|x_var|x_fourth|kappa|xi|condition|theta2|time|ridge|momentum|decay|"
    r"weight_decay|lam|min_angle|slow_scale|max_value|mse1|W|R|hessian_power|p|variance|"
    r"lengthscale|beta_norm|amplitude|center_std)$")
# Integer arguments that may be negative (seeds, fixed-point values).
SIGNED_INT = re.compile(r"^(seed|.*_seed|x|theta|v|target)$")


# --------------------------------------------------------------------------------------- recipes

@functools.cache
def fixtures() -> SimpleNamespace:
    """Small valid inputs, built once (every call gets a deep copy)."""
    from mlcourse import duality, fractal, hpo, hypernets, hyperparams as hp, maml, optimizers, search

    import torch._dynamo  # noqa: F401 - torch.func imports it on first use, slowly: not inside a time limit

    torch.manual_seed(0)
    F = SimpleNamespace()
    gen = lambda seed=0: torch.Generator().manual_seed(seed)  # noqa: E731
    F.gen = gen
    # hyperparams
    F.x, F.t = hp.sine_data(8)
    F.Phi = hp.polynomial_design(F.x, 2)
    F.mean, F.cov = hp.posterior(F.Phi, F.t, 0.5, 10.0)
    x10, F.t10 = hp.sine_data(10)
    F.Phi10 = hp.polynomial_design(x10, 3)  # MacKay's iterations converge from (1, 1) here
    # evidence
    F.H = torch.tensor([[2.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 0.5]], dtype=F64)
    F.r = optimizers.rademacher((4, 3), generator=gen())
    F.Hr = F.r @ F.H
    F.hvp3 = lambda v, H=F.H: H.to(v.dtype) @ v
    A = 0.5 * torch.eye(3, dtype=F64) + 10.0 * F.Phi.T @ F.Phi
    F.elbo_lr = 0.5 / float(torch.linalg.eigvalsh(A).max())
    F.net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)).double()
    F.x2 = torch.randn(8, 2, generator=gen(1), dtype=F64)
    F.y2 = torch.randn(8, generator=gen(2), dtype=F64)
    # duality
    F.keys = torch.randn(5, 3, generator=gen(3))
    F.values = torch.randn(5, 2, generator=gen(4))
    F.queries = torch.randn(4, 3, generator=gen(5))
    F.W0 = torch.randn(2, 3, generator=gen(6))
    F.Xd = torch.randn(6, 3, generator=gen(7))
    F.Yd = torch.randn(6, 2, generator=gen(8))
    F.tasks_icl = duality.icl_regression_tasks(3, dim=2, n_context=4, generator=gen(9))
    F.lsa = duality.LinearSelfAttention(2, generator=gen(10))
    # maml
    F.reg = maml.make_regressor((4,))
    F.params = {n: p.detach() for n, p in F.reg.named_parameters()}
    F.tasks = maml.sinusoid_tasks(2, 3, 3, generator=gen(11))
    F.xs, F.ys = F.tasks[0][0], F.tasks[1][0]
    F.learner = maml.Learner("maml", maml.make_regressor((4,)), 0.01)
    # hypernets
    F.ridge = hypernets.ridge_problem(5, 6, n_val=4)
    F.w6 = torch.randn(6, generator=gen(12), dtype=F64)
    F.hypernet = hypernets.Hypernet(6, hidden=4).double()
    F.stn = hypernets.ridge_stn(6)
    F.x4 = torch.randn(3, 4, generator=gen(13))
    F.front = torch.tensor([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]], dtype=F64)
    F.rays = hypernets.circle_rays(3)
    F.f2 = torch.tensor([0.3, 0.6], dtype=F64)
    F.ray2 = torch.tensor([0.4, 0.6], dtype=F64)
    F.G24 = torch.randn(2, 4, generator=gen(14), dtype=F64)
    F.phn = hypernets.ParetoHypernet(d=4, hidden=5)
    F.hnet = hypernets.TaskHypernet(hidden=5)
    F.thetas = torch.randn(3, hypernets.main_net_size(), generator=gen(15)) * 0.1
    F.test_sets = hypernets.continual_test_sets(5)
    # hpo
    F.ls = hpo.make_problem(d=3, n_train=6, n_val=5)
    F.log_lrs = torch.log(torch.tensor([0.05, 0.05], dtype=F64))
    F.rev_state = lambda: hpo.reversible_unroll(F.ls, F.log_lrs, 4, bits=16)
    F.h, F.s2 = hpo.noisy_quadratic(5)
    F.rdg = hpo.make_ridge(n=4, d=5, n_val=3)
    F.infl = hpo.influence_balancing(5, 2)
    F.tanh = hpo.tanh_regression(n=4, hidden=3)
    F.cplx = hypernets.complexity_problem(5, 4, 2, n_val=3)
    F.h3 = torch.tensor([0.5, 1.0, 2.0], dtype=F64)
    F.c3 = torch.tensor([0.0, 1.0, -1.0], dtype=F64)
    # optimizers
    F.p, F.g = torch.tensor([1.0, 2.0], dtype=F64), torch.tensor([0.5, -0.5], dtype=F64)
    F.pts = torch.tensor([[0.5, 0.5], [-1.0, 1.0], [2.0, 0.0]], dtype=F64)
    F.x0 = torch.tensor([-1.0, 1.0], dtype=F64)
    F.teacher = optimizers.teacher_task(10, 5, dim=3, classes=2, hidden=4)
    F.mlp = optimizers.init_mlp((3, 4, 2))
    F.quad = optimizers.random_quadratics(2, 3, generator=gen(16))
    F.l2o = optimizers.LSTMOptimizer(hidden=3)
    # search
    F.sphere = lambda x: (x ** 2).sum()
    F.bounds = [(-1.0, 1.0), (-1.0, 1.0)]
    F.mu3 = torch.tensor([0.2, -0.1, 0.5], dtype=F64)
    F.sd3 = torch.tensor([0.3, 0.2, 1.0], dtype=F64)
    # double descent
    F.Xl = torch.randn(6, 3, generator=gen(17), dtype=F64)
    F.yl = torch.randn(6, 1, generator=gen(18), dtype=F64)
    # fractal
    F.prob = fractal.make_problem(2)
    F.H_sat = torch.where(torch.randn(6, 2, 3, generator=gen(19)) > 0, 1.0, -1.0).double()
    F.losses21 = torch.linspace(1, 0.5, 21, dtype=F64).repeat(2, 1)
    F.grid3 = torch.tensor([[-1.0, -2.0, 3.0], [-1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], dtype=F64)
    yy, xx = torch.meshgrid(torch.arange(256.0), torch.arange(256.0), indexing="ij")
    F.mask = ((xx - 128) ** 2 + (yy - 128) ** 2 - 100**2).abs() < 150  # a ring: the smallest mask box_count takes
    F.disc = (xx - 128) ** 2 + (yy - 128) ** 2 < 100**2
    F.sizes = fractal.box_sizes(256)
    F.pic = fractal.Picture("tiny", "a tiny window", (-1.0, 0.0), (-1.0, 0.0), steps=21, resolution=3, width=2)
    F.bc = fractal.BoxCount(np.array([2, 4, 8]), np.array([400, 200, 100]), 1.0, np.array([1.0, 1.0]))
    F.xs8, F.ys8 = optimizers.scalar_regression(8)
    F.path3 = optimizers.product_path(F.xs8, F.ys8, (2.0, 0.5), 3, lr=0.1)
    from mlcourse import double_descent
    F.wbeta = double_descent.weak_features_beta(6)
    return F


def _recipes(F: SimpleNamespace) -> dict[str, Callable[[], dict[str, Any]]]:
    """Keyword arguments of one small valid call per callable (arguments left out keep their
    defaults, which are then mutated too)."""
    from mlcourse import duality, fractal, hpo, hypernets, maml, optimizers

    problem = lambda: dict(problem=F.ls)  # noqa: E731
    Xv, yv = F.ridge[2], F.ridge[3]
    return {
        # hyperparams
        "hyperparams.sine_data": lambda: dict(n=6),
        "hyperparams.polynomial_design": lambda: dict(x=F.x, degree=2),
        "hyperparams.posterior": lambda: dict(Phi=F.Phi, t=F.t, alpha=0.5, beta=10.0),
        "hyperparams.log_evidence": lambda: dict(Phi=F.Phi, t=F.t, alpha=0.5, beta=10.0),
        "hyperparams.marginal_log_density": lambda: dict(Phi=F.Phi, t=F.t, alpha=0.5, beta=10.0),
        "hyperparams.predictive": lambda: dict(Phi_star=F.Phi[:4], mean=F.mean, cov=F.cov, beta=10.0),
        "hyperparams.evidence_by_degree": lambda: dict(x=F.x, t=F.t, degrees=[0, 1, 2], alpha=0.5, beta=10.0),
        "hyperparams.evidence_over_alpha": lambda: dict(Phi=F.Phi, t=F.t, ln_alphas=torch.linspace(-3, 3, 5, dtype=F64),
                                                        beta=10.0),
        "hyperparams.best_degree_counts": lambda: dict(n_draws=2, degrees=range(3), n=6),
        "hyperparams.effective_parameters": lambda: dict(Phi=F.Phi, alpha=0.5, beta=10.0),
        "hyperparams.reestimate": lambda: dict(Phi=F.Phi10, t=F.t10, alpha=1.0, beta=1.0),
        "hyperparams.validation_error": lambda: dict(Phi_train=F.Phi, t_train=F.t, Phi_val=F.Phi[::2], t_val=F.t[::2],
                                                     alpha=0.5, beta=10.0),
        "hyperparams.validation_over_alpha": lambda: dict(Phi_train=F.Phi, t_train=F.t, Phi_val=F.Phi[::2],
                                                          t_val=F.t[::2], ln_alphas=torch.linspace(-3, 3, 5, dtype=F64),
                                                          beta=10.0),
        "hyperparams.grid_points": lambda: dict(lo=-1.0, hi=1.0, k=4),
        "hyperparams.random_points": lambda: dict(lo=-1.0, hi=1.0, k=4),
        "hyperparams.search": lambda: dict(objective=lambda c: -(c - 0.3) ** 2,
                                           candidates=torch.linspace(-1, 1, 5, dtype=F64)),
        "hyperparams.running_best": lambda: dict(objective=lambda c: -(c - 0.3) ** 2,
                                                 candidates=torch.linspace(-1, 1, 5, dtype=F64)),
        "hyperparams.evaluations_needed": lambda: dict(path=torch.tensor([0.0, 0.2, 0.29, 0.3], dtype=F64),
                                                       target=0.3, tol=0.05),
        # evidence
        "evidence.logdet_step_exact": lambda: dict(H=F.H, lr=0.1),
        "evidence.logdet_step_bound": lambda: dict(H=F.H, lr=0.1),
        "evidence.probe_bound": lambda: dict(r=F.r, Hr=F.Hr, lr=0.1),
        "evidence.logdet_step_estimate": lambda: dict(hvp=F.hvp3, dim=3, lr=0.1, n_probes=2, generator=F.gen(),
                                                      dtype=F64),
        "evidence.top_eigenvalue": lambda: dict(hvp=F.hvp3, dim=3, iters=5, generator=F.gen(), dtype=F64),
        "evidence.linear_gaussian_elbo": lambda: dict(Phi=F.Phi, t=F.t, alpha=0.5, beta=10.0, lr=F.elbo_lr, steps=3),
        "evidence.diabetes_regression": lambda: dict(n_train=20),
        "evidence.EvidenceTrace": lambda: dict(log_joint=torch.zeros(3, 2, dtype=F64), logdet=torch.zeros(2, 2, dtype=F64),
                                               entropy0=1.0, train_loglik=torch.zeros(3, 2, dtype=F64),
                                               curvature=torch.ones(2, 2, dtype=F64), heldout_loglik=None),
        "evidence.gd_evidence": lambda: dict(model=F.net, x=F.x2, y=F.y2, lr=0.01, steps=2, runs=2),
        # duality
        "duality.linear_attention": lambda: dict(keys=F.keys, values=F.values, queries=F.queries),
        "duality.attention_weights": lambda: dict(keys=F.keys, queries=F.queries),
        "duality.train_linear_layer": lambda: dict(W0=F.W0, X=F.Xd, Y=F.Yd, lr=0.1, batch_size=2),
        "duality.dual_forward": lambda: dict(W0=F.W0, keys=F.keys, values=F.values, x=F.queries),
        "duality.momentum_weights": lambda: dict(n_records=6, momentum=0.5, batch_size=2),
        "duality.momentum_dual_forward": lambda: dict(W0=F.W0, keys=F.keys, values=F.values, x=F.queries, momentum=0.5),
        "duality.momentum_attention": lambda: dict(keys=F.keys, values=F.values, query=F.queries, lam=0.5),
        "duality.icl_regression_tasks": lambda: dict(n_tasks=3, dim=2, n_context=4),
        "duality.gd_step_prediction": lambda: dict(X=F.tasks_icl[0], y=F.tasks_icl[1], x_q=F.tasks_icl[2], lr=1.0),
        "duality.uniform_moments": lambda: dict(),
        "duality.one_step_gd_risk": lambda: dict(lr=1.0),
        "duality.optimal_gd_lr": lambda: dict(),
        "duality.LinearSelfAttention": lambda: dict(dim=2),
        "duality.lsa_loss": lambda: dict(model=F.lsa, X=F.tasks_icl[0], y=F.tasks_icl[1], x_q=F.tasks_icl[2],
                                         y_q=F.tasks_icl[3]),
        "duality.train_lsa": lambda: dict(model=F.lsa, steps=2, batch_size=4, n_context=4),
        "duality.trained_lsa": lambda: dict(),
        "duality.input_gradient_alignment": lambda: dict(model=F.lsa, X=F.tasks_icl[0], y=F.tasks_icl[1],
                                                         x_q=F.tasks_icl[2], lr=1.0),
        "duality.rec2ftp": lambda: dict(y=torch.zeros(6), zero_shot=torch.ones(6), finetuned=torch.full((6,), 0.01),
                                        icl=torch.tensor([0.0, 0, 1, 1, 0, 0]), tol=0.1),
        "duality.sim_aou": lambda: dict(zero_shot=F.queries, finetuned=F.queries + 1, icl=F.queries + 0.5),
        "duality.sim_am": lambda: dict(scores_a=F.queries, scores_b=F.queries + 0.1),
        # maml
        "maml.sinusoid_points": lambda: dict(amplitude=torch.tensor([1.0, 2.0]), phase=torch.tensor([0.0, 1.0]), k=3),
        "maml.sinusoid_tasks": lambda: dict(n_tasks=2, k_support=3, k_query=3),
        "maml.analytic_floors": lambda: dict(),
        "maml.agnostic_coefficient": lambda: dict(),
        "maml.make_regressor": lambda: dict(hidden=(4,)),
        "maml.mse": lambda: dict(model=F.reg, params=F.params, x=F.xs, y=F.ys),
        "maml.adapt": lambda: dict(model=F.reg, params=F.params, x=F.xs, y=F.ys),
        "maml.meta_loss": lambda: dict(model=F.reg, params=F.params, tasks=F.tasks),
        "maml.meta_gradient": lambda: dict(model=F.reg, params=F.params, tasks=F.tasks),
        "maml.es_meta_gradient": lambda: dict(model=F.reg, params=F.params, tasks=F.tasks, n_pairs=2),
        "maml.meta_gradient_memory": lambda: dict(steps=1, meta_batch=2, k_shot=3),
        "maml.Learner": lambda: dict(method="maml", model=F.reg, inner_lr=0.01),
        "maml.pretrain_loss": lambda: dict(model=F.reg, params=F.params, tasks=F.tasks),
        "maml.meta_train": lambda: dict(iterations=1, meta_batch=2, k_shot=3, progress=False),
        "maml.evaluate": lambda: dict(learner=F.learner, n_tasks=3, k_shot=3, steps=(0, 1), n_query=4),
        "maml.checkpoint_path": lambda: dict(method="maml"),
        "maml.pretrained": lambda: dict(method="maml"),
        # hypernets
        "hypernets.ridge_problem": lambda: dict(n=5, d=6, n_val=4),
        "hypernets.train_loss": lambda: dict(X=F.ridge[0], y=F.ridge[1], w=F.w6, log_lam=-1.0),
        "hypernets.validation_loss": lambda: dict(Xval=Xv, yval=yv, w=F.w6),
        "hypernets.best_response": lambda: dict(X=F.ridge[0], y=F.ridge[1], log_lam=-1.0),
        "hypernets.implicit_jacobian": lambda: dict(X=F.ridge[0], y=F.ridge[1], log_lam=-1.0),
        "hypernets.validation_curve": lambda: dict(problem=F.ridge, log_lams=torch.tensor([-2.0, 0.0, 1.0], dtype=F64)),
        "hypernets.Hypernet": lambda: dict(d=6, hidden=4),
        "hypernets.train_global_hypernet": lambda: dict(problem=F.ridge, steps=2, batch=4, hidden=4),
        "hypernets.tune_lambda": lambda: dict(hypernet=F.hypernet, problem=F.ridge, log_lam0=0.0, steps=2),
        "hypernets.exact_hypergradient": lambda: dict(problem=F.ridge, log_lam=0.0),
        "hypernets.approx_hypergradient": lambda: dict(hypernet=F.hypernet, problem=F.ridge, log_lam=0.0),
        "hypernets.STNLinear": lambda: dict(in_features=3, out_features=2, n_hyper=1),
        "hypernets.ridge_stn": lambda: dict(d=6),
        "hypernets.stn_weights": lambda: dict(layer=F.stn, log_lams=torch.tensor([-1.0, 0.0], dtype=F64)),
        "hypernets.train_local_hypernet": lambda: dict(problem=F.ridge, center=0.0, sigma=0.5, steps=2, batch=4),
        "hypernets.gaussian_entropy": lambda: dict(sigma=torch.tensor([0.5, 1.0], dtype=F64)),
        "hypernets.stn_search": lambda: dict(problem=F.ridge, rounds=2, t_train=1, t_val=1),
        "hypernets.pareto_toy_losses": lambda: dict(x=F.x4),
        "hypernets.pareto_front": lambda: dict(n_points=5),
        "hypernets.hypervolume_2d": lambda: dict(points=F.front),
        "hypernets.circle_rays": lambda: dict(k=3),
        "hypernets.ray_front_point": lambda: dict(ray=F.ray2),
        "hypernets.linear_scalarization": lambda: dict(f=F.front, ray=F.rays),
        "hypernets.chebyshev_scalarization": lambda: dict(f=F.front, ray=F.rays),
        "hypernets.non_uniformity": lambda: dict(f=F.f2, ray=F.ray2),
        "hypernets.epo_weights": lambda: dict(f=F.f2, G=F.G24, ray=F.ray2),
        "hypernets.epo_search": lambda: dict(ray=F.ray2, x0=F.x4[0], steps=2),
        "hypernets.ParetoHypernet": lambda: dict(d=4, hidden=5),
        "hypernets.train_phn": lambda: dict(steps=2, batch=2),
        "hypernets.phn_front": lambda: dict(phn=F.phn, rays=F.rays),
        "hypernets.continual_tasks": lambda: dict(n=5),
        "hypernets.continual_test_sets": lambda: dict(n=5),
        "hypernets.main_net_size": lambda: dict(),
        "hypernets.main_net": lambda: dict(theta=F.thetas[0], x=F.test_sets[0][0]),
        "hypernets.TaskHypernet": lambda: dict(hidden=5),
        "hypernets.output_regularizer": lambda: dict(hnet=F.hnet, targets=F.thetas[:1], tasks=[0]),
        "hypernets.generated_weights": lambda: dict(hnet=F.hnet),
        "hypernets.continual_mse": lambda: dict(thetas=F.thetas, test_sets=F.test_sets),
        "hypernets.train_continual": lambda: dict(steps=1, hidden=5),
        "hypernets.cache_path": lambda: dict(kind="phn", setting="ls"),
        "hypernets.pretrained_phn": lambda: dict(),
        "hypernets.pretrained_continual": lambda: dict(),
        # hpo
        "hpo.LeastSquares": lambda: dict(x_train=F.ls.x_train, y_train=F.ls.y_train, x_val=F.ls.x_val,
                                         y_val=F.ls.y_val, theta0=F.ls.theta0),
        "hpo.make_problem": lambda: dict(d=3, n_train=6, n_val=5),
        "hpo.window_index": lambda: dict(n_windows=2, T=4),
        "hpo.lr_schedule": lambda: dict(log_lrs=F.log_lrs, T=4),
        "hpo.unroll": lambda: dict(**problem(), log_lrs=F.log_lrs, T=4),
        "hpo.validation_loss": lambda: dict(**problem(), log_lrs=F.log_lrs, T=4),
        "hpo.hypergradient_reverse": lambda: dict(**problem(), log_lrs=F.log_lrs, T=4),
        "hpo.hypergradient_forward": lambda: dict(**problem(), log_lrs=F.log_lrs, T=4),
        "hpo.hypergradient_fd": lambda: dict(**problem(), log_lrs=F.log_lrs, T=4),
        "hpo.naive_reverse_error": lambda: dict(**problem(), log_lrs=F.log_lrs, T=4),
        "hpo.mul_ratio": lambda: dict(x=5, buffer=3, n=9, d=10),
        "hpo.unmul_ratio": lambda: dict(x=5, buffer=3, n=9, d=10),
        "hpo.ReversibleState": lambda: dict(theta=[1, 2], v=[0, 0], buffer=[0, 0], bits=8),
        "hpo.reversible_unroll": lambda: dict(**problem(), log_lrs=F.log_lrs, T=4, bits=16),
        "hpo.reverse_unroll": lambda: dict(**problem(), log_lrs=F.log_lrs, T=4, state=F.rev_state()),
        "hpo.hypergradient_reversible": lambda: dict(**problem(), log_lrs=F.log_lrs, T=4, bits=16),
        "hpo.hypergradient_memory": lambda: dict(method="reverse", T=4, n_windows=2),
        "hpo.learn_schedule": lambda: dict(**problem(), T=4, n_windows=2, horizon=2, meta_steps=1, batch_size=3),
        "hpo.hypergradient_noise": lambda: dict(**problem(), log_lrs=F.log_lrs, T=4, n_seeds=2, batch_size=3),
        "hpo.sharing_bound": lambda: dict(mse1=1.0, eps=0.1, W=4.0),
        "hpo.optimal_window": lambda: dict(mse1=1.0, eps=0.1),
        "hpo.simulate_sharing": lambda: dict(T=8, W=2, trials=10),
        "hpo.noisy_quadratic": lambda: dict(d=5),
        "hpo.nqm_losses": lambda: dict(lrs=np.full(3, 0.5), h=F.h, sigma2=F.s2),
        "hpo.greedy_schedule": lambda: dict(h=F.h, sigma2=F.s2, T=3),
        "hpo.two_stage_loss": lambda: dict(lr1=0.5, lr2=0.1, switch=2, h=F.h, sigma2=F.s2, T=4),
        "hpo.best_two_stage": lambda: dict(h=F.h, sigma2=F.s2, T=4),
        "hpo.Ridge": lambda: dict(x_train=F.rdg.x_train, y_train=F.rdg.y_train, x_val=F.rdg.x_val, y_val=F.rdg.y_val),
        "hpo.make_ridge": lambda: dict(n=4, d=5, n_val=3),
        "hpo.ridge_solution": lambda: dict(problem=F.rdg, log_lam=torch.tensor(0.0, dtype=F64)),
        "hpo.neumann_ihvp": lambda: dict(hvp=lambda z: 0.5 * z, v=torch.tensor([1.0, 2.0], dtype=F64), alpha=1.0, K=3),
        "hpo.hypergradient_ift": lambda: dict(problem=F.rdg, log_lam=torch.tensor(0.0, dtype=F64), K=3),
        "hpo.Influence": lambda: dict(A=F.infl.A, b=F.infl.b),
        "hpo.influence_balancing": lambda: dict(n=5, n_positive=2),
        "hpo.train_truncated": lambda: dict(problem=F.infl, steps=3),
        "hpo.train_es": lambda: dict(problem=F.infl, persistent=True, steps=3, n_particles=4),
        # memory
        "memory.peak_memory": lambda: dict(fn=lambda: torch.ones(1000).sum()),
        # optimizers
        **{f"optimizers.{name}": (lambda: dict(p=F.p, g=F.g, state={}, lr=0.1))
           for name in ("sgd", "adagrad", "rmsprop", "adam", "adamw", "lion", "momentum", "nesterov")},
        "optimizers.adahessian": lambda: dict(p=F.p, g=F.g, state={}, lr=0.1, hess_diag=torch.ones(2, dtype=F64)),
        "optimizers.rademacher": lambda: dict(shape=(3,)),
        "optimizers.hvp": lambda: dict(f=optimizers.rosenbrock, x=F.pts[0], v=torch.tensor([1.0, 0.0], dtype=F64)),
        "optimizers.hutchinson_diag": lambda: dict(matvec=lambda v: 2 * v, n=3, samples=4),
        **{f"optimizers.{name}": (lambda: dict(x=F.pts)) for name in ("rosenbrock", "beale", "rastrigin", "branin")},
        "optimizers.run": lambda: dict(optimizer="sgd", f=optimizers.rosenbrock, x0=F.x0, steps=3, lr=1e-3),
        "optimizers.torch_optim_path": lambda: dict(optimizer_class=torch.optim.SGD, f=optimizers.rosenbrock, x0=F.x0,
                                                    steps=3, lr=1e-3),
        "optimizers.modified_loss": lambda: dict(f=optimizers.rosenbrock, lr=0.01),
        "optimizers.gradient_flow": lambda: dict(f=optimizers.rosenbrock, x0=F.x0, time=0.01, substeps=5),
        "optimizers.forward_gradient": lambda: dict(f=optimizers.rosenbrock, x=F.x0, v=torch.tensor([1.0, 0.5], dtype=F64)),
        "optimizers.forward_gradients": lambda: dict(f=optimizers.rosenbrock, x=F.x0, samples=3),
        "optimizers.forward_gradient_descent": lambda: dict(f=optimizers.rosenbrock, x0=F.x0, steps=3, lr=1e-3),
        "optimizers.teacher_task": lambda: dict(n_train=10, n_test=5, dim=3, classes=2, hidden=4),
        "optimizers.init_mlp": lambda: dict(sizes=(3, 4, 2)),
        "optimizers.mlp_forward": lambda: dict(params=F.mlp, x=F.teacher[0]),
        "optimizers.feedback_matrices": lambda: dict(sizes=(3, 4, 2)),
        "optimizers.layer_updates": lambda: dict(params=F.mlp, x=F.teacher[0], y=F.teacher[1],
                                                 feedback=optimizers.feedback_matrices((3, 4, 2))),
        "optimizers.accuracy": lambda: dict(params=F.mlp, x=F.teacher[0], y=F.teacher[1]),
        "optimizers.train_mlp": lambda: dict(x=F.teacher[0], y=F.teacher[1], x_test=F.teacher[2], y_test=F.teacher[3],
                                             sizes=(3, 4, 2), epochs=1, batch=5),
        "optimizers.random_quadratics": lambda: dict(n=2, dim=3),
        "optimizers.quadratic_loss": lambda: dict(W=F.quad[0], y=F.quad[1], theta=F.quad[2]),
        "optimizers.quadratic_grad": lambda: dict(W=F.quad[0], y=F.quad[1], theta=F.quad[2]),
        "optimizers.LSTMOptimizer": lambda: dict(hidden=3),
        "optimizers.l2o_losses": lambda: dict(model=F.l2o, W=F.quad[0], y=F.quad[1], theta=F.quad[2], steps=2),
        "optimizers.sgd_losses": lambda: dict(lr=0.01, W=F.quad[0], y=F.quad[1], theta=F.quad[2], steps=2),
        "optimizers.tune_sgd": lambda: dict(W=F.quad[0], y=F.quad[1], theta=F.quad[2], steps=2,
                                            lrs=torch.tensor([1e-3, 1e-2])),
        "optimizers.meta_train_l2o": lambda: dict(iterations=1, batch=2, dim=3, unroll=2, horizon=2),
        "optimizers.load_l2o": lambda: dict(),
        # search
        "search.best_so_far": lambda: dict(y=torch.tensor([3.0, 1.0, 2.0], dtype=F64)),
        "search.grid_search": lambda: dict(f=F.sphere, bounds=F.bounds, per_dim=2),
        "search.random_search": lambda: dict(f=F.sphere, bounds=F.bounds, n=3),
        "search.matern52": lambda: dict(A=F.pts, B=F.pts[:2], lengthscale=torch.tensor([0.3, 0.3], dtype=F64),
                                        variance=torch.tensor(1.0, dtype=F64)),
        "search.GP": lambda: dict(log_lengthscale=torch.full((2,), math.log(0.3), dtype=F64),
                                  log_variance=torch.tensor(0.0, dtype=F64),
                                  log_noise=torch.tensor(math.log(1e-4), dtype=F64)),
        "search.expected_improvement": lambda: dict(mu=F.mu3, sigma=F.sd3, best=0.0),
        "search.probability_of_improvement": lambda: dict(mu=F.mu3, sigma=F.sd3, best=0.0),
        "search.lower_confidence_bound": lambda: dict(mu=F.mu3, sigma=F.sd3, best=0.0),
        "search.bayes_opt": lambda: dict(f=F.sphere, bounds=F.bounds, n=4, init=3, candidates=100),
        "search.CMAES": lambda: dict(mean=torch.tensor([0.5, 0.5], dtype=F64), sigma=0.3),
        "search.cma_es": lambda: dict(f=F.sphere, bounds=F.bounds, n=6),
        "search.hyperband_brackets": lambda: dict(R=9.0),
        "search.hyperband": lambda: dict(train=lambda c, r: float(c.sum()) / r,
                                         sample=lambda g: torch.rand(2, generator=g, dtype=F64), R=9.0),
        # double descent
        "double_descent.least_squares": lambda: dict(X=F.Xl, y=F.yl),
        "double_descent.minnorm_risk_theory": lambda: dict(n=5, d=10, sigma=0.5),
        "double_descent.optimal_ridge": lambda: dict(d=10, sigma=0.5),
        "double_descent.ridge_risk_theory": lambda: dict(n=5, d=10, sigma=0.5, ridge=1.0),
        "double_descent.linear_risk": lambda: dict(n=5, d=4, sigma=0.5, trials=2),
        "double_descent.random_relu_features": lambda: dict(X=F.Xl, W=F.Xl[:3].T.contiguous()),
        "double_descent.random_features_curve": lambda: dict(p_values=[2, 4], n_train=5, input_dim=3, n_test=10, draws=2),
        "double_descent.two_scale_problem": lambda: dict(n_train=5, d_fast=3, d_slow=2, slow_scale=0.1, noise=0.5,
                                                         generator=F.gen()),
        "double_descent.epochwise_curve": lambda: dict(epochs=10, n_train=5, d_fast=3, d_slow=2, draws=2, points=4),
        # fractal
        "fractal.Problem": lambda: dict(X=F.prob.X, Y=F.prob.Y, W0=F.prob.W0, W1=F.prob.W1),
        "fractal.make_problem": lambda: dict(width=2),
        "fractal.activation": lambda: dict(z=F.pts),
        "fractal.forward": lambda: dict(W0=F.prob.W0, W1=F.prob.W1, X=F.prob.X),
        "fractal.loss": lambda: dict(W0=F.prob.W0, W1=F.prob.W1, X=F.prob.X, Y=F.prob.Y),
        "fractal.minibatches": lambda: dict(n_points=6, batch_size=2, steps=3),
        "fractal.train_losses": lambda: dict(problem=F.prob, lr_in=0.1, lr_out=0.1, steps=3),
        "fractal.convergence_measure": lambda: dict(losses=F.losses21),
        "fractal.log_grid": lambda: dict(lo=-1.0, hi=1.0, resolution=3),
        "fractal.saturated_losses": lambda: dict(H=F.H_sat, W1=torch.ones(2, 3, dtype=F64),
                                                 lr_out=torch.full((3,), 0.1, dtype=F64),
                                                 Y=torch.ones(6, 1, dtype=F64), steps=3),
        "fractal.chunk_size": lambda: dict(problem=F.prob, device=torch.device("cpu")),
        "fractal.trainability_grid": lambda: dict(problem=F.prob, resolution=2, steps=21),
        "fractal.offset_grid": lambda: dict(problem=F.prob, resolution=2, steps=21),
        "fractal.restretch": lambda: dict(values=F.grid3),
        "fractal.boundary_mask": lambda: dict(values=F.grid3),
        "fractal.box_sizes": lambda: dict(side=32),
        "fractal.box_counts": lambda: dict(mask=F.mask, sizes=F.sizes),
        "fractal.outcome": lambda: dict(losses=F.losses21),
        "fractal.Picture": lambda: dict(name="tiny", title="a tiny window", x=(-1.0, 0.0), y=(-1.0, 0.0), steps=21,
                                        resolution=3, width=2),
        "fractal.zoom_window": lambda: dict(centre=(0.0, 0.0), level=1),
        "fractal.render": lambda: dict(picture=F.pic, resolution=3, steps=21),
        "fractal.load": lambda: dict(name="tanh"),
        "fractal.find_zoom_centre": lambda: dict(start=(0.0, 0.0), levels=1, resolution=4, probe=4, candidates=2, steps=21, width=2),
        "fractal.coherence": lambda: dict(trained=np.ones((3, 3), dtype=bool)),
        "fractal.box_count": lambda: dict(mask=F.mask),
        "fractal.box_counting_dimension": lambda: dict(mask=F.mask),
        "fractal.shuffled": lambda: dict(values=F.grid3),
        "fractal.dimension_check": lambda: dict(trained=F.disc.numpy()),
        "fractal.known_sets": lambda: dict(resolution=64),
        # added with lectures 01–03, 07 and 08
        "hyperparams.gd_weights": lambda: dict(Phi=F.Phi, t=F.t, alpha=0.5, beta=10.0, lr=F.elbo_lr, steps=3),
        "evidence.entropy_change_per_eigenvalue": lambda: dict(lr_lambda=torch.tensor([0.1, 0.5], dtype=F64)),
        "evidence.quadratic_gd_cloud": lambda: dict(H=F.H, lr=0.1, steps=3, n=10),
        "evidence.sample_entropy_gaussian": lambda: dict(points=torch.randn(20, 2, generator=F.gen(20), dtype=F64)),
        "evidence.linear_gaussian_heldout": lambda: dict(Phi=F.Phi, t=F.t, Phi_val=F.Phi[::2], t_val=F.t[::2],
                                                         alpha=0.5, beta=10.0, lr=F.elbo_lr, steps=3),
        "evidence.moment_propagation_elbo": lambda: dict(Phi=F.Phi, t=F.t, alpha=0.5, beta=10.0, lr=F.elbo_lr, steps=3),
        "evidence.select_degree_by_gd_bound": lambda: dict(x=F.x, t=F.t, x_val=F.x[::2], t_val=F.t[::2], degrees=[0, 1],
                                                           alpha=0.5, beta=10.0, steps=5),
        "duality.untrained_lsa": lambda: dict(),
        "duality.compare_icl_to_finetuning": lambda: dict(icl=F.lsa, finetune_lr=1.0, n_prompts=20, n_queries=2,
                                                          n_context=4, zero_shot=duality.LinearSelfAttention(2), tol=0.3),
        "optimizers.hutchinson_samples": lambda: dict(matvec=lambda v: 2 * v, n=3, samples=4),
        "optimizers.diagonal_quadratic": lambda: dict(eigenvalues=[1.0, 4.0]),
        "optimizers.mode_rates": lambda: dict(eigenvalues=torch.tensor([1.0, 4.0], dtype=F64), lr=0.1, momentum=0.5),
        **{f"optimizers.{name}": (lambda: dict(lam_min=1.0, lam_max=4.0))
           for name in ("best_gd", "best_momentum", "best_nesterov")},
        "optimizers.scalar_regression": lambda: dict(n=8),
        "optimizers.product_path": lambda: dict(x=F.xs8, y=F.ys8, start=(2.0, 0.5), steps=3, lr=0.1),
        "optimizers.product_sharpness": lambda: dict(path=F.path3, x=F.xs8, y=F.ys8),
        "optimizers.product_valley_sharpness": lambda: dict(path=F.path3, x=F.xs8, y=F.ys8),
        "optimizers.sgd_epochs": lambda: dict(x=F.teacher[0], y=F.teacher[1], x_val=F.teacher[2], y_val=F.teacher[3],
                                              lr=0.1, sizes=(3, 4, 2), batch=5),
        "optimizers.tune_momentum": lambda: dict(W=F.quad[0], y=F.quad[1], theta=F.quad[2], steps=2,
                                                 lrs=torch.tensor([1e-3, 1e-2]), momenta=(0.5, 0.9)),
        "search.optuna_minimize": lambda: dict(f=F.sphere, bounds=F.bounds, n=3),
        "search.compare": lambda: dict(f=F.sphere, bounds=F.bounds, n=4, seeds=1, methods=("random search",)),
        "search.cached_comparison": lambda: dict(name="sphere", f=F.sphere, bounds=F.bounds, n=4, seeds=1,
                                                 methods=("random search",), recompute=True,
                                                 path=Path(_scratch()) / "comparison.pt"),
        "double_descent.dropout_least_squares": lambda: dict(X=F.Xl, y=F.yl, rate=0.3),
        "double_descent.smallest_singular_value": lambda: dict(n=4, d=3, trials=2),
        "double_descent.weak_features_beta": lambda: dict(total=6),
        "double_descent.weak_features_theory": lambda: dict(n=5, p=3, beta=F.wbeta, sigma=0.5),
        "double_descent.weak_features_curve": lambda: dict(n=5, p_values=[2, 4], beta=F.wbeta, sigma=0.5, trials=2),
        "double_descent.memorization_run": lambda: dict(corruption=0.2, n_train=20, n_test=20, input_dim=3, classes=2,
                                                        width=8, max_steps=5),
        # added with lectures 04–06
        "maml.quadratic_weights": lambda: dict(h=F.h3, alpha=0.1, steps=1),
        "maml.quadratic_best_start": lambda: dict(h=F.h3, c=F.c3, alpha=0.1, steps=1),
        "maml.quadratic_meta_loss": lambda: dict(theta=torch.tensor([0.0, 0.5], dtype=F64), h=F.h3, c=F.c3, alpha=0.1,
                                                 steps=1),
        "maml.unrolled_graph_figure": lambda: dict(steps=1),
        "maml.evaluate_tasks": lambda: dict(learner=F.learner, n_tasks=3, k_shot=3, steps=(0, 1), n_query=4),
        "hypernets.ChunkedTaskHypernet": lambda: dict(n_tasks=2, emb_dim=2, hidden=4, chunk_size=24, chunk_emb_dim=2),
        "hypernets.n_parameters": lambda: dict(module=F.hypernet),
        "hypernets.hypernet_size": lambda: dict(n_target=10, hidden=4, chunk_size=3),
        "hypernets.complexity_problem": lambda: dict(n=5, d=4, k=2, n_val=3),
        "hypernets.variational_objective": lambda: dict(X=F.cplx[0], y=F.cplx[1], mean=torch.zeros(4, dtype=F64),
                                                        std=torch.ones(4, dtype=F64), log_c=0.0),
        "hypernets.complexity_best_response": lambda: dict(X=F.cplx[0], y=F.cplx[1], log_c=0.0),
        "hypernets.ComplexityHypernet": lambda: dict(d=4, hidden=4),
        "hypernets.train_complexity_hypernet": lambda: dict(problem=F.cplx, steps=2, batch=2, hidden=4),
        "hypernets.prune_by_snr": lambda: dict(mean=torch.tensor([0.1, -2.0, 1.0], dtype=F64),
                                               std=torch.tensor([1.0, 1.0, 0.5], dtype=F64)),
        "hypernets.front_inflection": lambda: dict(),
        "hpo.TanhRegression": lambda: dict(x=F.tanh.x, y=F.tanh.y, x_val=F.tanh.x_val, y_val=F.tanh.y_val,
                                           init=F.tanh.init),
        "hpo.tanh_regression": lambda: dict(n=4, hidden=3),
        "hpo.tanh_unroll": lambda: dict(problem=F.tanh, log_lrs=torch.log(torch.tensor([0.05, 0.1], dtype=F64)), T=3),
        "hpo.best_schedule": lambda: dict(h=F.h, sigma2=F.s2, T=4, n_windows=2, iterations=5),
        "hpo.horizon_schedule": lambda: dict(h=F.h, sigma2=F.s2, T=4, horizon=2, n_windows=2),
        "hpo.horizon_sweep": lambda: dict(T=4, horizons=(1, 2), d=5),
        "hpo.pretrained_horizon_sweep": lambda: dict(),
        "memory.heap_bytes": lambda: dict(),
        "memory.heap_growth": lambda: dict(fn=lambda: torch.ones(1000)),
    }


@functools.cache
def _scratch() -> str:
    """A folder for files a walked call writes (cached_comparison's cache)."""
    import tempfile

    return tempfile.mkdtemp(prefix="mlcourse-bad-inputs-")


@functools.cache
def recipes() -> dict[str, Callable[[], dict[str, Any]]]:
    return _recipes(fixtures())


def public_callables() -> dict[str, Callable]:
    """Every public function and class defined in a topic module, by "module.name" (found by
    introspection, so that new ones are walked too)."""
    found = {}
    for short in MODULES:
        module = importlib.import_module(f"mlcourse.{short}")
        for name, obj in vars(module).items():
            if name.startswith("_") or not callable(obj) or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue
            found[f"{short}.{name}"] = obj
    return found


def valid_call(qualname: str) -> dict[str, Any]:
    """The recipe's keyword arguments, deep-copied (callables and classes by reference)."""
    recipe = recipes().get(qualname)
    if recipe is None:
        raise KeyError(f"{qualname} has no recipe in tests/bad_inputs.py: add a small valid call "
                       f"(or list it in NOT_WALKED with a reason)")
    return copy.deepcopy(recipe())


# ------------------------------------------------------------------------------------- mutations

REFUSE, MAY = "refuse", "may"
"""What a mutation expects: an error (``refuse``), or an error or a good result (``may``)."""


@dataclasses.dataclass(frozen=True)
class Mutation:
    param: str
    label: str
    value: Any
    expect: str
    same_shape: bool = False  # a taken value must give the valid call's result shape
    trailing: bool = False  # ... or that shape with a trailing singleton dimension


def _float_like(value: Any) -> bool:
    return isinstance(value, float) or (isinstance(value, (np.floating,)))


def _int_like(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _annotation(fn: Callable, param: str) -> str:
    target = fn.__init__ if inspect.isclass(fn) else fn
    target = inspect.unwrap(target)
    try:
        ann = inspect.signature(target).parameters[param].annotation
    except (KeyError, ValueError, TypeError):
        return ""
    return ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann))


def _tensor_mutations(param: str, t: torch.Tensor) -> list[Mutation]:
    out = []
    if t.is_floating_point():
        if t.numel() > 0:
            for label, bad in (("nan", math.nan), ("inf", math.inf)):
                v = t.detach().clone(memory_format=torch.contiguous_format)
                v.view(-1)[t.numel() // 2] = bad
                out.append(Mutation(param, label, v, REFUSE))
        other = torch.float32 if t.dtype == torch.float64 else torch.float64
        out.append(Mutation(param, "other-dtype", t.detach().to(other), MAY, same_shape=True))
    out.append(Mutation(param, "numpy", t.detach().cpu().numpy(), MAY, same_shape=True))
    if t.dim() >= 1:
        out.append(Mutation(param, "empty", t.detach()[:0].clone(), MAY))
        out.append(Mutation(param, "trailing-dim", t.detach()[..., None].clone(), MAY, trailing=True))
        if t.shape[0] >= 2:
            out.append(Mutation(param, "row-less", t.detach()[:-1].clone(), MAY))
    out.append(Mutation(param, "string", "abc", REFUSE))
    return out


def _array_mutations(param: str, a: np.ndarray) -> list[Mutation]:
    out = []
    if np.issubdtype(a.dtype, np.floating) and a.size:
        for label, bad in (("nan", math.nan), ("inf", math.inf)):
            v = a.copy()
            v.reshape(-1)[a.size // 2] = bad
            out.append(Mutation(param, label, v, REFUSE))
    out.append(Mutation(param, "tensor", torch.as_tensor(a.copy()), MAY, same_shape=True))
    if a.ndim >= 1:
        out.append(Mutation(param, "empty", a[:0].copy(), MAY))
    out.append(Mutation(param, "string", "abc", REFUSE))
    return out


def _device_mutations(param: str) -> list[Mutation]:
    out = [Mutation(param, "unknown-device", "tpu", REFUSE),
           Mutation(param, "cpu-string", "cpu", MAY, same_shape=True),
           Mutation(param, "wrong-type", 3.5, REFUSE)]
    if not torch.cuda.is_available():
        out.append(Mutation(param, "cuda-missing", "cuda", REFUSE))
    return out


def _sequence_mutations(param: str, seq: Any) -> list[Mutation]:
    flat = list(seq)
    if not flat:
        return []
    if all(_int_like(v) for v in flat):
        if SIGNED_INT.match(param):
            return []
        bad = type(seq)([-1, *flat[1:]]) if not isinstance(seq, range) else [-1, *flat[1:]]
        return [Mutation(param, "negative-entry", bad, REFUSE)]
    if all(_float_like(v) or _int_like(v) for v in flat):
        return [Mutation(param, "nan-entry", type(seq)([math.nan, *flat[1:]]), REFUSE)]
    if all(isinstance(v, (tuple, list)) and v and all(_float_like(u) or _int_like(u) for u in v) for v in flat):
        first = type(flat[0])([math.nan, *list(flat[0])[1:]])
        return [Mutation(param, "nan-entry", type(seq)([first, *flat[1:]]), REFUSE)]
    return []


def mutations(fn: Callable, kwargs: dict[str, Any]) -> list[Mutation]:
    """Every bad value of every argument of the valid call ``fn(**kwargs)`` (with its defaults)."""
    target = fn.__init__ if inspect.isclass(fn) else fn
    sig = inspect.signature(inspect.unwrap(target))
    values = {}
    for name, p in sig.parameters.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if name in kwargs:
            values[name] = kwargs[name]
        elif p.default is not p.empty:
            values[name] = p.default
    values.update({k: v for k, v in kwargs.items() if k not in values})  # **kwargs passed on
    out: list[Mutation] = []
    for name, value in values.items():
        ann = _annotation(fn, name)
        if name == "device" or "Device" in ann or "device" in ann:
            out += _device_mutations(name)
        elif name == "dtype" or "dtype" in ann:
            out += [Mutation(name, "int-dtype", torch.int64, REFUSE),
                    Mutation(name, "wrong-type", "not-a-dtype", REFUSE)]
        elif isinstance(value, bool) or name in ("progress", "generator"):
            continue
        elif isinstance(value, torch.Tensor):
            out += _tensor_mutations(name, value)
        elif isinstance(value, np.ndarray):
            out += _array_mutations(name, value)
        elif _int_like(value) or (value is None and re.search(r"\bint\b", ann)):
            if not SIGNED_INT.match(name):
                out.append(Mutation(name, "negative", -1, REFUSE))
            out += [Mutation(name, "zero", 0, MAY), Mutation(name, "fraction", 2.5, REFUSE),
                    Mutation(name, "nan", math.nan, REFUSE), Mutation(name, "string", "3", REFUSE)]
        elif _float_like(value) or (value is None and re.search(r"\bfloat\b", ann)):
            out += [Mutation(name, "nan", math.nan, REFUSE), Mutation(name, "inf", math.inf, REFUSE),
                    Mutation(name, "zero", 0.0, MAY), Mutation(name, "string", "0.1", REFUSE),
                    Mutation(name, "negative", -1.0, REFUSE if NONNEGATIVE.match(name) else MAY)]
        elif isinstance(value, str) and value:
            out.append(Mutation(name, "unknown-name", "no-such-" + value, REFUSE))
        elif isinstance(value, (tuple, list, range)):
            out += _sequence_mutations(name, value)
    return out


def draw(data: Any, fn: Callable, kwargs: dict[str, Any]) -> Mutation | None:
    """A mutation of the valid call, with its bad value varied by hypothesis (where the NaN sits,
    how negative, which fraction, which string)."""
    from hypothesis import strategies as st

    choices = mutations(fn, kwargs)
    if not choices:  # nothing to mutate (no arguments, or only objects)
        return None
    m = data.draw(st.sampled_from(choices), label="mutation")
    value = m.value
    if m.label in ("nan", "inf") and isinstance(value, torch.Tensor):
        base = kwargs.get(m.param, value)
        value = base.detach().clone(memory_format=torch.contiguous_format) if isinstance(base, torch.Tensor) else value
        at = data.draw(st.integers(0, value.numel() - 1), label="position")
        value.view(-1)[at] = data.draw(st.sampled_from([math.nan, math.inf, -math.inf]), label="bad entry")
    elif m.label in ("nan", "inf") and isinstance(value, float):
        value = data.draw(st.sampled_from([math.nan, math.inf, -math.inf]), label="bad number")
    elif m.label == "negative" and isinstance(value, int):
        value = data.draw(st.integers(-10**9, -1), label="negative")
    elif m.label == "negative":
        value = data.draw(st.floats(-1e9, -1e-9), label="negative")
    elif m.label == "fraction":
        value = data.draw(st.floats(-1e6, 1e6).filter(lambda v: not float(v).is_integer()), label="fraction")
    elif m.label == "string":
        value = data.draw(st.text(max_size=8), label="string")
    return dataclasses.replace(m, value=value)


# --------------------------------------------------------------------------------- classification

class TimeLimit(BaseException):
    """Raised by the alarm: a BaseException, so that no ``except Exception`` in the code swallows it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    if seconds <= 0 or not hasattr(signal, "setitimer"):
        yield
        return

    def alarm(signum, frame):
        raise TimeLimit()

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _leaves(value: Any, depth: int = 0) -> Iterator[Any]:
    """Numbers, tensors and arrays inside a result (tuples, lists, dicts, dataclasses, modules)."""
    if depth > 4:
        return
    if isinstance(value, (torch.Tensor, np.ndarray, float, int, np.number)) and not isinstance(value, bool):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _leaves(v, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v, depth + 1)
    elif isinstance(value, nn.Module):
        for p in value.parameters():
            yield p
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _leaves(getattr(value, f.name), depth + 1)


def finite(value: Any) -> bool:
    for leaf in _leaves(value):
        if isinstance(leaf, torch.Tensor):
            if (leaf.is_floating_point() or leaf.is_complex()) and not bool(torch.isfinite(leaf.detach()).all()):
                return False
        elif isinstance(leaf, np.ndarray):
            if np.issubdtype(leaf.dtype, np.inexact) and not np.all(np.isfinite(leaf)):
                return False
        elif isinstance(leaf, (float, np.floating)) and not math.isfinite(leaf):
            return False
    return True


def shape(value: Any, depth: int = 0) -> Any:
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return tuple(value.shape)
    if isinstance(value, (float, int, np.number)):
        return ()
    if depth < 4 and isinstance(value, (tuple, list)):
        return tuple(shape(v, depth + 1) for v in value)
    if depth < 4 and isinstance(value, dict):
        return tuple((k, shape(v, depth + 1)) for k, v in value.items())
    return type(value).__name__


def _shape_ok(got: Any, base: Any, trailing: bool) -> bool:
    if got == base:
        return True
    if not trailing:
        return False
    if isinstance(base, tuple) and all(isinstance(s, int) for s in base):
        return isinstance(got, tuple) and got == (*base, 1)
    if isinstance(base, tuple) and isinstance(got, tuple) and len(got) == len(base):
        return all(_shape_ok(g, b, trailing) for g, b in zip(got, base))
    return False


def deliberate(exc: BaseException) -> bool:
    """Raised by a ``raise`` statement of the package (not inside torch, numpy or Python)."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    path = Path(tb.tb_frame.f_code.co_filename)
    if PACKAGE not in path.parents:
        return False
    return linecache.getline(str(path), tb.tb_lineno).lstrip().startswith("raise")


def names(message: str, param: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(param)}(?![A-Za-z0-9_])", message) is not None


@dataclasses.dataclass
class Outcome:
    kind: str  # ok, clear, cryptic, silent, hang
    detail: str = ""


def call(fn: Callable, kwargs: dict[str, Any], limit: float = TIME_LIMIT_S) -> Any:
    with warnings.catch_warnings(), time_limit(limit):
        warnings.simplefilter("ignore")
        return fn(**kwargs)


def classify(fn: Callable, kwargs: dict[str, Any], m: Mutation, base_shape: Any,
             limit: float = TIME_LIMIT_S) -> Outcome:
    """How ``fn`` answers the valid call ``kwargs`` with mutation ``m`` applied."""
    bad = dict(kwargs)
    bad[m.param] = m.value
    try:
        result = call(fn, bad, limit)
    except TimeLimit:
        return Outcome("hang", f"ran past {limit:g} s")
    except Exception as exc:  # noqa: BLE001 - classifying every error is the point
        text = f"{type(exc).__name__}: {exc}".splitlines()[0][:300] if str(exc) else type(exc).__name__
        if deliberate(exc) and names(str(exc), m.param):
            return Outcome("clear", text)
        return Outcome("cryptic", text)
    if m.expect == REFUSE:
        return Outcome("silent", "a bad value was taken")
    if not finite(result):
        return Outcome("silent", "the result holds NaN or inf")
    if (m.same_shape or m.trailing) and not _shape_ok(shape(result), base_shape, m.trailing):
        return Outcome("silent", f"result shape {shape(result)} instead of {base_shape}")
    return Outcome("ok")


@functools.cache
def base_result(qualname: str) -> tuple[Any, float]:
    """The valid call's result shape and its seconds (it must succeed and be finite)."""
    import time

    fn = public_callables()[qualname]
    start = time.perf_counter()
    result = call(fn, valid_call(qualname), limit=60)  # a first call may import and warm up
    seconds = time.perf_counter() - start
    if seconds > 1:  # time it warm
        start = time.perf_counter()
        call(fn, valid_call(qualname))
        seconds = time.perf_counter() - start
    if not finite(result):
        raise AssertionError(f"the valid call of {qualname} gives a non-finite result")
    return shape(result), seconds


def walk(qualnames: list[str] | None = None, limit: float = TIME_LIMIT_S,
         report: Callable[[str, Mutation, Outcome], None] | None = None) -> Counter:
    """Every mutation of every recipe: counts by class (and ``base-fails`` for a recipe whose valid
    call fails)."""
    counts: Counter = Counter()
    everything = public_callables()
    for qualname in qualnames or sorted(everything):
        if qualname in NOT_WALKED:
            continue
        fn = everything[qualname]
        try:
            base, _ = base_result(qualname)
        except Exception as exc:  # noqa: BLE001
            counts["base-fails"] += 1
            if report:
                report(qualname, Mutation("-", "valid call", None, MAY), Outcome("base-fails", repr(exc)[:200]))
            continue
        kwargs = valid_call(qualname)
        for m in mutations(fn, kwargs):
            outcome = classify(fn, valid_call(qualname), m, base, limit)
            counts[outcome.kind] += 1
            if report:
                report(qualname, m, outcome)
    return counts


def main(argv: list[str]) -> None:
    import argparse

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description="walk every bad input of every public callable")
    parser.add_argument("only", nargs="*", help="callables (module.name) or modules to walk (default: all)")
    parser.add_argument("--show", default="cryptic,silent,hang,base-fails",
                        help="classes whose cases are printed (comma-separated, 'all', or '')")
    args = parser.parse_args(argv)
    everything = sorted(public_callables())
    chosen = [q for q in everything if not args.only or q in args.only or q.split(".")[0] in args.only]
    show = set(args.show.split(",")) if args.show != "all" else {"ok", "clear", "cryptic", "silent", "hang",
                                                                 "base-fails"}

    def report(qualname: str, m: Mutation, outcome: Outcome) -> None:
        if outcome.kind in show:
            print(f"{outcome.kind:8s} {qualname}({m.param}={m.label}): {outcome.detail}", flush=True)

    counts = walk(chosen, report=report)
    walked = len([q for q in chosen if q not in NOT_WALKED])
    print(f"\n{walked} callables, {sum(v for k, v in counts.items() if k != 'base-fails')} mutated calls: "
          + ", ".join(f"{k} {counts[k]}" for k in ("ok", "clear", "cryptic", "silent", "hang", "base-fails")))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main(sys.argv[1:])
