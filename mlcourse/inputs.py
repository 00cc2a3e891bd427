"""The course's input convention: every public function answers a bad argument in words.

One decorator, :func:`checked`, put on a public function (or class) of a topic module, reads the
function's annotations and checks every argument before the body runs:

- ``Tensor`` (or ``Array``) arguments: numpy arrays, lists and numbers are converted with
  ``torch.as_tensor``; anything else is a TypeError; NaN or inf entries are a ValueError;
- ``np.ndarray`` arguments: converted with ``numpy.asarray`` (float), finite;
- ``float`` arguments: a finite real number (a 0-d tensor is let through unchanged, checked);
- ``int`` arguments: an integer (``3.0`` becomes 3, ``2.5`` is refused), at least 0 unless the name
  is a seed; ``bool`` and ``str`` arguments: of that type; ``Callable`` arguments: callable;
- ``device``: resolved by :func:`mlcourse.runtime.get_device` (None is left to the function);
  ``dtype``: a floating torch dtype (``"float64"`` is accepted); ``generator``: a torch.Generator;
- tuples of floats (ranges, betas) finite, tuples of ints at least 0.

Floating tensors of one call are brought to one dtype (the wider one: float32 with float64 gives
float64); tensors on two devices are refused. Anything the annotations cannot say — a range, a
minimum size, equal shapes — is an explicit rule: ``@checked(lr=positive, steps=size,
same_shape=("mu", "sigma"))``. Every message names the argument. The checks cost a few microseconds
per argument; inside ``torch.func`` transforms (vmap, grad) values are not inspected.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import math
import numbers
import re
import types
import typing
from collections.abc import Callable as AbcCallable
from typing import Any, Callable, Iterable, TypeVar

import numpy as np
import torch

from mlcourse import runtime

F = TypeVar("F", bound=Callable[..., Any])
Rule = Callable[[Any, str], Any]
"""A rule takes the value and the argument's name, returns the (converted) value or raises."""

SEED = re.compile(r"(^|_)seed$")
_depth = contextvars.ContextVar("mlcourse_inputs_depth", default=0)
"""How many checked calls are running in this thread. Values are inspected at depth 0 only: at the
boundary where a user hands them in. A call from inside the package (an optimizer's iterate that
diverged on purpose, a loss evaluated along a diverging run) is trusted."""
SKIP = object()  # explicit rule: do not check this argument


# ---------------------------------------------------------------------------------------- helpers

def _wrapped(t: torch.Tensor) -> bool:
    """True for tensors whose values are not inspected: inside torch.func transforms (vmap, grad,
    jvp: no data-dependent control flow there), or handed over by a checked call of the package."""
    if _depth.get() > 0:
        return True
    try:
        return bool(torch._C._functorch.is_functorch_wrapped_tensor(t))
    except AttributeError:  # very old torch
        return False


