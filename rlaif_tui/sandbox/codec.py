"""The strict value codec between the trusted harness and the sandboxed child.

Only values of exact builtin types cross (None, bool, int, float, complex, str, bytes,
bytearray, list, tuple, dict, set, frozenset, range) plus a few stdlib value types rebuilt as
genuine instances on the other side: `collections.Counter`, `OrderedDict` and `deque`,
`fractions.Fraction`, `decimal.Decimal`. A `defaultdict` arrives as a plain `dict` (its factory
cannot cross) and a namedtuple as a plain `tuple` (its class is the candidate's); a generator
or other iterator is drained (up to the size limit) and arrives as an iterator over a list.
Anything else - a `str` subclass, an object with an always-true `__eq__` - is refused, so what
the harness compares is always a builtin value it built itself. Never pickle.

One exception, for results only (`encode(value, opaque=True)`, used by the child): a value of
another type crosses as an `Opaque` handle that carries only its type name and its truth value
(computed in the child). It equals nothing but itself, so it can pass `assert f(x)` (as
`True` could) but never `assert f(x) == expected`; outcomes that meet one are flagged
`opaque_value`. MBPP's regex tasks return `re.Match` objects tested that way.

Wire form: JSON, where None/bool/str/list and small ints and floats are themselves and every
other type is a one-key object naming it.
"""

from __future__ import annotations

import base64
import collections
import decimal
import fractions
import types
from collections.abc import Iterable
from typing import Any, cast

MAX_DEPTH = 100
MAX_ITEMS = 1_000_000
_INT_MAX = 1 << 62


class UnsupportedValue(Exception):
    """A value that cannot cross the sandbox boundary."""


class CodecError(Exception):
    """Bytes from the other side that do not decode to a value."""


_ITERATOR_TYPES: tuple[type, ...] = (
    types.GeneratorType,
    type(iter([])),
    type(iter(())),
    type(iter("")),
    type(iter(range(0))),
    type(iter({})),
    type(iter(set())),
    type({}.keys()),
    type({}.values()),
    type({}.items()),
    map,
    filter,
    zip,
    enumerate,
    reversed,
)


class Opaque:
    """A harness-side stand-in for a result of a type that cannot cross."""

    __slots__ = ("_truth", "type_name")

    def __init__(self, type_name: str, truth: bool | None) -> None:
        self.type_name = type_name
        self._truth = truth

    def __bool__(self) -> bool:
        if self._truth is None:
            raise TypeError(f"the truth value of the {self.type_name} result raised an error")
        return self._truth

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return f"<opaque {self.type_name}>"


