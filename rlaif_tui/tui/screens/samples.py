"""Samples browser: recent samples in a table, the selected one (or its whole group) beside it."""

from __future__ import annotations

from contextlib import suppress
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, HorizontalScroll
from textual.widgets import DataTable, Input
from textual.widgets.data_table import RowDoesNotExist

from rlaif_tui.tui.filters import SORTS, FilterError, SampleFilter, select, short_problem_id
from rlaif_tui.tui.priority import flags_of
from rlaif_tui.tui.run_model import Sample
from rlaif_tui.tui.screens.base import RunScreen
from rlaif_tui.tui.widgets.sample_card import SampleCard

MAX_ROWS = 500


class SamplesScreen(RunScreen):
    AUTO_FOCUS = "#samples-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("o", "sort", "Sort"),
        Binding("g", "group", "Group view"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = SampleFilter()
        self.sort = "newest"
        self.group_view = False
        self._seen = -1
        self._shown: str | None = None
        self._rebuilding = False

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Input(
            placeholder="filter: problem:ID status:failed reward>0.5 reward:0..0.3 flagged",
            id="filter",
        )
        with Horizontal(id="samples-body"):
            table: DataTable[str] = DataTable(id="samples-table", cursor_type="row")
            table.add_columns("step", "problem", "reward", "status", "⚑")
            yield table
            yield SampleCard(id="sample-detail")
            yield HorizontalScroll(id="group-detail")
        yield from self.compose_footer()

    def sync(self, force: bool) -> None:
        model = self.rlaif.model
        if model.versions.samples == self._seen and not force:
            return
        if not self.rebuild_due(force):
            return
        self._seen = model.versions.samples
        table = self.query_one("#samples-table", DataTable)
        keep = self._current_id()
        rows = select(model.samples.values(), self.filter, self.sort)[:MAX_ROWS]
        self._rebuilding = True  # the highlight events of clear() and move_cursor() are ours
        table.clear()
        for s in rows:
            outcome = s.get("outcome") or {}
            table.add_row(
                str(s.get("step", "")),
                short_problem_id(str(s.get("problem_id", ""))),
                f"{float(s.get('reward', 0.0)):+.2f}",
                str(outcome.get("status", "")),
                "⚑" if flags_of(s) else "",
                key=str(s["id"]),
            )
        table.border_title = f"samples · {len(rows)} shown · sort {self.sort}"
        if self.filter != SampleFilter():
            table.border_title += " · filtered (esc clears)"
        if keep is not None and keep in model.samples:
            with suppress(RowDoesNotExist):  # the kept sample is filtered out now
                table.move_cursor(row=table.get_row_index(keep), animate=False)
        self.call_after_refresh(self._rebuilt)

    def _rebuilt(self) -> None:
        self._rebuilding = False
        self._show(self._current_id())

    def _current_id(self) -> str | None:
        table = self.query_one("#samples-table", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return row_key.value

    @on(DataTable.RowHighlighted, "#samples-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if not self._rebuilding:
            self._show(event.row_key.value)

    def _show(self, sample_id: str | None, *, force: bool = False) -> None:
        if sample_id == self._shown and not force:
            return
        self._shown = sample_id
        sample = self.rlaif.model.samples.get(sample_id) if sample_id else None
        self.set_class(self.group_view, "-group")
        if not self.group_view:
            self.query_one("#sample-detail", SampleCard).show(sample)
            return
        self._show_group(sample)

    def _show_group(self, sample: Sample | None) -> None:
        box = self.query_one("#group-detail", HorizontalScroll)
        box.remove_children()
        if sample is None:
            return
        group = sorted(self.rlaif.model.group_of(sample), key=lambda s: -float(s.get("reward", 0)))
        box.mount_all(
            SampleCard(
                compact=True,
                classes="group-card",
                initial=member,
                label="▶" if member["id"] == sample["id"] else "",
            )
            for member in group
        )
        box.border_title = f"group {sample.get('group_id')} · {len(group)} completions"

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-open")
        box.focus()

    def action_clear_filter(self) -> None:
        """Escape: close the filter line and show every sample again."""
        box = self.query_one("#filter", Input)
        box.value = ""
        self.action_close_filter()
        if self.filter != SampleFilter():
            self.filter = SampleFilter()
            self.sync(force=True)

    def action_close_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.remove_class("-open")
        self.query_one("#samples-table", DataTable).focus()

    @on(Input.Submitted, "#filter")
    def _apply_filter(self, event: Input.Submitted) -> None:
        try:
            self.filter = SampleFilter.parse(event.value)
        except FilterError as exc:
            self.notify(str(exc), title="Filter", severity="error")
            return
        self.action_close_filter()
        self.sync(force=True)

    def action_sort(self) -> None:
        names = list(SORTS)
        self.sort = names[(names.index(self.sort) + 1) % len(names)]
        self.sync(force=True)

    def action_group(self) -> None:
        self.group_view = not self.group_view
        self._show(self._current_id(), force=True)