def _show(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {list(value.shape)} ({str(value.dtype).replace('torch.', '')})"
    if isinstance(value, np.ndarray):
        return f"an array of shape {list(value.shape)} ({value.dtype})"
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def _bounds_text(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> str:
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {hi:g}"
    return ""


def _outside(x: float, lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> bool:
    if lo is not None and (x < lo or (lo_open and x == lo)):
        return True
    return hi is not None and (x > hi or (hi_open and x == hi))


# ------------------------------------------------------------------------------------------ rules

def number(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
           hi_open: bool = False, finite: bool = True, what: str | None = None) -> Rule:
    """A real number (int, float, numpy scalar or 0-d tensor), finite, optionally in a range;
    ``what`` describes it in messages ("lr (learning rate) must be > 0")."""
    where = _bounds_text(lo, hi, lo_open, hi_open)

    def rule(value: Any, name: str) -> Any:
        name = f"{name} ({what})" if what else name
        if isinstance(value, torch.Tensor):
            if value.numel() != 1:
                raise ValueError(f"{name} must be a number, got {_show(value)}")
            if _wrapped(value):
                return value
            x = float(value.detach().reshape(()))
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            x = float(value)
        else:
            raise TypeError(f"{name} must be a number, got {_show(value)}")
        if finite and not math.isfinite(x):
            raise ValueError(f"{name} must be a finite number{' ' + where if where else ''}, got {x!r}")
        if math.isnan(x) or _outside(x, lo, hi, lo_open, hi_open):
            raise ValueError(f"{name} must be {where}, got {x!r}")
        return value
    return rule


real = number()
positive = number(0.0, lo_open=True)
nonnegative = number(0.0)
fraction = number(0.0, 1.0, hi_open=True)  # momentum-like: [0, 1)
probability = number(0.0, 1.0)
learning_rate = number(0.0, lo_open=True, what="learning rate")


def integer(lo: int | None = 0, hi: int | None = None) -> Rule:
    """An integer (Python, numpy or a whole float like 3.0, which becomes 3), at least ``lo``."""
    where = _bounds_text(lo, hi, False, False)

    def rule(value: Any, name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, (numbers.Integral, float, np.floating)):
            raise TypeError(f"{name} must be an integer, got {_show(value)}")
        if not (isinstance(value, numbers.Integral) or (math.isfinite(value) and float(value).is_integer())):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        n = int(value)
        if _outside(n, lo, hi, False, False):
            raise ValueError(f"{name} must be {where}, got {n}")
        return n
    return rule


size = integer(1)  # a count of things that must exist: points, steps of a grid, dimensions
count = integer(0)  # a count that may be zero: steps, iterations
any_integer = integer(None)


def rate(value: Any, name: str) -> Any:
    """A learning rate: a number >= 0, or a dict of tensors (one rate per parameter, Meta-SGD)."""
    if isinstance(value, dict):
        for key, v in value.items():
            tensor()(v, f"{name}[{key!r}]")
        return value
    return nonnegative(value, name)


def one_of(*choices: Any) -> Rule:
    def rule(value: Any, name: str) -> Any:
        if value not in choices:
            raise ValueError(f"unknown {name} {_show(value)}: choose one of {', '.join(map(repr, choices))}")
        return value
    return rule


def of_type(*types_: type, what: str | None = None) -> Rule:
    what = what or " or ".join(t.__name__ for t in types_)

    def rule(value: Any, name: str) -> Any:
        if not isinstance(value, types_):
            raise TypeError(f"{name} must be {what}, got {_show(value)}")
        return value
    return rule


def _callable(value: Any, name: str) -> Any:
    if not callable(value):
        raise TypeError(f"{name} must be callable (a function), got {_show(value)}")
    return value


def _generator(value: Any, name: str) -> Any:
    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator or None, got {_show(value)}")
    return value


def _device(value: Any, name: str) -> Any:
    if value is None:
        return None
    if not isinstance(value, (str, torch.device)):
        raise TypeError(f"{name} must be a device name such as 'cpu' or a torch.device, got {_show(value)}")
    try:
        return runtime.get_device(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _dtype(value: Any, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = getattr(torch, value.replace("torch.", ""), value)
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        raise ValueError(f"{name} must be a floating torch dtype (torch.float32 or torch.float64), "
                         f"got {_show(value)}")
    return value


def tensor(ndim: int | Iterable[int] | None = None, *, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False, hi_open: bool = False, finite: bool = True,
           integral: bool = False) -> Rule:
    """A tensor (array-likes converted), with ``ndim`` dimensions (one of them), entries finite
    (unless ``finite=False``) and in a range; ``integral``: integer or boolean entries (labels, masks)."""
    dims = None if ndim is None else ({ndim} if isinstance(ndim, int) else set(ndim))
    where = _bounds_text(lo, hi, lo_open, hi_open)

    def rule(value: Any, name: str) -> torch.Tensor:
        t = as_tensor(value, name)
        if dims is not None and t.dim() not in dims:
            want = " or ".join(f"{d}-d" for d in sorted(dims))
            raise ValueError(f"{name} must be {want}, got shape {list(t.shape)}")
        if integral and (t.is_floating_point() or t.is_complex()):
            raise TypeError(f"{name} must hold integers (labels or indices), got {_show(t)}")
        if _wrapped(t) or t.numel() == 0:
            return t
        d = t.detach()
        if finite and (d.is_floating_point() or d.is_complex()) and not bool(torch.isfinite(d).all()):
            raise ValueError(f"{name} holds NaN or infinite entries")
        if where:
            lo_, hi_ = float(d.min()), float(d.max())
            if _outside(lo_, lo, hi, lo_open, hi_open) or _outside(hi_, lo, hi, lo_open, hi_open):
                raise ValueError(f"{name} must hold numbers {where}, got entries from {lo_:g} to {hi_:g}")
        return t
    return rule


def as_tensor(value: Any, name: str) -> torch.Tensor:
    """``value`` as a tensor: tensors as they are; numpy arrays, lists and numbers converted."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (np.ndarray, np.number, numbers.Number, list, tuple)) and not isinstance(value, bool):
        try:
            t = torch.as_tensor(np.asarray(value) if isinstance(value, (list, tuple)) else value)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(f"{name} must be a tensor or an array of numbers, got {_show(value)} ({exc})") from None
        return t  # a list of floats becomes float64, exactly as written (numpy's choice)
    raise TypeError(f"{name} must be a tensor or an array of numbers, got {_show(value)}")


def finite_numbers(value: Any, name: str) -> Any:
    """A number or an array-like of numbers, all finite, handed over *unchanged* (for functions that
    convert it themselves, e.g. to float64: converting here would round a Python float to float32)."""
    t = as_tensor(value, name)
    if t.is_floating_point() or t.is_complex():
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} must be finite, got {_show(value)} with NaN or infinite entries")
    elif t.dtype == torch.bool:
        raise TypeError(f"{name} must be numbers, got booleans")
    return value


def array(*, finite: bool = True) -> Rule:
    """A numpy float array (tensors and lists converted), entries finite."""
    def rule(value: Any, name: str) -> np.ndarray:
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        if isinstance(value, str) or not isinstance(value, (np.ndarray, list, tuple, numbers.Number)):
            raise TypeError(f"{name} must be an array of numbers, got {_show(value)}")
        try:
            a = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be an array of numbers, got {_show(value)}") from None
        if finite and not np.all(np.isfinite(a)):
            raise ValueError(f"{name} holds NaN or infinite entries")
        return a
    return rule


def each(rule: Rule, length: int | None = None) -> Rule:
    """A tuple or list whose entries each follow ``rule`` (``length`` entries if given)."""
    def check(value: Any, name: str) -> Any:
        if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list, range, np.ndarray)):
            raise TypeError(f"{name} must be a tuple or list, got {_show(value)}")
        if length is not None and len(value) != length:
            raise ValueError(f"{name} must have {length} entries, got {len(value)}")
        entries = [rule(v, f"{name}[{i}]") for i, v in enumerate(value)]
        return value if isinstance(value, range) else type(value)(entries) if isinstance(value, (tuple, list)) else value
    return check


def number_or_each(rule: Rule) -> Rule:
    """One number following ``rule``, or a tuple, list, range, tensor or array of them (e.g. one noise level per coordinate)."""
    def check(value: Any, name: str) -> Any:
        if isinstance(value, (torch.Tensor, np.ndarray)) and value.ndim > 0:  # one per entry: checked, kept as given
            each(rule)(value.tolist() if value.ndim == 1 else value.reshape(-1).tolist(), name)
            return value
        return each(rule)(value, name) if isinstance(value, (tuple, list, range)) else rule(value, name)
    return check


def pairs_of(rule: Rule) -> Rule:
    """A sequence of (lo, hi) pairs, e.g. search bounds; each entry follows ``rule``."""
    inner = each(rule, 2)

    def check(value: Any, name: str) -> Any:
        if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list, np.ndarray, torch.Tensor)):
            raise TypeError(f"{name} must be a sequence of (lo, hi) pairs, got {_show(value)}")
        for i, pair in enumerate(value):
            inner(list(pair) if isinstance(pair, (np.ndarray, torch.Tensor)) else pair, f"{name}[{i}]")
        return value
    return check


# --------------------------------------------------------------------------- rules from annotations

def _kinds(hint: Any) -> set[str]:
    """What an annotation allows, as a set of words (tensor, array, float, int, ...)."""
    if hint is Any or hint is inspect.Parameter.empty:
        return {"any"}
    if hint is type(None) or hint is None:
        return {"none"}
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_kinds(a) for a in typing.get_args(hint)))
    if origin is AbcCallable or hint is AbcCallable:
        return {"callable"}
    if origin in (tuple, list):
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        inner = set().union(*(_kinds(a) for a in args)) if args else {"any"}
        if inner <= {"int"}:
            return {"ints"}
        if inner <= {"float", "int"}:
            return {"floats"}
        return {"sequence"}
    table = {torch.Tensor: "tensor", np.ndarray: "array", bool: "bool", int: "int", float: "float", str: "str",
             torch.device: "device", torch.dtype: "dtype", torch.Generator: "generator"}
    return {table.get(hint, "other")}


def _hints(fn: Callable, owner: type | None = None) -> dict[str, Any]:
    """Resolved annotations of ``fn`` (for a class, also its fields'); {} where they do not resolve."""
    found: dict[str, Any] = {}
    for source in ((owner, fn) if owner is not None else (fn,)):
        try:
            found.update(typing.get_type_hints(source))
        except Exception:  # noqa: BLE001 - an annotation that does not resolve: no inferred rule for it
            pass
    return found


def infer(name: str, hint: Any) -> Rule | None:
    """The rule an annotation implies (None: nothing to check)."""
    kinds = _kinds(hint) - {"none"}
    if name == "device" or "device" in kinds:
        return _device
    if name == "dtype" or kinds == {"dtype"}:
        return _dtype
    if name == "generator" or kinds == {"generator"}:
        return _generator
    if "tensor" in kinds:
        if kinds & {"float", "int"}:  # a tensor or a plain number (e.g. log_lam)
            as_number, as_tensor_ = real, tensor()
            return lambda v, n: as_tensor_(v, n) if not isinstance(v, numbers.Real) or isinstance(v, bool) \
                else as_number(v, n)
        return tensor()
    if kinds == {"array"}:
        return array()
    if kinds == {"int"}:
        return any_integer if SEED.search(name) else count
    if kinds and kinds <= {"int", "float"}:
        return real
    if kinds == {"bool"}:
        return of_type(bool, np.bool_, what="True or False")
    if kinds == {"str"}:
        return of_type(str, what="a string")
    if kinds == {"callable"}:
        return _callable
    if kinds == {"floats"}:
        return each(real)
    if kinds == {"ints"}:
        return each(count)
    return None


# --------------------------------------------------------------------------------------- decorator

def _floating(values: dict[str, Any]) -> Iterable[tuple[str, torch.Tensor]]:
    """(name, tensor) of every tensor argument, and of tensors inside list or tuple arguments."""
    for name, v in values.items():
        if isinstance(v, torch.Tensor):
            yield name, v
        elif isinstance(v, (list, tuple)) and not hasattr(v, "_fields"):
            for i, t in enumerate(v):
                if isinstance(t, torch.Tensor):
                    yield f"{name}[{i}]", t


def _reconcile(values: dict[str, Any]) -> None:
    """One floating dtype for the tensors of a call, in place: a module argument's dtype if there is
    one (data follow the model), else the widest (float32 with float64 gives float64). Tensors on two
    devices are an error."""
    found = list(_floating(values))
    devices = {t.device for _, t in found}
    if len(devices) > 1:
        where = ", ".join(f"{n} on {t.device}" for n, t in found)
        raise ValueError(f"tensors on different devices: {where}; move them to one device first")
    dtypes = {t.dtype for _, t in found if t.is_floating_point()}
    modules = [v for n, v in values.items() if n != "self" and isinstance(v, torch.nn.Module)]
    model = next((p.dtype for m in modules for p in m.parameters() if p.is_floating_point()), None)
    if model is not None:
        target = model
    elif len(dtypes) > 1:
        target = functools.reduce(torch.promote_types, dtypes)
    else:
        return
    if dtypes <= {target}:
        return

    def cast(v: Any) -> Any:
        return v.to(target) if isinstance(v, torch.Tensor) and v.is_floating_point() else v
    for name, v in values.items():
        if isinstance(v, torch.Tensor):
            values[name] = cast(v)
        elif isinstance(v, (list, tuple)) and not hasattr(v, "_fields") and any(isinstance(t, torch.Tensor) for t in v):
            values[name] = type(v)(cast(t) for t in v)


_TOKEN = re.compile(r"\.\.\.|[A-Za-z_]\w*|\d+")


def _check_shapes(specs: dict[str, list[str]], values: dict[str, Any]) -> None:
    """Shapes against specs like ``"T d"`` or ``"... N d"``: a name is one dimension (at least 1,
    equal wherever the name recurs), a number a fixed size, ``_`` any size, ``...`` any leading
    dimensions (they must broadcast across the arguments)."""
    seen: dict[str, tuple[int, str]] = {}
    batch: dict[str, tuple[int, ...]] = {}

    def show(name: str) -> str:
        return f"{name} [{', '.join(specs[name])}] = {list(values[name].shape)}"
    for name, tokens in specs.items():
        value = values.get(name)
        if value is None or not hasattr(value, "shape"):
            continue
        shape = tuple(value.shape)
        fixed = [t for t in tokens if t != "..."]
        lead = len(shape) - len(fixed)
        if lead < 0 or (lead > 0 and tokens[:1] != ["..."]):
            least = "at least " if tokens[:1] == ["..."] else ""
            raise ValueError(f"{name} must be {least}{len(fixed)}-d [{', '.join(tokens)}], got shape {list(shape)}")
        if tokens[:1] == ["..."]:
            batch[name] = shape[:lead]
        for i, (token, n) in enumerate(zip(fixed, shape[lead:])):
            if token == "_":
                continue
            if token.isdigit():
                if n != int(token):
                    raise ValueError(f"{name} must have shape [{', '.join(tokens)}], got {list(shape)}")
                continue
            if n < 1:
                raise ValueError(f"{name} is empty: dimension {token} of {name} [{', '.join(tokens)}] "
                                 f"has size 0 (shape {list(shape)})")
            if token in seen and seen[token][0] != n:
                other = seen[token][1]
                if other == name:
                    kind = "square " if fixed.count(token) == len(fixed) == 2 else ""
                    raise ValueError(f"{name} must be {kind}[{', '.join(tokens)}], got {list(shape)}")
                raise ValueError(f"shapes do not match on {token}: {show(other)} but {show(name)}")
            seen.setdefault(token, (n, name))
    if len(batch) > 1:
        try:
            torch.broadcast_shapes(*batch.values())
        except RuntimeError:
            raise ValueError("leading (batch) dimensions do not broadcast: "
                             + ", ".join(show(n) for n in batch)) from None


def checked(fn: F | None = None, /, *, shapes: dict[str, str] | None = None,
            same_shape: tuple[str, ...] | Iterable[tuple[str, ...]] = (), reconcile: bool = True,
            **rules: Rule | object) -> F | Callable[[F], F]:
    """Check the arguments of ``fn`` by its annotations and ``rules`` (argument name → rule, or
    :data:`SKIP`; names of ``**kwargs`` entries too) before it runs. ``shapes`` gives tensor shapes
    as dimension names (``dict(keys="T d", values="T k", queries="... d")``), ``same_shape`` names
    arguments whose shapes must be equal. Works on functions and on classes (their ``__init__``).
    Use as ``@checked`` or ``@checked(lr=positive, ...)``."""
    groups = [same_shape] if same_shape and isinstance(next(iter(same_shape)), str) else list(same_shape)
    specs = {name: _TOKEN.findall(spec) for name, spec in (shapes or {}).items()}

    def decorate(target: F) -> F:
        is_class = inspect.isclass(target)
        original = target.__init__ if is_class else target
        sig = inspect.signature(original)
        hints = _hints(original, target if is_class else None)
        var_kw = next((n for n, p in sig.parameters.items() if p.kind is p.VAR_KEYWORD), None)
        unknown = (set(rules) | set(specs)) - set(sig.parameters)
        if unknown and var_kw is None:
            raise TypeError(f"checked: {target.__qualname__} has no argument {', '.join(sorted(unknown))}")
        plan: list[tuple[str, Rule, bool]] = []
        for name, p in sig.parameters.items():
            if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            hint = hints.get(name, p.annotation)
            rule = rules.get(name) or infer(name, hint)
            if rule is not None and rule is not SKIP:
                nullable = p.default is None or "none" in _kinds(hint)
                plan.append((name, rule, nullable))
        extra = {name: rule for name, rule in rules.items() if name in unknown and rule is not SKIP}
        kinds = {p.kind for p in sig.parameters.values()}
        positional = [n for n, p in sig.parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
        simple = not kinds & {inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.VAR_POSITIONAL}

        def bind(args: tuple, kwargs: dict) -> dict[str, Any] | None:
            """Arguments by name (cheaper than Signature.bind); None: let Python's own error come."""
            if not simple or len(args) > len(positional) or any(k in kwargs for k in positional[:len(args)]):
                return None
            values = dict(zip(positional, args))
            values.update(kwargs)
            return values

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = bind(args, kwargs)
            if values is None:
                return original(*args, **kwargs)  # raises Python's TypeError about the call itself
            for name, rule, nullable in plan:
                if name in values and not (values[name] is None and nullable):
                    values[name] = rule(values[name], name)
            for name, rule in extra.items():  # entries of **kwargs
                if values.get(name) is not None:
                    values[name] = rule(values[name], name)
            if reconcile:
                _reconcile(values)
            if specs:
                _check_shapes(specs, values)
            for group in groups:
                found = {n: tuple(values[n].shape) for n in group if hasattr(values.get(n), "shape")}
                if len(set(found.values())) > 1:
                    raise ValueError(f"{' and '.join(found)} must have the same shape (equal shapes), got "
                                     + ", ".join(f"{n} {list(s)}" for n, s in found.items()))
            token = _depth.set(_depth.get() + 1)
            try:
                return original(**values)
            finally:
                _depth.reset(token)

        wrapper.__signature__ = sig  # type: ignore[attr-defined]
        if is_class:
            target.__init__ = wrapper
            return target
        return wrapper  # type: ignore[return-value]

    return decorate(fn) if fn is not None else decorate


def need(condition: bool, message: str, error: type[Exception] = ValueError) -> None:
    """Raise ``error(message)`` unless ``condition``: a one-line check inside a function body."""
    if not condition:
        raise error(message)
