"""Length-prefixed frames on stream sockets: 4-byte big-endian length, then a JSON payload."""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

MAX_FRAME = 64 << 20
_LEN = struct.Struct(">I")


class FrameError(Exception):
    """The peer closed the socket or sent something that is not a frame."""


class PeerClosed(FrameError):
    """The peer closed the socket."""


def send(sock: socket.socket, obj: Any) -> None:
    data = json.dumps(obj, separators=(",", ":")).encode()
    sock.sendall(_LEN.pack(len(data)) + data)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise PeerClosed("peer closed the connection")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv(sock: socket.socket, max_size: int = MAX_FRAME) -> Any:
    (n,) = _LEN.unpack(_recv_exact(sock, 4))
    if n > max_size:
        raise FrameError(f"frame of {n} bytes exceeds {max_size}")
    try:
        return json.loads(_recv_exact(sock, n))
    except (ValueError, RecursionError) as exc:
        raise FrameError(f"bad frame: {exc}") from None