class _Encoder:
    def __init__(self, opaque: bool = False) -> None:
        self.items = 0
        self.opaque = opaque

    def count(self, n: int = 1) -> None:
        self.items += n
        if self.items > MAX_ITEMS:
            raise UnsupportedValue(f"value has more than {MAX_ITEMS} items")

    def seq(self, values: Any, depth: int) -> list[Any]:
        return [self.enc(v, depth + 1) for v in values]

    def pairs(self, d: dict[Any, Any], depth: int) -> list[Any]:
        return [[self.enc(k, depth + 1), self.enc(v, depth + 1)] for k, v in d.items()]

    def enc(self, v: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise UnsupportedValue(f"value nested deeper than {MAX_DEPTH}")
        self.count()
        t = type(v)
        if v is None or t is bool or t is str:
            return v
        if t is int:
            return v if -_INT_MAX < v < _INT_MAX else {"I": hex(v)}
        if t is float:
            return {"f": v.hex()}
        if t is list:
            self.count(len(v))
            return self.seq(v, depth)
        if t is tuple:
            self.count(len(v))
            return {"t": self.seq(v, depth)}
        if t is dict:
            self.count(len(v))
            return {"d": self.pairs(v, depth)}
        if t is set:
            self.count(len(v))
            return {"s": self.seq(v, depth)}
        if t is frozenset:
            self.count(len(v))
            return {"F": self.seq(v, depth)}
        if t is bytes:
            return {"b": base64.b64encode(v).decode()}
        if t is bytearray:
            return {"y": base64.b64encode(bytes(v)).decode()}
        if t is complex:
            return {"c": [v.real.hex(), v.imag.hex()]}
        if t is range:
            return {"r": [v.start, v.stop, v.step]}
        if t is collections.Counter:
            return {"C": self.pairs(dict(v), depth)}
        if t is collections.OrderedDict:
            return {"O": self.pairs(dict(v), depth)}
        if t is collections.defaultdict:
            return {"d": self.pairs(dict(v), depth)}
        if t is collections.deque:
            return {"Q": self.seq(list(v), depth)}
        if t is fractions.Fraction:
            return {"R": [self.enc(v.numerator, depth), self.enc(v.denominator, depth)]}
        if t is decimal.Decimal:
            return {"D": str(v)}
        if isinstance(v, tuple) and hasattr(t, "_fields"):  # namedtuple
            return {"t": self.seq(tuple.__iter__(v), depth)}
        if isinstance(v, _ITERATOR_TYPES):
            items = []
            for item in cast(Iterable[Any], v):
                self.count()
                items.append(item)
            return {"G": self.seq(items, depth)}
        name = f"{t.__module__}.{t.__qualname__}"
        if self.opaque:
            try:
                truth: bool | None = bool(v)
            except Exception:
                truth = None
            return {"o": [name if isinstance(name, str) else "object", truth]}
        raise UnsupportedValue(f"a value of type {name} cannot cross")


def encode(value: Any, opaque: bool = False) -> Any:
    """Turn `value` into its wire form, or raise `UnsupportedValue` (with `opaque`, other types
    become `Opaque` handles instead)."""
    return _Encoder(opaque).enc(value, 0)


def _float(x: Any) -> float:
    if type(x) is not str:
        raise CodecError("float must be a hex string")
    return float.fromhex(x)


def _int(x: Any) -> int:
    if type(x) is int:
        return x
    raise CodecError("expected an int")


def _dec(x: Any, depth: int, seen: list[str]) -> Any:
    if depth > MAX_DEPTH:
        raise CodecError(f"value nested deeper than {MAX_DEPTH}")
    t = type(x)
    if x is None or t is bool or t is str or t is int:
        return x
    if t is list:
        return [_dec(v, depth + 1, seen) for v in x]
    if t is not dict or len(x) != 1:
        raise CodecError(f"unexpected {t.__name__} on the wire")
    ((tag, body),) = x.items()

    def seq() -> list[Any]:
        if type(body) is not list:
            raise CodecError(f"{tag}: expected a list")
        return [_dec(v, depth + 1, seen) for v in body]

    def pairs() -> list[tuple[Any, Any]]:
        items = seq()
        if not all(type(p) is list and len(p) == 2 for p in items):
            raise CodecError(f"{tag}: expected [key, value] pairs")
        return [(p[0], p[1]) for p in items]

    try:
        if tag == "I":
            if type(body) is not str:
                raise CodecError("big int must be a hex string")
            return int(body, 16)
        if tag == "f":
            return _float(body)
        if tag == "t":
            return tuple(seq())
        if tag == "d":
            return dict(pairs())
        if tag == "s":
            return set(seq())
        if tag == "F":
            return frozenset(seq())
        if tag == "b" or tag == "y":
            if type(body) is not str:
                raise CodecError("bytes must be base64 text")
            raw = base64.b64decode(body, validate=True)
            return raw if tag == "b" else bytearray(raw)
        if tag == "c":
            if type(body) is not list or len(body) != 2:
                raise CodecError("complex must be [real, imag]")
            return complex(_float(body[0]), _float(body[1]))
        if tag == "r":
            if type(body) is not list or len(body) != 3:
                raise CodecError("range must be [start, stop, step]")
            return range(_int(body[0]), _int(body[1]), _int(body[2]))
        if tag == "C":
            return collections.Counter(dict(pairs()))
        if tag == "O":
            return collections.OrderedDict(pairs())
        if tag == "Q":
            return collections.deque(seq())
        if tag == "R":
            n, d = seq()
            return fractions.Fraction(_int(n), _int(d))
        if tag == "D":
            if type(body) is not str:
                raise CodecError("Decimal must be text")
            return decimal.Decimal(body)
        if tag == "G":
            return iter(seq())
        if tag == "o":
            if type(body) is not list or len(body) != 2 or type(body[0]) is not str:
                raise CodecError("opaque must be [type name, truth]")
            if body[1] is not None and type(body[1]) is not bool:
                raise CodecError("opaque truth must be a bool or null")
            seen.append(body[0][:200])
            return Opaque(body[0][:200], body[1])
    except CodecError:
        raise
    except (TypeError, ValueError, ArithmeticError, decimal.InvalidOperation) as exc:
        raise CodecError(f"{tag}: {exc}") from None
    raise CodecError(f"unknown tag {tag!r}")


def decode(wire: Any, opaque_seen: list[str] | None = None) -> Any:
    """Rebuild a value from its wire form, or raise `CodecError`. Type names of `Opaque`
    handles met on the way are appended to `opaque_seen`."""
    try:
        return _dec(wire, 0, [] if opaque_seen is None else opaque_seen)
    except RecursionError:
        raise CodecError("value nested too deeply") from None
