"""Fail fast on a model name that cannot load, before transformers retries the hub.

A mistyped local path (`./mdl`, `/abs/mdl`, `~/mdl`) or a hub name that is neither cached nor
reachable made `from_pretrained` wait through the hub client's retries before failing. Here a
name is checked once: a local-looking name must be a directory with `config.json`; a hub name
must be a valid repo id and either be in the local cache or answer one metadata request.
"""

from __future__ import annotations

import os
from pathlib import Path


class HubNameError(ValueError):
    """The model name is neither a local model directory nor a loadable hub model."""


def looks_local(name: str) -> bool:
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or os.sep * 2 in name


def check_model_name(name: str, revision: str | None = None) -> None:
    """Raise `HubNameError` (one line, what to do) unless `name` can be loaded."""
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise HubNameError(f"{name}: a directory without config.json (not a saved model)")
        return
    if looks_local(name) or path.exists():
        raise HubNameError(f"{name}: no such model directory")
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    # the documented path; huggingface_hub.utils leaves it out of __all__
    from huggingface_hub.utils import validate_repo_id  # type: ignore[attr-defined]

    try:
        validate_repo_id(name)
    except HFValidationError as exc:
        raise HubNameError(f"{name}: not a model directory nor a hub name ({exc})") from None
    if isinstance(try_to_load_from_cache(name, "config.json", revision=revision), str):
        return
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise HubNameError(f"{name}: not in the local hub cache and HF_HUB_OFFLINE is set")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    try:
        HfApi().model_info(name, revision=revision, timeout=10)
    except (RepositoryNotFoundError, RevisionNotFoundError):
        raise HubNameError(
            f"{name}: no such model on the hub (or it is private: log in with `hf auth login`)"
        ) from None
    except Exception as exc:  # httpx connection errors, timeouts, hub 5xx
        raise HubNameError(
            f"{name}: not in the local hub cache and the hub cannot be reached "
            f"({type(exc).__name__})"
        ) from None
