"""What crosses from a student's process into the grader's: plain values, rebuilt by the grader.

The codec round-trips every plain type exactly (bit for bit for floats and tensors), turns anything
else into an inert ``Unsupported``, and refuses malformed input with ``WireError`` and nothing else —
random bytes and mutated messages included. A second synthetic key exercises what a check can do with
a student's function: call it on tensors, arrays and dicts it changes in place, pass it a lambda (run
on the student's side) or a function with side effects (called back on the grader's side), receive a
function from it, hand it a random generator, and lend it the set-up's model to train in place.
"""

from __future__ import annotations

import copy
import math
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlcourse.course import notebooks as nbs
from mlcourse.course import wire
from mlcourse.course.grade import grade_with_key
from mlcourse.course.sandbox import Limits
from mlcourse.course.verdict import _pure, restore


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return (type(b) is torch.Tensor and a.dtype == b.dtype and a.shape == b.shape
                and a.requires_grad == b.requires_grad
                and torch.equal(a.detach().reshape(-1).view(torch.uint8) if a.numel() else a.detach(),
                                b.detach().reshape(-1).view(torch.uint8) if b.numel() else b.detach()))
    if isinstance(a, np.ndarray):
        return type(b) is np.ndarray and a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return type(b) is float and struct.pack(">d", a) == struct.pack(">d", b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return type(b) is dict and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


PLAIN = [None, True, False, ..., 0, -1, 2**200, -(3**150), 0.1, -0.0, math.inf, -math.inf, float("nan"),
         1 + 2j, "", "ünïcödé ✓", b"\x00\xff", [1, [2, (3, {"a": 4})]], (), {1: "x", (2, 3): [4.5]},
         {1, 2, "three"}, frozenset({4}), slice(1, None, -2), np.float64(2.5), np.int8(-3), np.bool_(True),
         np.arange(12.0).reshape(3, 4)[:, ::2], np.array(7, dtype=np.int16), np.zeros((0, 3)),
         np.array(["ab", "c"]), np.array([1 + 1j], dtype=np.complex64),
         torch.arange(6, dtype=torch.float64).reshape(2, 3).T, torch.tensor(3.5), torch.zeros(0, 2),
         torch.ones(2, dtype=torch.bfloat16), torch.tensor([True, False]), torch.tensor([1 + 2j]),
         torch.randn(3, requires_grad=True), torch.arange(4, dtype=torch.int64), torch.Size([2, 3]), torch.float16]


@pytest.mark.parametrize("value", PLAIN, ids=lambda v: type(v).__name__)
def test_plain_values_round_trip_exactly(value) -> None:
    out = wire.decode(wire.encode(value))
    if isinstance(value, float) and math.isnan(value):
        assert type(out) is float and math.isnan(out)
    elif isinstance(value, (set, frozenset, slice, torch.Size, torch.dtype, np.generic)):
        assert type(out) is type(value) and out == value
    else:
        assert _same(value, out), (value, out)


def test_subclasses_cross_as_their_plain_value_and_other_objects_as_inert_placeholders() -> None:
    class Liar(float):
        def __eq__(self, other):
            return True

        def __float__(self):
            return 42.0

        __hash__ = float.__hash__

    class Always(list):
        def __eq__(self, other):
            return True

    out = wire.decode(wire.encode([Liar(1.5), Always([1]), torch.nn.Parameter(torch.ones(2))]))
    assert type(out[0]) is float and out[0] == 1.5 and type(out[1]) is list and out[1] == [1]
    assert type(out[2]) is torch.Tensor and out[2].requires_grad

    class Anything:
        def __eq__(self, other):
            return True

    placeholder = wire.decode(wire.encode(Anything()))
    assert isinstance(placeholder, wire.Unsupported) and "Anything" in repr(placeholder)
    for use in (lambda x: x == 1, lambda x: abs(x), lambda x: x < 2, lambda x: x + 1, bool, float, len,
                lambda x: x.shape, lambda x: x[0], lambda x: x()):
        with pytest.raises(TypeError, match="cannot be graded"):
            use(placeholder)


@pytest.mark.parametrize("data, why", [
    (b"", "truncated"), (b"Q", "unknown tag"), (wire.encode([1, 2])[:-1], "truncated"),
    (wire.encode(1) + b"N", "trailing"), (b"l" + struct.pack(">I", 2**31), "count"),
    (b"a" + wire.encode("|O")[1:] + struct.pack(">I", 0) + struct.pack(">Q", 8) + bytes(8), "not allowed"),
    (b"P" + wire.encode("float64")[1:] + b"F" + struct.pack(">I", 1) + struct.pack(">Q", 3)
     + struct.pack(">Q", 8) + bytes(8), "size"),
    (b"l\x00\x00\x00\x01" * 100 + b"N", "deep"),
    (b"\x80\x04\x95" + bytes(20), "unknown tag"),  # a pickle is not a message
])
def test_malformed_input_is_refused(data: bytes, why: str) -> None:
    with pytest.raises(wire.WireError, match=why):
        wire.decode(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_random_bytes_decode_to_a_value_or_a_wire_error(data: bytes) -> None:
    try:
        wire.decode(data)
    except wire.WireError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 255))
