"""Plain values across a process boundary — never pickled — for grading with a key.

The grader and the process that runs a student's code exchange only *data*: ``None``, booleans,
``...``, integers of any size, floats, complex numbers, strings, bytes, lists, tuples, dicts, sets,
``slice`` objects, NumPy arrays and scalars and torch tensors (rebuilt from raw bytes, a dtype from a
fixed list and a shape), ``torch.Size`` and ``torch.dtype``. Anything else crosses only through an
*extension* that each side chooses (a handle to a function, a reference to a global name, a
``torch.Generator`` state) — or not at all: :class:`Unsupported` stands in for it.

:func:`decode` is written for hostile input: every length is checked against the bytes that remain,
nesting is limited, a tensor's byte count must equal its shape times its item size, and nothing from
the input is ever evaluated or imported. The objects it returns are built by the grader's own
constructors, so the decoded value of a student's answer cannot carry methods of the student's making.

Framing: each message is an 8-byte big-endian length followed by the encoded value.
"""

from __future__ import annotations

import functools
import math
import os
import struct
import sys
from typing import Any, Callable

MAX_DEPTH = 64
MAX_MESSAGE = 512 * 1024 * 1024  # bytes; a larger frame is a protocol error

NUMPY_KINDS = "biufcUS"  # bool, int, uint, float, complex, unicode, bytes: raw bytes are all they hold
TORCH_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
                "float64", "complex64", "complex128")


class WireError(ValueError):
    """Malformed input, or a value that cannot be encoded."""


class Unsupported:
    """Stands for a value that cannot cross (a module, an open file, an object of a student's class).

    Every use raises TypeError with the type's name, so a check that reads it fails and says why."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str) -> None:
        object.__setattr__(self, "type_name", type_name[:80])

    def _refuse(self, *_args: Any, **_kwargs: Any):
        raise TypeError(f"an answer of type {self.type_name} cannot be graded: use numbers, strings, "
                        f"lists, tuples, dicts, NumPy arrays or torch tensors")

    __call__ = __bool__ = __len__ = __iter__ = __getitem__ = __float__ = __int__ = __index__ = _refuse
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __abs__ = __neg__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _refuse
    __matmul__ = __rmatmul__ = __pow__ = __rpow__ = __contains__ = __array__ = _refuse
    __hash__ = None  # type: ignore[assignment]

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        self._refuse()

    def __repr__(self) -> str:
        return f"<an answer of type {self.type_name} that cannot be graded>"


Extension = Callable[[Any], "tuple[str, Any] | None"]
"""Encoder side: given an object that is not plain data, return ``(name, payload)`` — the payload
itself plain data — or None (the value becomes :class:`Unsupported`)."""
Resolver = Callable[[str, Any], Any]
"""Decoder side: given an extension's name and decoded payload, return the object it stands for."""


# ----------------------------------------------------------------------------------------- encoding

def _torch():
    return sys.modules.get("torch")  # a tensor can only exist if torch was imported


def _numpy():
    return sys.modules.get("numpy")


