"""mlcourse.inputs, the course's input convention, and the cases the issue names one by one: devices,
NaN matrices, numpy input, float32/float64 mixing, sizes, broadcasting acquisitions and their tail
accuracy, MacKay's iterations running off to infinity, NaN noise."""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numpy as np
import pytest
import torch
from torch import Tensor, nn

from mlcourse import double_descent as dd
from mlcourse import duality as du
from mlcourse import evidence as ev
from mlcourse import fractal as fr
from mlcourse import hyperparams as hp
from mlcourse import inputs
from mlcourse import optimizers as op
from mlcourse import search
from mlcourse.inputs import checked, need, positive, size

import bad_inputs as B

F64 = torch.float64
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


# ------------------------------------------------------------------------ the decorator, on toys

@checked(lr=positive, steps=size, shapes=dict(X="n d", y="n"))
def _fit(X: Tensor, y: Tensor, lr: float, steps: int = 10, seed: int = 0,
         device: str | torch.device | None = None) -> Tensor:
    return (X.T @ y) * lr * steps + 0 * seed


def test_annotations_give_the_rules_and_messages_name_the_argument() -> None:
    X, y = torch.randn(5, 3, dtype=F64), torch.randn(5, dtype=F64)
    cases = [
        (dict(lr=math.nan), ValueError, r"^lr must be a finite number > 0, got nan$"),
        (dict(lr=-1.0), ValueError, r"^lr must be > 0, got -1\.0$"),
        (dict(lr="0.1"), TypeError, r"^lr must be a number, got '0\.1'$"),
        (dict(lr=0.1, steps=2.5), ValueError, r"^steps must be a whole number, got 2\.5$"),
        (dict(lr=0.1, steps=0), ValueError, r"^steps must be >= 1, got 0$"),
        (dict(lr=0.1, steps=True), TypeError, r"^steps must be an integer, got True$"),
        (dict(lr=0.1, seed="1"), TypeError, r"^seed must be an integer"),
        (dict(lr=0.1, device="tpu"), ValueError, r"^device: unknown device 'tpu'"),
        (dict(lr=0.1, device=3), TypeError, r"^device must be a device name"),
    ]
    for kw, error, message in cases:
        with pytest.raises(error, match=message):
            _fit(X, y, **kw)
    assert _fit(X, y, 0.1, steps=3.0).shape == (3,)  # a whole float is an integer
    assert _fit(X, y, 0.1, seed=-5).shape == (3,)  # a seed may be negative


def test_tensors_are_converted_checked_for_finite_entries_and_shaped_by_name() -> None:
    X, y = np.random.default_rng(0).standard_normal((5, 3)), np.arange(5.0)
    got = _fit(X, y, 0.1)  # numpy in, tensor out, float64 kept
    assert isinstance(got, Tensor) and got.dtype == F64
    torch.testing.assert_close(got, _fit(torch.as_tensor(X), torch.as_tensor(y), 0.1))
    assert _fit(X.tolist(), y.tolist(), 0.1).dtype == F64  # a list of floats: exact, float64
    bad = X.copy()
    bad[2, 1] = np.inf
    with pytest.raises(ValueError, match=r"^X holds NaN or infinite entries$"):
        _fit(bad, y, 0.1)
    with pytest.raises(TypeError, match=r"^X must be a tensor or an array of numbers, got 'abc'$"):
        _fit("abc", y, 0.1)
    with pytest.raises(ValueError, match=r"shapes do not match on n: X \[n, d\] = \[5, 3\] but y \[n\] = \[4\]"):
        _fit(X, y[:4], 0.1)
    with pytest.raises(ValueError, match=r"^y must be 1-d \[n\], got shape \[5, 1\]$"):
        _fit(X, y[:, None], 0.1)
    with pytest.raises(ValueError, match=r"^X is empty: dimension n of X \[n, d\] has size 0"):
        _fit(X[:0], y[:0], 0.1)


def test_float32_and_float64_are_brought_to_the_wider_dtype() -> None:
    X, y = torch.randn(5, 3, dtype=F64), torch.randn(5, dtype=F64)
    got = _fit(X.float(), y, 0.1)
    assert got.dtype == F64
    torch.testing.assert_close(got, _fit(X.float().double(), y, 0.1))


def test_shape_specs_square_broadcast_and_fixed_sizes() -> None:
    @checked(shapes=dict(H="d d", v="... d", w="... 2"))
    def f(H: Tensor, v: Tensor, w: Tensor) -> Tensor:
        return H.sum() + v.sum() + w.sum()

    H = torch.eye(3)
    assert float(f(H, torch.ones(4, 3), torch.ones(4, 2))) == 3 + 12 + 8
    with pytest.raises(ValueError, match=r"^H must be square \[d, d\], got \[3, 2\]$"):
        f(torch.ones(3, 2), torch.ones(3), torch.ones(2))
    with pytest.raises(ValueError, match=r"^w must be at least 1-d \[\.\.\., 2\], got shape \[\]$"):
        f(H, torch.ones(3), torch.tensor(1.0))
    with pytest.raises(ValueError, match=r"^w must be at least 1-d \[\.\.\., 2\], got \[3\]$|must have shape"):
        f(H, torch.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match=r"leading \(batch\) dimensions do not broadcast: v .* w "):
        f(H, torch.ones(4, 3), torch.ones(5, 2))