def test_mutated_messages_decode_to_a_value_or_a_wire_error(where: int, byte: int) -> None:
    msg = bytearray(wire.encode(["x", 1.5, {"t": torch.arange(3.0)}, np.ones(2), (2**70, None)]))
    msg[where % len(msg)] = byte
    try:
        wire.decode(bytes(msg))
    except wire.WireError:
        pass


def test_in_place_changes_are_written_back_into_the_same_objects() -> None:
    t, a, d, lst = torch.zeros(3), np.zeros(2), {"m": torch.zeros(2), "gone": 1}, [torch.zeros(1), 5]
    keep = (d["m"], lst[0])
    restore(t, torch.ones(3))
    restore(a, np.ones(2))
    restore(d, {"m": torch.ones(2), "t": 3})
    restore(lst, [torch.ones(1), 6, 7])
    assert t.tolist() == [1, 1, 1] and a.tolist() == [1, 1]
    assert d["m"] is keep[0] and d["m"].tolist() == [1, 1] and d == {"m": d["m"], "t": 3}
    assert lst[0] is keep[1] and lst[1:] == [6, 7]


def test_only_functions_without_side_effects_are_shipped() -> None:
    counted, A = [], torch.eye(2)
    g = torch.Generator()
    assert _pure((lambda v: A @ v + torch.sin(v).sum()).__code__)
    assert _pure((lambda xs: [x * 2 for x in xs]).__code__)
    assert not _pure((lambda v: counted.append(1) or v).__code__)
    assert not _pure((lambda v: v.add_(1)).__code__)
    assert not _pure((lambda n: torch.randn(n, generator=g)).__code__)

    def sets_item(v):
        v[0] = 1
        return v

    assert not _pure(sets_item.__code__)


# ------------------------------------------------------------------- a check's use of a function

