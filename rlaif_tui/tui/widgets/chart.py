"""A line chart drawn in braille dots (2×4 dots per cell), titled with its metric keys.

Written here rather than wrapping plotext (`textual-plotext`): a chart is redrawn up to ten
times a second from a few hundred points, and a braille grid built straight into `Text` costs
well under a millisecond per chart and takes its colours from the app's CSS (so light and dark
themes both work).

What a chart shows, back to front: a shaded band (cell backgrounds, e.g. mean ± std), dotted
vertical markers (live settings changes), a dimmed dotted baseline (the first value: the
warm-started policy), each series' raw points dimmed with its moving average over them, and a
row of step labels under the plot. The y range is the lines' own range (the band is clipped to
it), cut to the metric's domain (`pass/rate` never leaves [0, 1]).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import ClassVar, Literal

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

Series = Sequence[tuple[int, float]]
Role = Literal["main", "second", "control"]

# Bit of each dot in a braille cell, indexed [row][column] (Unicode's dot numbering).
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_BRAILLE = 0x2800
AXIS_MIN_HEIGHT = 4
"""Below this many rows the step labels move into the border (the plot needs the room)."""


def format_value(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e4 or magnitude < 1e-3:
        return f"{value:.2e}"
    if magnitude >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def moving_average(series: Series, window: int) -> list[tuple[int, float]]:
    """Trailing mean over `window` points (fewer at the start)."""
    out, total = [], 0.0
    for i, (step, value) in enumerate(series):
        total += value
        if i >= window:
            total -= series[i - window][1]
        out.append((step, total / min(i + 1, window)))
    return out


def smoothing_window(points: int) -> int:
    """About an eighth of the points, 3 to 25; 1 (no smoothing) for short series."""
    return 1 if points < 6 else max(3, min(25, points // 8))


@dataclass(frozen=True)
class Line:
    """One plotted series. `role` picks its colour (`chart--main`, `chart--second`,
    `chart--control` in app.tcss); `smooth` draws the moving average over dimmed raw points."""

    key: str
    role: Role = "main"
    smooth: bool = True
    label: str | None = None
    """The legend's name for it (default: the key), e.g. `control (lr 0)`. A `control` line is
    in the legend only once it has points, so a run without one keeps its chart as it was."""

    @property
    def name(self) -> str:
        return self.label or self.key


@dataclass(frozen=True)
class ChartSpec:
    lines: tuple[Line, ...]
    band: tuple[str, str] | None = None
    """(centre, spread) keys: the cells within centre ± spread are shaded."""
    domain: tuple[float | None, float | None] = (None, None)
    """Bounds the metric cannot leave; both given: the y axis spans exactly the domain."""
    baseline: bool = False
    """Dim dotted line at the first value of the main series (where training started)."""

    @property
    def key(self) -> str:
        return self.lines[0].key

    @property
    def keys(self) -> list[str]:
        return [line.key for line in self.lines]


@dataclass
class Layer:
    name: str
    """Its component class, e.g. `chart--control`."""
    style: Style
    grid: list[list[int]] = field(default_factory=list)


def _columns(series: Series, x0: int, x1: int, width: int) -> list[float | None]:
    """Mean value of the points falling in each of `width` dot columns over steps [x0, x1]."""
    sums = [0.0] * width
    counts = [0] * width
    for step, value in series:
        col = _x(step, x0, x1, width)
        sums[col] += value
        counts[col] += 1
    cols = [s / c if c else None for s, c in zip(sums, counts, strict=True)]
    # Fill the columns between two points on the straight line joining them.
    known = [i for i, v in enumerate(cols) if v is not None]
    for a, b in pairwise(known):
        va, vb = cols[a] or 0.0, cols[b] or 0.0
        for i in range(a + 1, b):
            cols[i] = va + (vb - va) * (i - a) / (b - a)
    return cols


def _x(step: float, x0: int, x1: int, width: int) -> int:
    return min(width - 1, max(0, round((step - x0) / max(x1 - x0, 1) * (width - 1))))


class Chart(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "chart--main",
        "chart--second",
        "chart--control",
        "chart--raw",
        "chart--band",
        "chart--baseline",
        "chart--marker",
        "chart--axis",
        "chart--empty",
    }

    def __init__(self, spec: ChartSpec, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.spec = spec
        self._data: dict[str, list[tuple[int, float]]] = {}
        self.marks: list[int] = []
        """Steps with a vertical marker (live settings changes)."""
        self.painted: dict[str, Layer] = {}
        """The dot layers of the last render by component class (what was drawn, for tests)."""
        self.border_title = self._title()

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def keys(self) -> list[str]:
        return self.spec.keys

    def _title(self) -> str:
        lines = [
            line for line in self.spec.lines if line.role != "control" or self._data.get(line.key)
        ]
        if len(lines) == 1:
            return lines[0].name
        colour = {"main": "$accent", "second": "$secondary", "control": "$text-muted"}
        return " ".join(f"[{colour[line.role]}]━[/] {line.name}" for line in lines)

    def set_data(self, data: Mapping[str, Series], marks: Sequence[int] = ()) -> None:
        """Replace the plotted points (`data` maps metric keys to (step, value) points)."""
        wanted = [*self.keys, *(self.spec.band or ())]
        self._data = {k: list(data.get(k, ())) for k in wanted}
        self.marks = list(marks)
        self.border_title = self._title()
        main = self._data.get(self.key) or []
        ranges = self._ranges()
        if main and ranges is not None:
            x0, x1, lo, hi = ranges
            last, lo_s, hi_s = (format_value(v) for v in (main[-1][1], lo, hi))
            steps = f" · steps {x0}–{x1}" if self.content_size.height < AXIS_MIN_HEIGHT else ""
            self.border_subtitle = f"{last} [{lo_s}…{hi_s}]{steps}"
        self.refresh()

    def _ranges(self) -> tuple[int, int, float, float] | None:
        steps = [s for k in self.keys for s, _ in self._data.get(k, ())]
        values = [v for k in self.keys for _, v in self._data.get(k, ())]
        if not steps:
            return None
        lo, hi = min(values), max(values)
        d_lo, d_hi = self.spec.domain
        if d_lo is not None and d_hi is not None:
            lo, hi = d_lo, d_hi
        else:
            lo = lo if d_lo is None else max(lo, d_lo)
            hi = hi if d_hi is None else min(hi, d_hi)
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            pad = abs(hi) * 0.05 or 0.5  # a flat line: draw it mid-height (at 0: ±0.5)
            lo, hi = lo - pad, hi + pad
        return min(steps), max(steps), lo, hi

    def render(self) -> Text:
        width, height = self.content_size
        ranges = self._ranges() if width > 0 and height > 0 else None
        if ranges is None:
            empty = self.get_component_rich_style("chart--empty")
            return Text("waiting for data", style=empty, justify="center")
        x0, x1, lo, hi = ranges
        axis = height >= AXIS_MIN_HEIGHT
        plot_h = height - 1 if axis else height
        dots_w, dots_h = width * 2, plot_h * 4

        def to_row(value: float) -> int:
            clipped = min(hi, max(lo, value))
            return round((hi - clipped) / (hi - lo) * (dots_h - 1))

        def layer(name: str) -> Layer:
            grid = [[0] * width for _ in range(plot_h)]
            return Layer(name, self.get_component_rich_style(name), grid)

        def dot(lay: Layer, x: int, y: int) -> None:
            lay.grid[y // 4][x // 2] |= _DOTS[y % 4][x % 2]

        layers: list[Layer] = []  # painted last wins
        marker = layer("chart--marker")
        for step in self.marks:
            if x0 <= step <= x1:
                x = _x(step, x0, x1, dots_w)
                for y in range(0, dots_h, 2):
                    dot(marker, x, y)
        layers.append(marker)
        main = self._data.get(self.key) or []
        if self.spec.baseline and main:
            base = layer("chart--baseline")
            y = to_row(main[0][1])
            for x in range(0, dots_w, 3):
                dot(base, x, y)
            layers.append(base)
        for line in reversed(self.spec.lines):
            points = self._data.get(line.key, [])
            window = smoothing_window(len(points)) if line.smooth else 1
            if window > 1:
                raw = layer("chart--raw")
                for x, value in enumerate(_columns(points, x0, x1, dots_w)):
                    if value is not None and (x % 2 == 0):
                        dot(raw, x, to_row(value))
                layers.append(raw)
                points = moving_average(points, window)
            drawn = layer(f"chart--{line.role}")
            previous: int | None = None
            for x, value in enumerate(_columns(points, x0, x1, dots_w)):
                if value is None:
                    continue
                y = to_row(value)
                low, high = (y, y) if previous is None else (min(y, previous), max(y, previous))
                for yy in range(low, high + 1):  # join to the last point: a continuous line
                    dot(drawn, x, yy)
                previous = y
            layers.append(drawn)
        self.painted = {lay.name: lay for lay in layers}
        shade = self._band_rows(x0, x1, width, plot_h, to_row)
        band_bg = self.get_component_rich_style("chart--band")

        text = Text(no_wrap=True, overflow="crop")
        for row in range(plot_h):
            for col in range(width):
                bits, style = 0, Style()
                for lay in layers:
                    if lay.grid[row][col]:
                        bits |= lay.grid[row][col]
                        style = lay.style
                span = shade[col]
                if span is not None and span[0] <= row <= span[1]:
                    style = style + Style(bgcolor=band_bg.bgcolor)
                text.append(chr(_BRAILLE + bits) if bits else " ", style)
            if row < plot_h - 1:
                text.append("\n")
        if axis:
            text.append("\n")
            text.append(self._axis_row(x0, x1, width), self.get_component_rich_style("chart--axis"))
        return text

    def _band_rows(
        self, x0: int, x1: int, width: int, plot_h: int, to_row: Callable[[float], int]
    ) -> list[tuple[int, int] | None]:
        """Per cell column, the rows (top, bottom) inside the band, or None."""
        rows: list[tuple[int, int] | None] = [None] * width
        if self.spec.band is None:
            return rows
        centres = _columns(self._data.get(self.spec.band[0], ()), x0, x1, width)
        spreads = _columns(self._data.get(self.spec.band[1], ()), x0, x1, width)
        for col, (c, d) in enumerate(zip(centres, spreads, strict=True)):
            if c is None:
                continue
            top, bottom = to_row(c + (d or 0.0)) // 4, to_row(c - (d or 0.0)) // 4
            rows[col] = (max(0, top), min(plot_h - 1, bottom))
        return rows

    @staticmethod
    def _axis_row(x0: int, x1: int, width: int) -> str:
        """Step labels: the first at the left edge, the last at the right, one in between."""
        row = [" "] * width

        def put(label: str, at: int) -> None:
            start = min(max(0, at), max(0, width - len(label)))
            if any(c != " " for c in row[max(0, start - 1) : start + len(label) + 1]):
                return  # would touch another label
            row[start : start + len(label)] = label

        put(str(x0), 0)
        put(str(x1), width - len(str(x1)))
        if x1 - x0 >= 2:
            mid = (x0 + x1) // 2
            put(str(mid), _x(mid, x0, x1, width) - len(str(mid)) // 2)
        return "".join(row)[:width]
