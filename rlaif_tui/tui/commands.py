"""Command palette (ctrl+p): one entry per action of the app."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

ACTIONS: list[tuple[str, str, str]] = [
    ("Dashboard", "Live charts of the run's metrics", "switch_mode('dashboard')"),
    ("Samples", "Browse recent samples and their groups", "switch_mode('samples')"),
    ("Rate samples", "The rating queue, most valuable first", "switch_mode('rate')"),
    ("Pause or resume training", "Toggle the daemon's training loop", "toggle_pause"),
    ("Pause training", "Ask the daemon to pause after the current step", "control('pause')"),
    ("Resume training", "Ask the daemon to resume", "control('resume')"),
    ("Checkpoint now", "Ask the daemon to save a checkpoint", "checkpoint"),
    ("Stop the run", "Checkpoint and stop the daemon's run (asks first)", "stop"),
    ("Live settings", "Change β, KL target, temperature and reward weights", "settings"),
    ("Retry connection", "Reconnect to the daemon now", "retry"),
    ("Help", "Every key of every screen", "help"),
    ("Quit", "Leave rlaif-tui", "quit"),
]


class RlaifCommands(Provider):
    async def discover(self) -> Hits:
        for title, help_text, action in ACTIONS:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in ACTIONS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.app.run_action, action),
                    help=help_text,
                )
