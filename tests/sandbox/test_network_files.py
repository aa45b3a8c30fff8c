"""Network and file properties: no connection anywhere; writes only in scratch; the project
tree, home directory, run dirs, tokens and shared benchmarks are unreadable."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

import rlaif_tui
from rlaif_tui.reward import Executor
from tests.sandbox.conftest import io_expect

DENY_READ = """
try:
    with open({path!r}, 'rb') as f:
        f.read(1)
    print('READ')
except PermissionError:
    print('DENIED')
except OSError as e:
    print('other', e)
"""


def test_connecting_to_a_loopback_listener_fails_and_nothing_arrives(executor: Executor) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.5)
        port = server.getsockname()[1]
        program = (
            "import socket\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
            "    print('CONNECTED')\n"
            "except OSError:\n"
            "    print('DENIED')\n"
        )
        assert io_expect(executor, program, "DENIED").passed
        with pytest.raises(TimeoutError):
            server.accept()


def test_no_socket_family_but_unix(executor: Executor) -> None:
    program = (
        "import socket\n"
        "out = []\n"
        "for fam in (socket.AF_INET, socket.AF_INET6, socket.AF_NETLINK, socket.AF_PACKET):\n"
        "    try:\n"
        "        socket.socket(fam, socket.SOCK_DGRAM).close()\n"
        "        out.append('open')\n"
        "    except OSError:\n"
        "        out.append('refused')\n"
        "a, b = socket.socketpair()\n"
        "print(' '.join(out), 'unix-ok')\n"
    )
    assert io_expect(executor, program, "refused refused refused refused unix-ok").passed


def test_no_unix_socket_but_a_stream_pair(executor: Executor) -> None:
    # socket(AF_UNIX) could connect() or sendto() a socket by path: refused; a connected
    # stream pair (multiprocessing's pipes) still works, a datagram pair does not.
    program = (
        "import socket\n"
        "out = []\n"
        "for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):\n"
        "    try:\n"
        "        socket.socket(socket.AF_UNIX, kind).close()\n"
        "        out.append('open')\n"
        "    except OSError:\n"
        "        out.append('refused')\n"
        "a, b = socket.socketpair()\n"
        "a.sendall(b'x')\n"
        "out.append(b.recv(1).decode())\n"
        "try:\n"
        "    socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
        "    out.append('dgram')\n"
        "except OSError:\n"
        "    out.append('refused')\n"
        "print(' '.join(out))\n"
    )
    o = io_expect(executor, program, "refused refused x refused")
    assert o.passed, o


def test_writing_outside_scratch_leaves_the_target_unchanged(
    executor: Executor, tmp_path: Path
) -> None:
    target = tmp_path / "target.txt"
    target.write_text("original")
    tmp_path.chmod(0o777)
    target.chmod(0o666)  # file permissions would allow it: only the sandbox stands in the way
    program = (
        "out = []\n"
        f"for path in ({str(target)!r}, {str(tmp_path / 'new.txt')!r}, '/tmp/escape.txt'):\n"
        "    try:\n"
        "        with open(path, 'w') as f:\n"
        "            f.write('pwned')\n"
        "        out.append('WROTE')\n"
        "    except PermissionError:\n"
        "        out.append('DENIED')\n"
        "print(' '.join(out))\n"
    )
    assert io_expect(executor, program, "DENIED DENIED DENIED").passed
    assert target.read_text() == "original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target.txt"]
    assert not Path("/tmp/escape.txt").exists()


def test_a_token_in_a_run_dir_is_unreadable(executor: Executor, tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "demo"
    run_dir.mkdir(parents=True)
    token = run_dir / "token"
    token.write_text("secret-token")
    token.chmod(0o600)
    assert io_expect(executor, DENY_READ.format(path=str(token)), "DENIED").passed


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(str(Path(rlaif_tui.__file__).resolve()), id="project-tree"),
        pytest.param(
            str(Path(rlaif_tui.__file__).resolve().parent.parent / "pyproject.toml"),
            id="project-config",
        ),
        pytest.param("/etc/passwd", id="etc"),
    ],
)
def test_reads_outside_the_allowed_trees_are_denied(executor: Executor, path: str) -> None:
    assert io_expect(executor, DENY_READ.format(path=path), "DENIED").passed


def test_home_directory_is_unreadable(executor: Executor) -> None:
    home = os.path.expanduser("~")
    program = (
        "import os\n"
        "try:\n"
        f"    os.listdir({home!r})\n"
        "    print('LISTED')\n"
        "except PermissionError:\n"
        "    print('DENIED')\n"
    )
    assert io_expect(executor, program, "DENIED").passed


def test_shared_benchmarks_are_unreadable(executor: Executor) -> None:
    from rlaif_tui.bench.data import find_benchmark

    path = find_benchmark("HumanEval.jsonl.gz")
    if path is None:
        pytest.skip("shared/benchmarks is not present on this machine")
    assert io_expect(executor, DENY_READ.format(path=str(path)), "DENIED").passed


def test_the_stdlib_stays_importable(executor: Executor) -> None:
    # Confinement must not break ordinary programs: a module the zygote did not preload.
    program = "import calendar, textwrap, dataclasses\nprint(calendar.isleap(2024))"
    o = io_expect(executor, program, "True")
    assert o.passed, o
