"""`rlaif-tui`: the Textual client of `rlaif daemon`.

A client only: it talks to a daemon through `rlaif_tui.api.DaemonClient` and never imports
training code (torch, transformers, `rlaif_tui.train`, `rlaif_tui.models`), so it starts fast
on a laptop. `tests/test_tui_imports.py` checks that boundary in a fresh interpreter.
"""