class _Encoder:
    def __init__(self, extension: Extension | None, strict: bool) -> None:
        self.out = bytearray()
        self.extension = extension
        self.strict = strict  # strict: raise WireError instead of encoding Unsupported

    def u32(self, n: int) -> None:
        self.out += struct.pack(">I", n)

    def blob(self, b: bytes) -> None:
        self.out += struct.pack(">Q", len(b))
        self.out += b

    def text(self, s: str) -> None:
        self.blob(s.encode("utf-8", "surrogatepass"))

    def value(self, obj: Any, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            raise WireError("nested too deeply")
        t = type(obj)
        out = self.out
        if obj is None:
            out += b"N"
        elif obj is Ellipsis:
            out += b"E"
        elif t is bool:
            out += b"T" if obj else b"F"
        elif t is int:
            self._int(obj)
        elif t is float:
            out += b"f" + struct.pack(">d", obj)
        elif t is complex:
            out += b"c" + struct.pack(">dd", obj.real, obj.imag)
        elif t is str:
            out += b"s"
            self.text(obj)
        elif t is bytes:
            out += b"y"
            self.blob(obj)
        elif t in (list, tuple, set, frozenset):
            out += {list: b"l", tuple: b"t", set: b"S", frozenset: b"Z"}[t]
            self.u32(len(obj))
            for item in obj:
                self.value(item, depth + 1)
        elif t is dict:
            out += b"d"
            self.u32(len(obj))
            for k, v in obj.items():
                self.value(k, depth + 1)
                self.value(v, depth + 1)
        elif t is slice:
            out += b"L"
            for part in (obj.start, obj.stop, obj.step):
                self.value(part, depth + 1)
        elif not self._array_like(obj, t, depth):
            self._other(obj, t, depth)

    def _int(self, n: int) -> None:
        self.out += b"i"
        self.blob(n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True))

    def _array_like(self, obj: Any, t: type, depth: int) -> bool:
        np, torch = _numpy(), _torch()
        if np is not None and issubclass(t, np.ndarray):
            arr = np.array(obj, order="C", copy=not obj.flags.c_contiguous)  # (ascontiguousarray makes 0-d 1-d)
            if arr.dtype.kind not in NUMPY_KINDS:
                return False
            self.out += b"a"
            self.text(arr.dtype.str)
            self.u32(arr.ndim)
            for n in arr.shape:
                self.out += struct.pack(">Q", n)
            self.blob(arr.tobytes())
            return True
        if np is not None and issubclass(t, np.generic):
            dt = np.dtype(t)
            if dt.kind not in NUMPY_KINDS:
                return False
            self.out += b"g"
            self.text(dt.str)
            self.blob(np.asarray(obj).tobytes())
            return True
        if torch is not None and issubclass(t, torch.Tensor):
            x = torch.Tensor.detach(obj)
            name = str(x.dtype).removeprefix("torch.")
            if name not in TORCH_DTYPES or x.layout != torch.strided or x.is_quantized or x.is_meta:
                return False
            x = x.cpu().contiguous()
            raw = x.reshape(-1).view(torch.uint8).numpy().tobytes() if x.numel() else b""
            self.out += b"P"
            self.text(name)
            self.out += b"T" if obj.requires_grad else b"F"
            self.u32(x.dim())
            for n in x.shape:
                self.out += struct.pack(">Q", n)
            self.blob(raw)
            return True
        if torch is not None and t is torch.Size:
            self.out += b"z"
            self.u32(len(obj))
            for n in obj:
                self._int(int(n))
            return True
        if torch is not None and t is torch.dtype:
            name = str(obj).removeprefix("torch.")
            if name not in TORCH_DTYPES:
                return False
            self.out += b"D"
            self.text(name)
            return True
        # subclasses of the plain types (numpy's float64 is one): their plain value, never their methods
        for base, conv in ((bool, bool), (int, int.__index__), (float, float.__float__), (str, str.__str__),
                           (complex, complex.__complex__)):
            if issubclass(t, base):
                self.value(base(conv(obj)), depth + 1)
                return True
        if issubclass(t, dict):
            self.value(dict(dict.items(obj)), depth + 1)
            return True
        for base in (list, tuple):  # named tuples become tuples
            if issubclass(t, base):
                self.value(base(base.__iter__(obj)), depth + 1)
                return True
        return False

    def _other(self, obj: Any, t: type, depth: int) -> None:
        if self.extension is not None:
            found = self.extension(obj)
            if found is not None:
                name, payload = found
                self.out += b"X"
                self.text(name)
                self.value(payload, depth + 1)
                return
        if self.strict:
            raise WireError(f"cannot encode a {t.__qualname__}")
        self.out += b"U"
        self.text(f"{t.__module__}.{t.__name__}" if t.__module__ not in ("builtins", "__main__") else t.__name__)


def encode(obj: Any, extension: Extension | None = None, *, strict: bool = False) -> bytes:
    """The bytes of ``obj``. Objects that are not plain data go through ``extension``, else they are
    encoded as :class:`Unsupported` (or, with ``strict``, raise :class:`WireError`)."""
    enc = _Encoder(extension, strict)
    enc.value(obj)
    return bytes(enc.out)


# ----------------------------------------------------------------------------------------- decoding

