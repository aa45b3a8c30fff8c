"""Ratings that visibly matter, against a real `rlaif daemon` (smoke config, 127.0.0.1).

A score of a sample whose batch is held for ratings (`reward.human.hold_s`) becomes its human
reward term in that update: the rating view shows the term before → after, as the daemon
reports it. A/B pairs are two different programs, never byte-identical ones.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from rlaif_tui.tui.app import RlaifApp
from rlaif_tui.tui.landing import held
from rlaif_tui.tui.priority import ab_partner
from rlaif_tui.tui.screens.rating import RatingScreen
from tests.daemon_helpers import start_daemon
from tests.test_tui_daemon import until

pytestmark = [pytest.mark.slow]

HUMAN = ("--set", "reward.weights.human=0.5", "--set", "reward.human.hold_s=25")


async def test_a_rating_changes_the_shown_human_term(tmp_path: Path) -> None:
    daemon = start_daemon(tmp_path / "run", *HUMAN, "--steps", "1")
    try:
        app = RlaifApp(daemon.url, daemon.token, state_dir=tmp_path / "state", undo_window_s=60)
        async with app.run_test(size=(160, 48)) as pilot, daemon.client() as client:
            await pilot.press("r")
            screen = app.screen
            assert isinstance(screen, RatingScreen)

            def held_sample_shown() -> bool:
                current = screen.current
                return current is not None and held(current, app.model.status)

            await until(held_sample_shown, pilot, 300, "a sample of the held batch")
            assert screen.current is not None
            rated = str(screen.current["id"])
            counters = str(screen.query_one("#rate-counters").render())
            assert "human weight 0.5 · batches held 25s" in counters
            await pilot.press("5")  # sent at once despite the 60 s undo window: it is held

            def landed() -> bool:
                return app.landing is not None and app.landing.after is not None

            await until(landed, pilot, 120, "the rated sample's update")
            await pilot.pause(0.5)
            line = str(screen.query_one("#rate-landing").render())
            assert f"{rated} rated 5: human – → 1.00" in line
            assert "advantage – → " in line
            final = (await client.sample(rated))["sample"]
            assert final["rewards"]["human"] == 1.0
            assert f"→ {final['reward']:.2f}" in line
            assert f"→ {final['advantage']:+.2f}" in line
    finally:
        daemon.stop()


def _with_copies(group: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """The group plus byte-identical copies of some of its programs (as a cold policy makes)."""
    copies = [
        {**s, "id": f"{s['id']}-copy{n}"} for n, s in enumerate(rng.choices(group, k=len(group)))
    ]
    return group + copies


async def test_no_identical_ab_pair_over_50_draws(tmp_path: Path) -> None:
    daemon = start_daemon(tmp_path / "run", "--steps", "6", "--paused")
    try:
        app = RlaifApp(daemon.url, daemon.token, state_dir=tmp_path / "state", undo_window_s=60)
        async with app.run_test(size=(160, 48)) as pilot, daemon.client() as client:
            await until(lambda: app.model.status is not None, pilot, 120, "the first status")
            await client.control("resume")
            await until(
                lambda: app.model.status is not None and app.model.status.state == "finished",
                pilot,
                600,
                "the six steps",
            )
            await until(lambda: len(app.model.samples) >= 48, pilot, 60, "the samples")
            await pilot.press("r", "v")
            screen = app.screen
            assert isinstance(screen, RatingScreen)
            draws = 0
            for _ in range(50):  # the screen's own draws: skip moves to the next pair
                await pilot.pause(0.1)
                if screen.current is None or screen.partner is None:
                    break
                assert screen.current["program"] != screen.partner["program"]
                draws += 1
                await pilot.press("n")
            assert draws >= 1, "the run gave nothing to compare"
            groups = [
                app.model.group_of(app.model.samples[ids[0]]) for ids in app.model.groups.values()
            ]
        rng = random.Random(0)
        different_outcomes = 0
        for draw in range(50):  # the same rule on real groups padded with identical copies
            group = _with_copies(rng.choice(groups), rng)
            sample = rng.choice(group)
            partner = ab_partner(sample, group)
            programs = {s["program"] for s in group}
            if len(programs) == 1:
                assert partner is None, f"draw {draw}: paired two identical programs"
                continue
            assert partner is not None
            assert partner["program"] != sample["program"], f"draw {draw}"
            outcome = lambda s: (s["outcome"]["status"], s["outcome"]["tests_passed"])  # noqa: E731
            if any(
                outcome(s) != outcome(sample) for s in group if s["program"] != sample["program"]
            ):
                assert outcome(partner) != outcome(sample), f"draw {draw}: same outcome preferred"
                different_outcomes += 1
    finally:
        daemon.stop()


RATER = (
    "--set",
    "reward.weights.human=0.5",
    "--set",
    "reward.human.hold_s=0.5",
    "--set",
    "reward.human.rater_hold_s=60",
)


async def test_while_someone_rates_the_next_batch_waits_for_the_score(tmp_path: Path) -> None:
    """With `rater_hold_s` (the demo's), a person reading slowly still lands the score."""
    daemon = start_daemon(tmp_path / "run", *RATER, "--steps", "4")
    try:
        app = RlaifApp(daemon.url, daemon.token, state_dir=tmp_path / "state", undo_window_s=0)
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.press("r")
            screen = app.screen
            assert isinstance(screen, RatingScreen)
            await until(lambda: screen.current is not None, pilot, 300, "a sample to rate")
            assert screen.current is not None
            first_step = int(screen.current.get("step", 0))
            await pilot.press("3")  # someone is rating now

            def next_batch_held() -> bool:
                current, status = screen.current, app.model.status
                return (
                    current is not None
                    and status is not None
                    and int(current.get("step", 0)) > first_step
                    and held(current, status)
                )

            await until(next_batch_held, pilot, 300, "a held sample of a later batch")
            counters = str(screen.query_one("#rate-counters").render())
            assert "up to 60s while you rate" in counters
            assert screen.current is not None
            assert app.model.status is not None
            waiting, rated = app.model.status.step, str(screen.current["id"])
            await pilot.pause(3.0)  # six times hold_s: the batch is still waiting for a score
            assert app.model.status.step == waiting
            await pilot.press("5")

            def landed() -> bool:
                landing = app.landing
                return landing is not None and landing.sample_id == rated and bool(landing.after)

            await until(landed, pilot, 120, "the rated sample's update")
            await pilot.pause(0.5)
            line = str(screen.query_one("#rate-landing").render())
            assert f"{rated} rated 5: human – → 1.00" in line
    finally:
        daemon.stop()