def test_a_module_argument_sets_the_dtype_of_the_data() -> None:
    @checked
    def predict(model: nn.Module, x: Tensor) -> Tensor:
        return model(x)

    model = nn.Linear(3, 1)  # float32
    assert predict(model, np.ones((2, 3))).dtype == torch.float32  # numpy float64 follows the model


def test_calls_from_inside_the_package_are_trusted_and_vmap_works() -> None:
    @checked
    def inner(x: Tensor) -> Tensor:
        return x * 2

    @checked
    def outer(x: Tensor) -> Tensor:
        return inner(x * math.inf)  # an intermediate that diverged on purpose

    assert torch.isinf(outer(torch.ones(2))).all()
    with pytest.raises(ValueError, match="x holds NaN"):
        inner(torch.tensor([1.0, math.nan]))
    assert torch.equal(torch.func.vmap(inner)(torch.ones(4, 3)), 2 * torch.ones(4, 3))


def test_classes_kwargs_and_need() -> None:
    @checked(shapes=dict(a="n", b="n"))
    @dataclass(frozen=True)
    class Pair:
        a: Tensor
        b: Tensor

    Pair(np.zeros(3), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="shapes do not match on n"):
        Pair(torch.zeros(3), torch.zeros(2))

    @checked(lr=positive)
    def run(f, **hyper):
        return hyper["lr"]

    assert run(None, lr=0.5) == 0.5
    with pytest.raises(ValueError, match="^lr must be > 0"):
        run(None, lr=0.0)
    with pytest.raises(ValueError, match="^k must be odd$"):
        need(False, "k must be odd")
    with pytest.raises(TypeError, match="has no argument nope"):
        checked(nope=positive)(lambda x: x)
    with pytest.raises(TypeError):  # a call Python itself rejects keeps Python's error
        _fit(torch.ones(2, 2), torch.ones(2), 0.1, 10, 0, None, "extra")


def test_dtype_device_and_choice_rules() -> None:
    assert inputs._dtype("float64", "dtype") is F64
    with pytest.raises(ValueError, match="^dtype must be a floating torch dtype"):
        inputs._dtype(torch.int64, "dtype")
    assert inputs._device("cpu", "device") == torch.device("cpu")
    with pytest.raises(ValueError, match="^unknown method 'x': choose one of 'a', 'b'$"):
        inputs.one_of("a", "b")("x", "method")


# ------------------------------------------------------------------------ the cases

def _device_callables() -> list[str]:
    import inspect

    found = []
    for qualname, fn in B.public_callables().items():
        target = fn.__init__ if inspect.isclass(fn) else fn
        if "device" in inspect.signature(target).parameters and qualname not in B.NOT_WALKED:
            found.append(qualname)
    return found


@NO_CUDA
@pytest.mark.parametrize("qualname", _device_callables())
def test_every_device_argument_goes_through_get_device(qualname: str) -> None:
    fn, kwargs = B.public_callables()[qualname], B.valid_call(qualname)
    with pytest.raises(ValueError, match=r"^device: device 'cuda' is not available on this machine: use one of .*cpu"):
        B.call(fn, {**kwargs, "device": "cuda"})
    assert B.finite(B.call(fn, {**kwargs, "device": "cpu"}))


def test_fractal_chunk_size_takes_a_device_name() -> None:
    problem = fr.make_problem(4)
    assert fr.chunk_size(problem, "cpu") == fr.chunk_size(problem, torch.device("cpu")) > 0


def test_least_squares_on_a_nan_matrix_says_so() -> None:
    X, y = torch.randn(6, 3, dtype=F64), torch.randn(6, 1, dtype=F64)
    X[2, 1] = math.nan
    for ridge in (0.0, 1.0):
        with pytest.raises(ValueError, match=r"^X holds NaN or infinite entries$"):
            dd.least_squares(X, y, ridge)


def test_numpy_input_gives_the_tensor_answer() -> None:
    x, t = hp.sine_data(10)
    Phi = hp.polynomial_design(x, 3)
    assert hp.log_evidence(Phi.numpy(), t.numpy(), 0.5, 10.0) == hp.log_evidence(Phi, t, 0.5, 10.0)
    K, V, Q = (torch.randn(*s, dtype=F64) for s in ((5, 3), (5, 2), (4, 3)))
    torch.testing.assert_close(du.linear_attention(K.numpy(), V.numpy(), Q.numpy()), du.linear_attention(K, V, Q))
    pts = np.array([[0.5, 0.5], [1.0, 1.0]])
    torch.testing.assert_close(op.rosenbrock(pts), op.rosenbrock(torch.as_tensor(pts)))


