"""Every public callable of the topic modules answers bad input in words, or gives a finite result
of the documented shape: never an error from deep inside torch or numpy, a hang, or a silent NaN.

The callables are found by introspection (:func:`bad_inputs.public_callables`), so a function added
to a topic module is walked as soon as it exists; it needs a small valid call in
``tests/bad_inputs.py`` (the test says so). Two tests per callable: every fixed bad input of every
argument (NaN/inf, negative and fractional sizes, wrong types, unavailable devices, non-float dtypes,
numpy, the other float dtype, empty, a row less, a trailing dimension), and hypothesis varying the
bad values (where the NaN sits, how negative, which fraction or string). ``python
tests/bad_inputs.py`` prints the counts by class.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bad_inputs as B

X0_INTO_F = ("x0 of another length than f takes: the error is raised by f (here the course's own "
             "test function), which names its own argument, x")
EXEMPT = {  # (callable, argument, mutation) → why the answer is right although the walk flags it
    ("fractal.convergence_measure", "losses", "nan"): (
        "loss curves of diverged networks are non-finite by design: the measure maps NaN and inf "
        "to max_value (documented)"),
    ("fractal.convergence_measure", "losses", "inf"): "as for NaN: a diverged loss is inf by design",
    ("fractal.outcome", "losses", "nan"): (
        "as for convergence_measure: a diverged loss curve is non-finite by design, and outcome says so (code 2)"),
    ("fractal.outcome", "losses", "inf"): "as for NaN: a diverged loss is inf by design (code 2)",
    ("fractal.Picture", "name", "unknown-name"): "a new picture's name is free text (it names its cache file)",
    ("fractal.Picture", "title", "unknown-name"): "a title is free text",
    ("search.cached_comparison", "name", "unknown-name"): "a new comparison's name is free text (it names its cache)",
    ("hypernets.pareto_toy_losses", "x", "trailing-dim"): (
        "x is [..., d]: a trailing 1 makes every entry a point of dimension d = 1, a valid batch"),
    **{(f"optimizers.{name}", "x0", label): X0_INTO_F
       for name in ("run", "torch_optim_path", "gradient_flow", "forward_gradient_descent")
       for label in ("empty", "row-less")},
}
TIME_LIMIT_S = 5.0
EXAMPLES = int(os.environ.get("MLCOURSE_FUZZ_EXAMPLES", "6"))
WALKED = sorted(q for q in B.public_callables() if q not in B.NOT_WALKED)


def _fail(qualname: str, m: B.Mutation, outcome: B.Outcome) -> str:
    shown = m.value if not hasattr(m.value, "shape") else f"{type(m.value).__name__} {list(m.value.shape)}"
    return (f"{qualname}({m.param}={m.label}: {shown!r}) → {outcome.kind}: {outcome.detail}. "
            f"Check the argument (mlcourse.inputs.checked) so the call refuses it in words, or list "
            f"it in EXEMPT with the reason")


def _judge(qualname: str, m: B.Mutation) -> str | None:
    fn = B.public_callables()[qualname]
    base, _ = B.base_result(qualname)
    outcome = B.classify(fn, B.valid_call(qualname), m, base, TIME_LIMIT_S)
    if outcome.kind in ("ok", "clear") or (qualname, m.param, m.label) in EXEMPT:
        return None
    return _fail(qualname, m, outcome)


def test_every_public_callable_is_walked() -> None:
    missing = [q for q in B.public_callables() if q not in B.recipes() and q not in B.NOT_WALKED]
    assert not missing, (f"no valid call for {missing}: add one to _recipes in tests/bad_inputs.py "
                         f"(or a reason to NOT_WALKED)")
    stale = [q for q in B.recipes() if q not in B.public_callables()]
    assert not stale, f"recipes for callables that no longer exist: {stale}"
    assert len(WALKED) >= 200


@pytest.mark.parametrize("qualname", WALKED)
def test_every_fixed_bad_input_is_answered_in_words(qualname: str) -> None:
    base, seconds = B.base_result(qualname)  # the valid call works, is finite, and is cheap
    assert seconds < 5, f"the valid call of {qualname} takes {seconds:.1f} s: make its recipe smaller"
    fn = B.public_callables()[qualname]
    failures = [msg for m in B.mutations(fn, B.valid_call(qualname)) if (msg := _judge(qualname, m))]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("qualname", WALKED)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_generated_bad_inputs_are_answered_in_words(qualname: str, data: st.DataObject) -> None:
    fn = B.public_callables()[qualname]
    m = B.draw(data, fn, B.valid_call(qualname))
    message = None if m is None else _judge(qualname, m)
    assert message is None, message


def test_every_listed_exception_is_still_needed() -> None:
    """An exception that the code now handles in words is taken off the list."""
    for (qualname, param, label), reason in EXEMPT.items():
        assert reason
        fn = B.public_callables()[qualname]
        kwargs = B.valid_call(qualname)
        m = next(m for m in B.mutations(fn, kwargs) if (m.param, m.label) == (param, label))
        outcome = B.classify(fn, kwargs, m, B.base_result(qualname)[0], TIME_LIMIT_S)
        assert outcome.kind not in ("ok", "clear"), f"{qualname}({param}={label}) is {outcome.kind} now: unlist it"