KEY = '''# %%
import numpy as np
import torch

from mlcourse.grading import check

model = torch.nn.Linear(2, 1, bias=False)
with torch.no_grad():
    model.weight.zero_()
calls = []


def counted(x):  # a side effect here, in the grader's process: it must be called back
    calls.append(x)
    return 10 * x


# %%
def sgd_step(w, state, lr):
    ### BEGIN SOLUTION
    state["t"] = state.get("t", 0) + 1
    state["v"] = 0.5 * state["v"] + w
    w -= lr * state["v"]
    ### END SOLUTION


def scale_rows(a):
    ### BEGIN SOLUTION
    a /= a.sum(axis=1, keepdims=True)
    ### END SOLUTION


def apply(f, xs):
    ### BEGIN SOLUTION
    return [f(x) for x in xs]
    ### END SOLUTION


def make_adder(k):
    ### BEGIN SOLUTION
    return lambda x: x + k
    ### END SOLUTION


def draw(g, n):
    ### BEGIN SOLUTION
    return torch.rand(n, generator=g, dtype=torch.float64)
    ### END SOLUTION


def train(net, steps):
    ### BEGIN SOLUTION
    opt = torch.optim.SGD(net.parameters(), lr=0.2)
    x, y = torch.eye(2), torch.tensor([[1.0], [2.0]])
    for _ in range(steps):
        opt.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        opt.step()
    ### END SOLUTION


# %% tags=["check"]
with check("Q1 in place", hint="change the arguments themselves"):
    w, state = torch.ones(3, dtype=torch.float64), {"v": torch.zeros(3, dtype=torch.float64)}
    assert sgd_step(w, state, 0.1) is None
    assert torch.allclose(w, torch.full((3,), 0.9, dtype=torch.float64)) and state["t"] == 1
    assert torch.allclose(state["v"], torch.ones(3, dtype=torch.float64))
    a = np.array([[1.0, 3.0], [2.0, 2.0]])
    scale_rows(a)
    assert np.allclose(a, [[0.25, 0.75], [0.5, 0.5]])

# %% tags=["check"]
M = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
with check("Q2 functions both ways", hint="call what you are given"):
    assert apply(counted, [1, 2, 3]) == [10, 20, 30] and calls == [1, 2, 3]
    swapped = apply(lambda v: M @ v, [torch.tensor([1.0, 2.0])])
    assert torch.equal(swapped[0], torch.tensor([2.0, 1.0]))
    add3 = make_adder(3)
    assert add3(4) == 7 and apply(add3, [0, 1]) == [3, 4]

# %% tags=["check"]
with check("Q3 generator", hint="draw from the generator you are given"):
    g = torch.Generator().manual_seed(5)
    first = draw(g, 3)
    second = draw(g, 2)  # the generator moved on, here as in the student's process
    ref = torch.Generator().manual_seed(5)
    assert torch.equal(first, torch.rand(3, generator=ref, dtype=torch.float64))
    assert torch.equal(second, torch.rand(2, generator=ref, dtype=torch.float64))

# %% tags=["check"]
with check("Q4 a model trained in place", hint="train the model you are given"):
    train(model, 300)
    assert torch.allclose(model.weight, torch.tensor([[1.0, 2.0]]), atol=1e-3)
'''
WRONG = {  # no in-place change, a callback never called, the wrong generator, a copy trained
    "sgd_step,scale_rows,apply,make_adder,draw,train": '''
import torch
def sgd_step(w, state, lr):
    w = w - lr * w
def scale_rows(a):
    return a / a.sum(axis=1, keepdims=True)
def apply(f, xs):
    return [10 * x for x in xs]
def make_adder(k):
    return lambda x: x + k
def draw(g, n):
    return torch.rand(n, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
def train(net, steps):
    import copy
    net = copy.deepcopy(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.2)
    for _ in range(steps):
        opt.zero_grad()
        ((net(torch.eye(2)) - torch.tensor([[1.0], [2.0]])) ** 2).mean().backward()
        opt.step()
'''}


def test_checks_use_student_functions_as_they_would_in_the_notebook(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "91_calls.py"
    key.parent.mkdir()
    key.write_text(KEY)
    exercise = nbs.make_exercise(nbs.read(key), "91_calls")
    solution = nbs.read(key)
    for name, nb in {"right": solution, "wrong": exercise}.items():
        nb = copy.deepcopy(nb)
        if name == "wrong":
            for cell in nb.cells:
                aid = cell.get("metadata", {}).get("mlcourse", {}).get("answer")
                if aid in WRONG:
                    cell.source = WRONG[aid]
        (tmp_path / name).mkdir()
        nbs._write_ipynb(nb, tmp_path / name / "91_calls.ipynb")
    limits = Limits(cell_timeout=60, notebook_timeout=120)
    right = grade_with_key(tmp_path / "right" / "91_calls.ipynb", key, limits)
    wrong = grade_with_key(tmp_path / "wrong" / "91_calls.ipynb", key, limits)
    assert [r.passed for r in right.results] == [True] * 4, right.results
    assert [r.passed for r in wrong.results] == [False] * 4, wrong.results
