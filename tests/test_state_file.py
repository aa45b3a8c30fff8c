"""Trainer state as JSON + safetensors: a real Trainer's state round-trips with every type
intact, loading never unpickles, and an older pickled `trainer_state.pt` is read safely or
refused with a message naming the file."""

from __future__ import annotations

import pickle
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from train_helpers import LetterShare, tiny_config

from rlaif_tui.models import checkpoint as ckpt
from rlaif_tui.models.state_file import (
    JSON_FILE,
    LEGACY_FILE,
    TENSORS_FILE,
    StateFormatError,
    load_state,
    save_state,
)
from rlaif_tui.train.trainer import Trainer


def assert_same(a: Any, b: Any, where: str = "state") -> None:
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype, where
        assert torch.equal(a, b), where
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype, where
        assert np.array_equal(a, b), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}.{i}")
    else:
        assert a == b, where


def test_a_trainers_checkpoint_state_round_trips_exactly(tmp_path: Path) -> None:
    cfg = tiny_config(run={"steps": 2, "checkpoint_every": 1}, curriculum={"enabled": True})
    trainer = Trainer.from_config(cfg, tmp_path / "run", sources=[LetterShare()])
    trainer.step()
    path = trainer.save_checkpoint()
    trainer.close()
    assert (path / JSON_FILE).exists()
    assert (path / TENSORS_FILE).exists()
    assert not (path / LEGACY_FILE).exists()
    state = ckpt.read_state(path)
    assert state["step"] == 1
    # the optimizer's per-parameter state is keyed by int and holds tensors
    opt = state["optimizer"]["state"]
    assert opt
    assert all(isinstance(k, int) for k in opt)
    assert all(isinstance(v["exp_avg"], torch.Tensor) for v in opt.values())
    # the RNG states restore as the types their setters need
    random.setstate(state["rng"]["python"])
    np.random.set_state(state["rng"]["numpy"])
    torch.set_rng_state(state["rng"]["torch"])
    assert state["rng"]["numpy"][1].dtype == np.uint32
    # and saving what was loaded gives back the same tree
    again = tmp_path / "again"
    again.mkdir()
    save_state(state, again)
    assert_same(state, load_state(again))


def test_every_value_type_of_the_state_round_trips(tmp_path: Path) -> None:
    state: dict[str, Any] = {
        "step": 7,
        "lr": 0.1 + 0.2,  # not representable in short decimal: repr keeps it exact
        "none": None,
        "flag": True,
        "betas": (0.9, 0.999),
        "by_index": {3: 0.25, 11: 1.0},
        "nested": [{"w": torch.randn(2, 3, dtype=torch.float64)}, torch.tensor(5.0)],
        "bf16": torch.randn(4).to(torch.bfloat16),
        "rng": ("MT19937", np.arange(5, dtype=np.uint32), 2, 0, 0.0),
        "text": "naïve\n",
    }
    save_state(state, tmp_path)
    assert_same(state, load_state(tmp_path))


def test_a_value_that_cannot_be_stored_is_named(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"state\.sampler\.fn: cannot store a function"):
        save_state({"sampler": {"fn": lambda: 1}}, tmp_path)


class Payload:
    """What a malicious pickle would carry: reducing runs code on load."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path("/tmp").joinpath, ("pwned",))


def test_an_old_pickled_state_is_read_without_unpickling_code(tmp_path: Path) -> None:
    old = {
        "step": 3,
        "optimizer": {"state": {0: {"exp_avg": torch.ones(2)}}, "param_groups": []},
        "rng": {"numpy": np.random.get_state(), "python": random.getstate()},
    }
    torch.save(old, tmp_path / LEGACY_FILE)
    assert ckpt.is_complete(tmp_path)
    state = ckpt.read_state(tmp_path)
    assert state["step"] == 3
    assert torch.equal(state["optimizer"]["state"][0]["exp_avg"], torch.ones(2))
    assert np.array_equal(state["rng"]["numpy"][1], old["rng"]["numpy"][1])

    hostile = tmp_path / "hostile"
    hostile.mkdir()
    torch.save({"step": 1, "x": Payload()}, hostile / LEGACY_FILE)
    with pytest.raises(StateFormatError, match=r"predates the trainer_state\.json format"):
        ckpt.read_state(hostile)
    with (hostile / LEGACY_FILE).open("wb") as fh:  # a plain pickle, not a torch file
        pickle.dump({"step": 1}, fh)
    with pytest.raises(StateFormatError, match=re.escape(str(hostile / LEGACY_FILE))):
        ckpt.read_state(hostile)


def test_a_damaged_state_file_names_itself(tmp_path: Path) -> None:
    save_state({"step": 1}, tmp_path)
    (tmp_path / JSON_FILE).write_text("{not json")
    with pytest.raises(StateFormatError, match=JSON_FILE):
        load_state(tmp_path)