def test_float32_with_float64_is_reconciled() -> None:
    K, V, Q = (torch.randn(*s, dtype=F64) for s in ((5, 3), (5, 2), (4, 3)))
    mixed = du.linear_attention(K.float(), V, Q.float())
    assert mixed.dtype == F64
    torch.testing.assert_close(mixed, du.linear_attention(K.float().double(), V, Q.float().double()))
    p, g = torch.tensor([1.0, 2.0], dtype=F64), torch.tensor([0.5, -0.5])
    new, _ = op.adam(p, g, {}, lr=0.1)
    assert new.dtype == F64


def test_a_float64_hvp_needs_no_dtype_argument() -> None:
    H = torch.tensor([[2.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 0.5]], dtype=F64)
    hvp = lambda v: H @ v  # noqa: E731 - fails on torch's default float32 probes
    gen = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    got = ev.logdet_step_estimate(hvp, 3, 0.1, n_probes=4, generator=gen())
    want = ev.logdet_step_estimate(hvp, 3, 0.1, n_probes=4, generator=gen(), dtype=F64)
    torch.testing.assert_close(got, want)  # Rademacher probes: the same ±1 in either dtype
    lam = ev.top_eigenvalue(hvp, 3, iters=200, generator=gen())
    assert lam == pytest.approx(float(torch.linalg.eigvalsh(H).max()), rel=1e-10)


def test_sizes_are_checked() -> None:
    with pytest.raises(ValueError, match=r"^iters must be >= 1, got -1$"):
        ev.top_eigenvalue(lambda v: v, 3, iters=-1)
    with pytest.raises(ValueError, match=r"^n_train must be >= 1, got -1$"):
        op.teacher_task(n_train=-1)


def test_expected_improvement_refuses_shapes_that_would_broadcast() -> None:
    mu, sigma = torch.tensor([0.1, 0.2, 0.3], dtype=F64), torch.tensor([1.0, 1.0, 1.0], dtype=F64)
    assert search.expected_improvement(mu, sigma, 0.0).shape == (3,)
    for acquisition in (search.expected_improvement, search.probability_of_improvement,
                        search.lower_confidence_bound):
        with pytest.raises(ValueError, match=r"^mu and sigma must have the same shape .*mu \[3, 1\], sigma \[3\]"):
            acquisition(mu[:, None], sigma, 0.0)
    with pytest.raises(ValueError, match=r"^sigma must hold numbers > 0"):
        search.expected_improvement(mu, 0 * sigma, 0.0)


@pytest.mark.parametrize("z", [-38.0, -20.0, -10.0, -6.0, -2.0, -0.5, 0.0, 0.5, 3.0, 12.0])
def test_acquisitions_are_accurate_far_in_the_tail(z: float) -> None:
    """EI = σ(zΦ(z) + φ(z)) and PI = Φ(z) against 50-digit mpmath (the naive forms give PI = 0 and
    an EI 100× too large at z = −10)."""
    mpmath.mp.dps = 50
    sigma = 0.7
    mu = torch.tensor([-z * sigma], dtype=F64)  # best = 0, xi = 0: z = (best − μ)/σ
    sd = torch.tensor([sigma], dtype=F64)
    zz = mpmath.mpf(z)
    ei_ref = float(sigma * (zz * mpmath.ncdf(zz) + mpmath.npdf(zz)))
    pi_ref = float(mpmath.ncdf(zz))
    ei = float(search.expected_improvement(mu, sd, 0.0))
    pi = float(search.probability_of_improvement(mu, sd, 0.0, xi=0.0))
    assert ei == pytest.approx(ei_ref, rel=1e-12, abs=1e-320)
    assert pi == pytest.approx(pi_ref, rel=1e-12, abs=1e-320)


def test_reestimate_says_when_alpha_runs_off_to_infinity() -> None:
    x, t = hp.sine_data(8)
    Phi = hp.polynomial_design(x, 2)  # from its default start α grows ~5× per iteration
    with pytest.raises(RuntimeError, match=r"^alpha runs off to infinity .*no finite alpha maximizes it"):
        hp.reestimate(Phi, t)
    x, t = hp.sine_data(10)
    alpha, beta, gamma = hp.reestimate(hp.polynomial_design(x, 3), t)  # a finite fixed point is still found
    assert math.isfinite(alpha) and math.isfinite(beta) and 0 < gamma < 4


def test_sine_data_refuses_nan_noise() -> None:
    with pytest.raises(ValueError, match=r"^noise must be a finite number >= 0, got nan$"):
        hp.sine_data(noise=math.nan)
