"""RewardCache through Python: bounds, recency, counters, the file on disk, and threads."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rlaif_tui._reward import CorruptFile, InvalidInput, RewardCache, RewardError


def outcome(i: int) -> str:
    return json.dumps({"id": f"job-{i}", "status": "passed", "tests_passed": i, "tests_total": 9})


def test_key_is_a_stable_content_hash() -> None:
    k = RewardCache.key(["python3.11", b"timeout=5", "def f(): return 1", "assert f() == 1"])
    assert len(k) == 64
    assert int(k, 16) >= 0
    assert k == RewardCache.key(
        [b"python3.11", "timeout=5", b"def f(): return 1", "assert f() == 1"]
    )
    assert RewardCache.key(["ab", "c"]) != RewardCache.key(["a", "bc"])
    assert RewardCache.key(["é"]) == RewardCache.key(["é".encode()])
    with pytest.raises(TypeError, match=r"parts\[1\] must be bytes or str, got int"):
        RewardCache.key(["a", 1])  # type: ignore[list-item]


def test_entry_bound_and_lru_order() -> None:
    c = RewardCache(max_entries=3)
    for k in "abc":
        assert c.put(k, outcome(ord(k)))
    assert c.get("a") == outcome(ord("a"))  # "a" becomes the most recent
    c.put("d", outcome(4))
    assert "b" not in c
    assert all(k in c for k in "acd")
    c.put("e", outcome(5))  # now "c" is the least recent
    assert "c" not in c
    assert "a" in c
    assert len(c) == 3
    assert c.stats()["evictions"] == 2


def test_byte_bound_and_oversized_entries() -> None:
    c = RewardCache(max_entries=100, max_bytes=64)
    assert c.max_bytes == 64
    assert c.max_entries == 100
    for i in range(10):
        c.put(f"k{i}", "x" * 14)  # 16 bytes each
    stats = c.stats()
    assert stats["bytes"] <= 64
    assert stats["entries"] == 4
    assert [f"k{i}" in c for i in range(10)] == [False] * 6 + [True] * 4
    assert c.put("big", "x" * 100) is False
    assert "big" not in c
    assert c.stats()["rejected"] == 1
    unbounded = RewardCache(max_entries=2, max_bytes=None)
    assert unbounded.max_bytes is None
    assert unbounded.put("k", "x" * 10_000)


def test_counters() -> None:
    c = RewardCache()
    assert (c.max_entries, c.max_bytes) == (100_000, 256 * 2**20)
    assert c.get("missing") is None
    c.put("k", "v")
    c.put("k", "w")  # replacing counts as an insert, not an eviction
    assert c.get("k") == "w"
    assert "k" in c  # no hit counted
    assert c.stats() == {
        "hits": 1,
        "misses": 1,
        "inserts": 2,
        "evictions": 0,
        "rejected": 0,
        "loaded": 0,
        "entries": 1,
        "bytes": 2,
    }


@pytest.mark.parametrize("kwargs", [{"max_entries": 0}, {"max_bytes": 0}, {"max_entries": -3}])
def test_bounds_must_be_positive(kwargs: dict[str, int]) -> None:
    with pytest.raises(InvalidInput, match="must be at least 1"):
        RewardCache(**kwargs)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "reward_cache.bin"
    c = RewardCache(max_entries=10)
    for i in range(5):
        c.put(RewardCache.key([str(i)]), outcome(i))
    c.put("unicode ✓", "line\nbreak and \x00 nul")
    c.get(RewardCache.key(["0"]))  # most recent now
    assert c.save(path) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reward_cache.bin"]

    resumed = RewardCache(max_entries=10)
    assert resumed.load(str(path)) == 6
    assert resumed.stats()["loaded"] == 6
    assert resumed.get("unicode ✓") == "line\nbreak and \x00 nul"
    for i in range(5):
        assert resumed.get(RewardCache.key([str(i)])) == outcome(i)

    # Recency survives the file: a 2-entry cache keeps the two most recent.
    small = RewardCache(max_entries=2)
    small.load(path)
    assert RewardCache.key(["0"]) in small
    assert "unicode ✓" in small


def test_missing_file(tmp_path: Path) -> None:
    c = RewardCache()
    with pytest.raises(FileNotFoundError, match=r"nope\.bin") as info:
        c.load(tmp_path / "nope.bin")
    assert info.value.filename == str(tmp_path / "nope.bin")
    assert c.load(tmp_path / "nope.bin", missing_ok=True) == 0
    with pytest.raises(FileNotFoundError):
        c.save(tmp_path / "no" / "dir" / "c.bin")


def _saved(tmp_path: Path) -> bytes:
    c = RewardCache()
    for i in range(3):
        c.put(f"k{i}", outcome(i))
    c.save(tmp_path / "good.bin")
    return (tmp_path / "good.bin").read_bytes()


def _assert_refused(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "broken.bin"
    path.write_bytes(data)
    c = RewardCache()
    c.put("already", "here")
    with pytest.raises(CorruptFile) as info:
        c.load(path)
    assert isinstance(info.value, RewardError)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert len(c) == 1
    assert c.get("already") == "here"
    return message


def test_truncated_files_are_refused(tmp_path: Path) -> None:
    good = _saved(tmp_path)
    for cut in (0, 7, 20, 30, len(good) // 2, len(good) - 33, len(good) - 1):
        _assert_refused(tmp_path, good[:cut])
    assert "truncated" in _assert_refused(tmp_path, good[: len(good) // 2])


def test_corrupted_files_are_refused(tmp_path: Path) -> None:
    good = _saved(tmp_path)
    assert "bad magic" in _assert_refused(tmp_path, b'{"not": "a cache"}\n' * 4)
    for at in range(0, len(good), 5):
        flipped = bytearray(good)
        flipped[at] ^= 0x01
        _assert_refused(tmp_path, bytes(flipped))


def test_save_replaces_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "reward_cache.bin"
    first = RewardCache()
    first.put("old", "1")
    first.save(path)
    second = RewardCache()
    second.put("new", "2")
    second.save(path)
    check = RewardCache()
    assert check.load(path) == 1
    assert "new" in check
    assert "old" not in check


def test_threads_share_one_cache(tmp_path: Path) -> None:
    c = RewardCache(max_entries=50, max_bytes=50 * 200)
    gets = 0
    lock = threading.Lock()
    wrong: list[str] = []

    def work(worker: int) -> None:
        nonlocal gets
        local_gets = 0
        for i in range(1500):
            n = (i * 13 + worker) % 120
            key = RewardCache.key([str(n)])
            got = c.get(key)
            local_gets += 1
            if got is None:
                c.put(key, outcome(n))
            elif got != outcome(n):
                wrong.append(key)
            if i % 500 == 0:
                c.save(tmp_path / f"snapshot-{worker}.bin")
        with lock:
            gets += local_gets

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(work, range(4)))
    stats = c.stats()
    assert not wrong
    assert stats["hits"] + stats["misses"] == gets == 6000
    assert stats["entries"] <= 50
    assert stats["bytes"] <= 50 * 200
    for snapshot in tmp_path.glob("snapshot-*.bin"):
        assert RewardCache().load(snapshot) > 0
    assert not list(tmp_path.glob(".*tmp*"))
