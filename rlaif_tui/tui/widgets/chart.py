"""A line chart drawn in braille dots (2×4 dots per cell), titled with its metric key.

Written here rather than wrapping plotext (`textual-plotext`): a chart is redrawn up to ten
times a second from a few hundred points, and a braille grid built straight into `Text` costs
well under a millisecond per chart, takes its colours from the app's CSS (so light and dark
themes both work), and needs no axis chrome — the border carries the key, the last value and
the range, which keeps nine charts readable at 80×24.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

Series = Sequence[tuple[int, float]]

# Bit of each dot in a braille cell, indexed [row][column] (Unicode's dot numbering).
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_BRAILLE = 0x2800


def format_value(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e4 or magnitude < 1e-3:
        return f"{value:.2e}"
    if magnitude >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def _columns(series: Series, x0: int, x1: int, width: int) -> list[float | None]:
    """Mean value of the points falling in each of `width` dot columns over steps [x0, x1]."""
    sums = [0.0] * width
    counts = [0] * width
    span = max(x1 - x0, 1)
    for step, value in series:
        col = min(width - 1, max(0, round((step - x0) / span * (width - 1))))
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


class Chart(Widget):
    """Plots `keys[0]` (and any further keys, in a second colour); `band` = (mean, spread)
    keys shades mean ± spread behind the line."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "chart--line",
        "chart--second",
        "chart--band",
        "chart--empty",
    }

    def __init__(
        self,
        keys: Sequence[str],
        *,
        band: tuple[str, str] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.keys = list(keys)
        self.band = band
        self._data: dict[str, list[tuple[int, float]]] = {}
        self.border_title = " · ".join(self.keys)

    @property
    def key(self) -> str:
        return self.keys[0]

    def set_data(self, data: Mapping[str, Series]) -> None:
        """Replace the plotted points (`data` maps metric keys to (step, value) points)."""
        wanted = [*self.keys, *(self.band or ())]
        self._data = {k: list(data.get(k, ())) for k in wanted}
        main = self._data.get(self.key) or []
        ranges = self._ranges()
        if main and ranges is not None:
            _, _, lo, hi = ranges
            last, lo_s, hi_s = (format_value(v) for v in (main[-1][1], lo, hi))
            self.border_subtitle = f"{last} [{lo_s}…{hi_s}]"
        self.refresh()

    def _ranges(self) -> tuple[int, int, float, float] | None:
        steps = [s for pts in self._data.values() for s, _ in pts]
        values = [v for k in self.keys for _, v in self._data.get(k, ())]
        if self.band is not None:
            mean, spread = (dict(self._data.get(k, ())) for k in self.band)
            for step, m in mean.items():
                d = spread.get(step, 0.0)
                values += [m - d, m + d]
        if not steps or not values:
            return None
        lo, hi = min(values), max(values)
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            pad = max(abs(hi) * 0.05, 1e-9)  # a flat line: draw it mid-height
            lo, hi = lo - pad, hi + pad
        return min(steps), max(steps), lo, hi

    def render(self) -> Text:
        width, height = self.content_size
        ranges = self._ranges() if width > 0 and height > 0 else None
        if ranges is None:
            empty = self.get_component_rich_style("chart--empty")
            return Text("waiting for data", style=empty, justify="center")
        x0, x1, lo, hi = ranges
        dots_w, dots_h = width * 2, height * 4

        def to_row(value: float) -> int:
            return round((hi - value) / (hi - lo) * (dots_h - 1))

        layers: list[list[list[int]]] = []  # painted last wins: band, second, line
        styles: list[Style] = []
        if self.band is not None:
            grid = [[0] * width for _ in range(height)]
            means = _columns(self._data.get(self.band[0], ()), x0, x1, dots_w)
            spreads = _columns(self._data.get(self.band[1], ()), x0, x1, dots_w)
            for x, (m, d) in enumerate(zip(means, spreads, strict=True)):
                if m is None:
                    continue
                top, bottom = to_row(m + (d or 0.0)), to_row(m - (d or 0.0))
                for y in range(top, bottom + 1, 2):  # every other dot: a lighter shade
                    grid[y // 4][x // 2] |= _DOTS[y % 4][x % 2]
            layers.append(grid)
            styles.append(self.get_component_rich_style("chart--band"))
        for index, key in reversed(list(enumerate(self.keys))):
            grid = [[0] * width for _ in range(height)]
            previous: int | None = None
            for x, value in enumerate(_columns(self._data.get(key, ()), x0, x1, dots_w)):
                if value is None:
                    continue
                y = to_row(value)
                low, high = (y, y) if previous is None else (min(y, previous), max(y, previous))
                for yy in range(low, high + 1):  # join to the last point: a continuous line
                    grid[yy // 4][x // 2] |= _DOTS[yy % 4][x % 2]
                previous = y
            layers.append(grid)
            name = "chart--line" if index == 0 else "chart--second"
            styles.append(self.get_component_rich_style(name))

        text = Text(no_wrap=True, overflow="crop")
        for row in range(height):
            for col in range(width):
                bits, style = 0, Style()
                for grid, layer_style in zip(layers, styles, strict=True):
                    if grid[row][col]:
                        bits |= grid[row][col]
                        style = layer_style
                text.append(chr(_BRAILLE + bits) if bits else " ", style if bits else None)
            if row < height - 1:
                text.append("\n")
        return text