class _Decoder:
    def __init__(self, data: bytes, resolver: Resolver | None) -> None:
        self.data = memoryview(data)
        self.pos = 0
        self.resolver = resolver

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise WireError("truncated message")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack(">Q", self.take(8))[0]

    def blob(self) -> bytes:
        return bytes(self.take(self.u64()))

    def text(self) -> str:
        return self.blob().decode("utf-8", "surrogatepass")

    def count(self) -> int:
        n = self.u32()
        if n > len(self.data) - self.pos:  # every item takes at least one byte
            raise WireError("count larger than the message")
        return n

    def shape(self) -> tuple[int, ...]:
        ndim = self.u32()
        if ndim > 64:
            raise WireError("too many dimensions")
        return tuple(self.u64() for _ in range(ndim))

    def value(self, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise WireError("nested too deeply")
        tag = bytes(self.take(1))
        if tag == b"N":
            return None
        if tag == b"E":
            return Ellipsis
        if tag in (b"T", b"F"):
            return tag == b"T"
        if tag == b"i":
            raw = self.blob()
            if len(raw) > 1 << 20:
                raise WireError("integer too large")
            return int.from_bytes(raw, "big", signed=True)
        if tag == b"f":
            return struct.unpack(">d", self.take(8))[0]
        if tag == b"c":
            re, im = struct.unpack(">dd", self.take(16))
            return complex(re, im)
        if tag == b"s":
            return self.text()
        if tag == b"y":
            return self.blob()
        if tag in (b"l", b"t", b"S", b"Z"):
            items = [self.value(depth + 1) for _ in range(self.count())]
            if tag == b"l":
                return items
            if tag == b"t":
                return tuple(items)
            try:
                return set(items) if tag == b"S" else frozenset(items)
            except TypeError as exc:
                raise WireError("unhashable set item") from exc
        if tag == b"d":
            out = {}
            for _ in range(self.count()):
                k = self.value(depth + 1)
                try:
                    out[k] = self.value(depth + 1)
                except TypeError as exc:
                    raise WireError("unhashable dict key") from exc
            return out
        if tag == b"L":
            parts = [self.value(depth + 1) for _ in range(3)]
            return slice(*parts)
        if tag == b"a":
            return self._ndarray()
        if tag == b"g":
            import numpy as np

            dt = self._np_dtype(self.text())
            raw = self.blob()
            if len(raw) != dt.itemsize:
                raise WireError("scalar size does not match its dtype")
            return np.frombuffer(raw, dtype=dt)[0]
        if tag == b"P":
            return self._tensor()
        if tag == b"z":
            import torch

            return torch.Size(self._small_int(self.value(depth + 1)) for _ in range(self.count()))
        if tag == b"D":
            import torch

            name = self.text()
            if name not in TORCH_DTYPES:
                raise WireError(f"dtype {name!r} not allowed")
            return getattr(torch, name)
        if tag == b"U":
            return Unsupported(self.text())
        if tag == b"X":
            name = self.text()
            payload = self.value(depth + 1)
            if self.resolver is None:
                return Unsupported(f"<{name}>")
            return self.resolver(name, payload)
        raise WireError(f"unknown tag {tag!r}")

    @staticmethod
    def _small_int(n: Any) -> int:
        if type(n) is not int or not 0 <= n < 1 << 62:
            raise WireError("bad size")
        return n

    @staticmethod
    def _np_dtype(text: str):
        import numpy as np

        try:
            dt = np.dtype(text)
        except TypeError as exc:
            raise WireError(f"bad dtype {text!r}") from exc
        if dt.kind not in NUMPY_KINDS or dt.fields is not None or dt.subdtype is not None:
            raise WireError(f"dtype {text!r} not allowed")
        return dt

    def _ndarray(self):
        import numpy as np

        dt = self._np_dtype(self.text())
        shape = self.shape()
        raw = self.blob()
        if math.prod(shape) * dt.itemsize != len(raw):
            raise WireError("array size does not match its shape")
        return np.frombuffer(raw, dtype=dt).reshape(shape).copy() if raw else np.zeros(shape, dtype=dt)

    def _tensor(self):
        import torch

        name = self.text()
        if name not in TORCH_DTYPES:
            raise WireError(f"dtype {name!r} not allowed")
        dtype = getattr(torch, name)
        requires_grad = bytes(self.take(1)) == b"T"
        shape = self.shape()
        raw = self.blob()
        itemsize = _itemsize(dtype)
        if math.prod(shape) * itemsize != len(raw):
            raise WireError("tensor size does not match its shape")
        x = (torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape) if raw
             else torch.zeros(shape, dtype=dtype))
        if requires_grad and (x.is_floating_point() or x.is_complex()):
            x.requires_grad_(True)
        return x


@functools.lru_cache(maxsize=None)
def _itemsize(dtype) -> int:
    import torch

    return torch.empty((), dtype=dtype).element_size()


def decode(data: bytes, resolver: Resolver | None = None) -> Any:
    """The value encoded in ``data``; extensions are passed to ``resolver``. Raises WireError on
    anything malformed (including trailing bytes)."""
    dec = _Decoder(data, resolver)
    try:
        out = dec.value()
    except (struct.error, UnicodeDecodeError, OverflowError, MemoryError) as exc:
        raise WireError(f"malformed message: {type(exc).__name__}") from exc
    if dec.pos != len(dec.data):
        raise WireError("trailing bytes")
    return out


# ------------------------------------------------------------------------------------------ framing

def write_frame(fd: int, payload: bytes) -> None:
    """Write one message to a file descriptor (blocking, complete)."""
    view = memoryview(struct.pack(">Q", len(payload)) + payload)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_exact(fd: int, n: int) -> bytes:
    """Read exactly ``n`` bytes; EOFError if the other side closed first."""
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the other process closed the channel")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> bytes:
    (n,) = struct.unpack(">Q", read_exact(fd, 8))
    if n > MAX_MESSAGE:
        raise WireError(f"message of {n} bytes is over the {MAX_MESSAGE} byte limit")
    return read_exact(fd, n)
