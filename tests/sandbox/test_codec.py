"""The value codec: builtin values round-trip; anything else is refused; hostile wire data
cannot build anything but builtin values."""

from __future__ import annotations

import collections
import decimal
import fractions
import math
from typing import Any

import pytest

from rlaif_tui.sandbox import codec


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -5,
        2**200,
        -(2**70),
        1.5,
        math.inf,
        -0.0,
        1e-300,
        3 + 4j,
        "héllo",
        b"\x00\xff",
        bytearray(b"ab"),
        [1, [2, [3]]],
        (1, "a", None),
        {"a": 1, (1, 2): [3]},
        {1, 2},
        frozenset({"x"}),
        range(1, 10, 3),
        collections.Counter("aab"),
        collections.OrderedDict([("b", 1), ("a", 2)]),
        collections.deque([1, 2]),
        fractions.Fraction(3, 7),
        decimal.Decimal("1.10"),
    ],
)
def test_builtin_values_round_trip_exactly(value: Any) -> None:
    back = codec.decode(codec.encode(value))
    assert type(back) is type(value)
    assert back == value


def test_nan_round_trips() -> None:
    assert math.isnan(codec.decode(codec.encode(math.nan)))


def test_lossy_stdlib_containers_arrive_as_their_builtin_base() -> None:
    point = collections.namedtuple("point", "x y")(1, 2)
    assert codec.decode(codec.encode(point)) == (1, 2)
    assert type(codec.decode(codec.encode(point))) is tuple
    dd = collections.defaultdict(list, {"a": [1]})
    assert type(codec.decode(codec.encode(dd))) is dict
    assert list(codec.decode(codec.encode(x * 2 for x in range(3)))) == [0, 2, 4]


@pytest.mark.parametrize(
    "value",
    [
        type("S", (str,), {})("x"),
        type("I", (int,), {})(1),
        object(),
        lambda: 1,
        type("E", (), {"__eq__": lambda s, o: True})(),
    ],
)
def test_other_types_are_refused(value: Any) -> None:
    with pytest.raises(codec.UnsupportedValue):
        codec.encode(value)


def test_depth_and_size_are_limited() -> None:
    deep: list[Any] = []
    for _ in range(codec.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(codec.UnsupportedValue):
        codec.encode(deep)
    wire: Any = []
    for _ in range(codec.MAX_DEPTH + 5):
        wire = [wire]
    with pytest.raises(codec.CodecError):
        codec.decode(wire)


@pytest.mark.parametrize(
    "wire",
    [
        {"zz": 1},
        {"t": 5},
        {"d": [[[1], 2]]},
        {"d": [[1]]},
        {"s": [[1]]},
        {"I": 5},
        {"f": 1.5},
        {"b": "!!"},
        {"c": ["0x1p0"]},
        {"r": [1, 2]},
        {"R": [1, 0]},
        {"D": 5},
        {"a": 1, "b": 2},
        1.5,
    ],
)
def test_malformed_wire_data_is_rejected(wire: Any) -> None:
    with pytest.raises(codec.CodecError):
        codec.decode(wire)


def test_results_of_other_types_cross_as_opaque_handles() -> None:
    class Truthy:
        def __eq__(self, other: object) -> bool:
            return True

        def __bool__(self) -> bool:
            return False

    seen: list[str] = []
    handle = codec.decode(codec.encode([Truthy()], opaque=True), seen)[0]
    assert isinstance(handle, codec.Opaque)
    assert seen == [
        f"{__name__}.test_results_of_other_types_cross_as_opaque_handles.<locals>.Truthy"
    ]
    assert handle != 3
    assert handle != handle.type_name
    assert handle == handle
    assert not handle  # its truth value was taken in the child
    with pytest.raises(codec.CodecError):
        codec.decode({"o": ["x", "yes"]})
