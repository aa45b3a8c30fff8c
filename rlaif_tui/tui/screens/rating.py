"""Rating queue: score samples 1–5 or prefer A or B, most valuable first, keyboard only."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from rlaif_tui.api import Status
from rlaif_tui.tui.filters import short_problem_id
from rlaif_tui.tui.landing import held, human_weight, weight_line
from rlaif_tui.tui.priority import Candidate, ab_partner, rating_queue
from rlaif_tui.tui.run_model import Sample
from rlaif_tui.tui.screens.base import RunScreen
from rlaif_tui.tui.widgets.sample_card import SampleCard

LIST_LENGTH = 100
SCORES = Binding.Group("Score")


class RatingScreen(RunScreen):
    AUTO_FOCUS = "#rate-queue"
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(str(n), f"score({n})", f"Score {n}", group=SCORES) for n in range(1, 6)),
        Binding("v", "versus", "A/B"),
        Binding("a", "prefer('a')", "Prefer A", show=False),
        Binding("b", "prefer('b')", "Prefer B", show=False),
        Binding("space,n", "skip", "Skip", key_display="n"),
        Binding("u", "undo", "Undo"),
        Binding("c", "comment", "Comment"),
        Binding("escape", "close_comment", "Close comment", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.versus = False
        self.current: Sample | None = None
        self.picked = False
        """The shown sample was chosen from the list (or by undo): a new batch does not move it."""
        self.partner: Sample | None = None
        self.candidates: list[Candidate] = []
        self._seen = (-1, -1)

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Horizontal(id="rate-body"):
            yield OptionList(id="rate-queue")
            with Vertical(id="rate-main"):
                yield Static(id="rate-why")
                yield Static(id="rate-landing")
                with Horizontal(id="rate-cards"):
                    yield SampleCard(id="card-a")
                    yield SampleCard(compact=True, id="card-b")
                yield Input(
                    placeholder="comment for the next rating (enter keeps it)", id="comment"
                )
                yield Static(id="rate-counters")
        yield from self.compose_footer()

    def sync(self, force: bool) -> None:
        model = self.rlaif.model
        seen = (model.versions.samples, model.versions.ratings)
        if (force or seen != self._seen) and self.rebuild_due(force):
            self._seen = seen
            self._rank()
        self._counters()

    def _rank(self) -> None:
        model, desk = self.rlaif.model, self.rlaif.desk
        groups = {
            gid: model.group_of(model.samples[ids[0]]) for gid, ids in model.groups.items() if ids
        }
        ranked = rating_queue(model.samples.values(), groups, model.rated | desk.excluded())
        status = model.status
        if human_weight(status) > 0:  # a held batch's rating still counts: those first
            ranked.sort(key=lambda c: not held(c.sample, status))
        self.candidates = ranked
        queue = self.query_one("#rate-queue", OptionList)
        queue.clear_options()
        queue.add_options(
            Option(
                f"{short_problem_id(str(c.sample.get('problem_id', '?')), 13)} "
                f"{float(c.sample.get('reward', 0)):+.2f}"
                f"{' ⚑' if c.score >= 2 else ''}"
                f"{' ⏳' if held(c.sample, status) else ''}",
                id=c.id,
            )
            for c in self.candidates[:LIST_LENGTH]
        )
        queue.border_title = f"to rate · {len(self.candidates)}"
        still_there = self.current is not None and any(
            c.id == self.current["id"] for c in self.candidates
        )
        if not still_there or self._to_held_batch(status):
            self._advance()
        elif self.current is not None:
            self._highlight(str(self.current["id"]))

    def _to_held_batch(self, status: Status | None) -> bool:
        """A batch is held for ratings and the shown sample, not picked by hand, is older:
        show the held one, whose score still counts in an update."""
        return (
            not self.picked
            and self.current is not None
            and human_weight(status) > 0
            and not held(self.current, status)
            and bool(self.candidates)
            and held(self.candidates[0].sample, status)
        )

    def _advance(self, to: str | None = None) -> None:
        """Show the given sample, else the top of the queue."""
        self.picked = to is not None
        model = self.rlaif.model
        choice = None
        if to is not None and to in model.samples:
            choice = model.samples[to]
        elif self.versus:  # the first one that has a different program to compare with
            choice = next(
                (
                    c.sample
                    for c in self.candidates
                    if ab_partner(c.sample, model.group_of(c.sample)) is not None
                ),
                None,
            )
        elif self.candidates:
            choice = self.candidates[0].sample
        self.current = choice
        self._show()

    def _show(self) -> None:
        model = self.rlaif.model
        sample = self.current
        self.partner = (
            ab_partner(sample, model.group_of(sample)) if sample and self.versus else None
        )
        self.set_class(self.versus, "-versus")
        card_a = self.query_one("#card-a", SampleCard)
        card_a.compact = self.versus
        card_a.show(sample, label="A" if self.versus else "")
        self.query_one("#card-b", SampleCard).show(self.partner, label="B")
        why = self.query_one("#rate-why", Static)
        if sample is None:
            why.update(
                "Nothing to compare yet: no group has two different programs."
                if self.versus
                else "Nothing to rate yet: samples appear as the run produces them."
            )
        else:
            reasons = next((c.reasons for c in self.candidates if c.id == sample["id"]), ())
            if held(sample, model.status):
                reasons = ("⏳ its batch is held: a score counts in this update", *reasons)
            hint = "a / b: which is better?" if self.versus else "1–5: how good is it?"
            why.update(f"{hint}   " + ("; ".join(reasons) if reasons else "picked: newest unrated"))
            self._highlight(str(sample["id"]))

    def _highlight(self, sample_id: str) -> None:
        queue = self.query_one("#rate-queue", OptionList)
        try:
            queue.highlighted = queue.get_option_index(sample_id)
        except Exception:  # not in the visible part of the list
            queue.highlighted = None

    def _counters(self) -> None:
        app = self.rlaif
        desk, model = app.desk, app.model
        comment = self.query_one("#comment", Input).value
        text = (
            f"{weight_line(model.status, app.run_config)} · session {desk.session_acked} · "
            f"queued {desk.queued} · run {model.run_ratings} · rater {desk.rater}"
        )
        if comment:
            text += f" · comment: {comment[:40]}"
        self.query_one("#rate-counters", Static).update(text)
        landing = app.landing
        self.query_one("#rate-landing", Static).update(
            landing.line(app.run_config) if landing is not None else ""
        )

    def _take_comment(self) -> str:
        box = self.query_one("#comment", Input)
        comment, box.value = box.value, ""
        return comment

    def action_score(self, score: int) -> None:
        if self.current is None or self.versus:
            if self.versus:
                self.notify("A/B mode: press a or b (v switches back to scores)")
            return
        self.rlaif.rate_score(str(self.current["id"]), score, self._take_comment())
        self._next()

    def action_prefer(self, which: str) -> None:
        if not self.versus or self.current is None or self.partner is None:
            self.notify("press v first to compare two completions of one prompt")
            return
        a, b = str(self.current["id"]), str(self.partner["id"])
        chosen, rejected = (a, b) if which == "a" else (b, a)
        self.rlaif.rate_preference(chosen, rejected, self._take_comment())
        self._next()

    def action_skip(self) -> None:
        if self.current is not None:
            self.rlaif.desk.skip(str(self.current["id"]))
            self._next()

    def action_undo(self) -> None:
        back = self.rlaif.undo()
        if back is not None:
            self._rank()
            self._advance(to=back)

    def _next(self) -> None:
        self.current = None
        self._rank()
        self._counters()

    def action_versus(self) -> None:
        self.versus = not self.versus
        self._show()

    def action_comment(self) -> None:
        box = self.query_one("#comment", Input)
        box.add_class("-open")
        box.focus()

    @on(Input.Submitted, "#comment")
    def action_close_comment(self) -> None:
        box = self.query_one("#comment", Input)
        box.remove_class("-open")
        self.set_focus(None)
        self._counters()

    @on(OptionList.OptionSelected, "#rate-queue")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self._advance(to=event.option.id)
