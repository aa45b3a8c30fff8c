"""Keep the Hugging Face libraries' own progress bars and notices out of the CLI's output.

The commands show their own progress (`rlaif_tui.progress`); transformers' "Writing model
shards" / "Loading weights" bars at every checkpoint and hub download bars would otherwise
fill non-TTY logs with carriage-return redraws. Errors still show;
`TRANSFORMERS_VERBOSITY=warning` brings transformers' warnings back.
"""

from __future__ import annotations

import os


def quiet_transformers() -> None:
    """Turn off transformers' and huggingface_hub's progress bars and info notices."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    user_verbosity = "TRANSFORMERS_VERBOSITY" in os.environ
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    try:
        from huggingface_hub.utils import (  # type: ignore[attr-defined]  # not in __all__
            disable_progress_bars,
        )
        from transformers.utils import logging as hf_logging
    except ModuleNotFoundError:  # the train extra is not installed: nothing to quiet
        return
    disable_progress_bars()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    if not user_verbosity:  # notices such as the past_key_values rename are not the user's
        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
