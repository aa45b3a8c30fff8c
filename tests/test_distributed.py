"""Data-parallel training: the loss and metric maths across ranks, and real two-process runs
(torchrun, gloo on 127.0.0.1) against one process on the same batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from train_helpers import REPO, tiny_config

from rlaif_tui.algos.grpo import aggregate
from rlaif_tui.algos.rloo import rloo_loss
from rlaif_tui.distributed import DistContext, init_from_env
from rlaif_tui.distributed.reduce import combine, local_normaliser
from rlaif_tui.distributed.support import check_config

TESTS = Path(__file__).resolve().parent
TORCHRUN = Path(sys.executable).with_name("torchrun")
ACCELERATE = Path(sys.executable).with_name("accelerate")  # installed with peft


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env.update(OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo", PYTHONUNBUFFERED="1")
    return env


def _torchrun(nproc: int, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [
        str(TORCHRUN),
        "--nnodes",
        "1",
        "--nproc-per-node",
        str(nproc),
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(_free_port()),
        *args,
    ]
    return _run(cmd, cwd)


def _accelerate(nproc: int, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [
        str(ACCELERATE),
        "launch",
        "--multi_gpu",  # accelerate's multi-process mode; on a CPU-only host it runs gloo
        "--num_processes",
        str(nproc),
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_ip",
        "127.0.0.1",
        "--main_process_port",
        str(_free_port()),
        *args,
    ]
    return _run(cmd, cwd)


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


# ----- the maths, without processes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "loss_type"),
    [("grpo", "dapo"), ("grpo", "grpo"), ("grpo", "dr_grpo"), ("rloo", "dapo")],
)
def test_rank_losses_scaled_by_share_sum_to_the_one_process_loss(
    algorithm: str, loss_type: str
) -> None:
    cfg = tiny_config(algorithm=algorithm, grpo={"loss_type": loss_type})
    gen = torch.Generator().manual_seed(0)
    per_token = torch.randn(8, 6, generator=gen, dtype=torch.float64)
    mask = (torch.rand(8, 6, generator=gen) > 0.3).to(torch.float64)
    mask[:, 0] = 1
    adv = torch.randn(8, generator=gen, dtype=torch.float64)

    def loss(rows: slice) -> torch.Tensor:
        if algorithm == "rloo":
            logp = per_token[rows]
            return rloo_loss(logp, logp.detach(), adv[rows], mask[rows], kl=None, beta=0, eps=0.2)[
                0
            ]
        return aggregate(per_token[rows], mask[rows], loss_type, max_tokens=6)

    whole = loss(slice(0, 8))
    halves = [slice(0, 4), slice(4, 8)]  # two ranks of two groups of two
    norms = [local_normaliser(cfg, mask[r]) for r in halves]
    total = sum(norms)
    summed = sum(loss(r) * (n / total) for r, n in zip(halves, norms, strict=True))
    assert float(summed) == pytest.approx(float(whole), rel=1e-12)
    unscaled = sum(loss(r) for r in halves) / 2  # what plain averaging would report
    if loss_type == "dapo" and algorithm == "grpo":
        assert float(unscaled) != pytest.approx(float(whole), rel=1e-6)


def test_metric_rules_weight_means_and_sum_counters() -> None:
    per_rank = [
        ({"pass/rate": 1.0, "sandbox/timeouts": 2.0, "time/step_s": 3.0, "loss/total": 0.25}, 8.0),
        ({"pass/rate": 0.0, "sandbox/timeouts": 1.0, "time/step_s": 5.0, "loss/total": 0.5}, 24.0),
    ]
    out = combine(per_rank, summed={"loss/total"}, same=set())
    assert out["pass/rate"] == pytest.approx(8 / 32)  # per completion, not per rank
    assert out["sandbox/timeouts"] == 3.0
    assert out["time/step_s"] == 5.0
    assert out["loss/total"] == 0.75
    only_one = combine([({"judge/mean": 0.5}, 8.0), ({}, 8.0)])
    assert only_one["judge/mean"] == 0.5  # a key one rank lacks is averaged over those that have it
    assert combine(per_rank, same={"pass/rate"})["pass/rate"] == 1.0


def test_groups_are_shared_out_whole_and_once() -> None:
    batch = list(range(8))
    ranks = [DistContext(rank=r, world_size=2) for r in range(2)]
    shards = [c.shard(batch) for c in ranks]
    assert sorted(shards[0] + shards[1]) == batch
    for c, shard in zip(ranks, shards, strict=True):
        assert [batch[s] for s in c.slots(len(shard))] == shard


def test_config_checks_name_the_field() -> None:
    two = DistContext(rank=0, world_size=2)
    with pytest.raises(ValueError, match=r"rollout.prompts_per_step=3 is not a multiple"):
        check_config(tiny_config(rollout={"prompts_per_step": 3}), two)
    with pytest.raises(ValueError, match=r"grpo.minibatches=2 exceeds the 1 groups per rank"):
        check_config(tiny_config(grpo={"minibatches": 2}), two)
    with pytest.raises(ValueError, match=r"reward.weights.human > 0: not supported with 2 ranks"):
        check_config(tiny_config(reward={"weights": {"syntax": 1.0, "human": 0.5}}), two)
    check_config(tiny_config(rollout={"prompts_per_step": 3}), DistContext())


def test_init_from_env_without_a_launcher_is_one_process() -> None:
    assert init_from_env({}).world_size == 1
    with pytest.raises(RuntimeError, match="RANK, MASTER_ADDR, MASTER_PORT not set"):
        init_from_env({"WORLD_SIZE": "2"})
    launched = {"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1"}
    with pytest.raises(RuntimeError, match="accelerate asked for FSDP"):
        init_from_env({**launched, "ACCELERATE_USE_FSDP": "true"})


# ----- real ranks -----------------------------------------------------------------------------


@pytest.mark.slow
def test_two_ranks_train_exactly_like_one_process(tmp_path: Path) -> None:
    """Same completions, same loss and the same weights after 3 GRPO steps (DAPO token-mean)
    from one process and from two gloo ranks that each sample and train on half the groups."""
    steps = "3"
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    worker = str(TESTS / "dist_worker.py")
    done = subprocess.run(
        [sys.executable, worker, str(one), steps],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    _torchrun(2, worker, str(two), steps, cwd=tmp_path)
    a = torch.load(one / "result.pt", weights_only=False)
    b = torch.load(two / "result.pt", weights_only=False)
    assert (a["world_size"], b["world_size"]) == (1, 2)
    assert b["ranks_agree"], "the two ranks ended with different weights"
    assert a["completions"] == b["completions"]  # the same rollouts, sampled on other ranks
    assert a["rewards"] == b["rewards"]
    assert any(abs(x) > 1e-5 for x in a["losses"])  # a loss that could differ
    assert b["losses"] == pytest.approx(a["losses"], rel=5e-5, abs=1e-9)
    moved = max(float((a["after"][n] - a["before"][n]).abs().max()) for n in a["after"])
    apart = max(float((a["after"][n] - b["after"][n]).abs().max()) for n in a["after"])
    assert moved > 1e-2
    assert apart < 1e-4, f"weights differ by {apart} after moving {moved}"


@pytest.mark.slow
def test_torchrun_cli_writes_the_run_once_and_accelerate_resumes_it(tmp_path: Path) -> None:
    run = tmp_path / "run"
    base = ["-m", "rlaif_tui.cli.main", "train", "--config", str(REPO / "configs/smoke.yaml")]
    first = _torchrun(2, *base, "--run-dir", str(run), "--steps", "2", cwd=tmp_path)
    assert first.stdout.count("step 2/2") == 1  # rank 0 alone prints
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2]
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    # smoke: 2 prompts x 4 completions per step, one group on each rank, every sample once
    assert len(samples) == 2 * 2 * 4
    assert len({s["id"] for s in samples}) == len(samples)
    assert {s["group_id"] for s in samples if s["step"] == 1} == {"s000001-g00", "s000001-g01"}
    assert sorted(p.name for p in (run / "checkpoints").glob("step-*")) == [
        "step-000001",
        "step-000002",
    ]
    _accelerate(2, *base, "--resume", str(run), "--steps", "3", cwd=tmp_path)
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2, 3]
    assert (run / "checkpoints" / "step-000003").is_dir()
