"""The harness's side of one job: the link to the sandboxed child and the proxies through which
test code calls the candidate's functions.

A proxy call encodes its arguments (builtin values only), the child calls the real function and
encodes the result, and the harness decodes it into a fresh builtin value. An exception raised by
the candidate comes back as a fresh exception of the builtin class with the same name (or
`CandidateError`), so nothing the candidate built ever runs here.
"""

from __future__ import annotations

import builtins
import socket
from typing import Any

from rlaif_tui.sandbox import codec, frames


class CandidateError(Exception):
    """An exception raised by the candidate whose class is not a builtin exception."""


class UnsupportedValueError(Exception):
    """A test passed or received a value that cannot cross the sandbox boundary."""


class ChildDied(Exception):
    """The sandboxed child is gone (it exited, crashed or was killed)."""


class ChannelCorrupted(CandidateError):
    """The program wrote into its channel to the harness (garbage, or a frame that is not a
    reply): the candidate's failure (flag `channel_corrupted`), never the sandbox's."""


_MUTABLE = (list, dict, set, bytearray)


def rebuild_exception(info: Any) -> Exception:
    """A fresh harness-side exception from the child's description of one."""
    if type(info) is not dict:
        return CandidateError("malformed exception")
    name = info.get("type")
    message = info.get("message")
    message = message if type(message) is str else ""
    cls = getattr(builtins, name, None) if type(name) is str else None
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(message)
        except Exception:
            pass
    return CandidateError(f"{name}: {message}")


def _write_back(target: Any, value: Any) -> None:
    """Mirror an in-place mutation the candidate made to a mutable argument."""
    if type(target) is not type(value):
        return
    if isinstance(target, list | bytearray):
        target[:] = value
    elif isinstance(target, dict | set):
        target.clear()
        target.update(value)


class Session:
    def __init__(self, sock: socket.socket, frame_limit: int) -> None:
        self.sock = sock
        self.frame_limit = frame_limit
        self.dead = False
        self.corrupted = False
        self.flags: set[str] = set()
        self.memory_error = False
        self.names: dict[str, str] = {}

    def request(self, req: dict[str, Any]) -> dict[str, Any]:
        if self.dead:
            raise ChildDied("the sandboxed program is no longer running")
        if self.corrupted:
            raise ChannelCorrupted("the program corrupted its channel to the harness")
        try:
            frames.send(self.sock, req)
            reply = frames.recv(self.sock, self.frame_limit)
        except (OSError, frames.PeerClosed):
            self.dead = True
            raise ChildDied("the sandboxed program is no longer running") from None
        except frames.FrameError:
            # The program wrote garbage into its socket: nothing more can be trusted to line up.
            raise self._corrupt() from None
        if type(reply) is not dict:
            raise self._corrupt()
        return reply

    def _corrupt(self) -> ChannelCorrupted:
        # Nothing more read from this channel can be trusted to line up with a request.
        self.corrupted = True
        self.flags.add("channel_corrupted")
        return ChannelCorrupted("the program corrupted its channel to the harness")

    def wait_ready(self) -> bool:
        try:
            hello = frames.recv(self.sock, 1 << 16)
        except (OSError, frames.FrameError):
            self.dead = True
            return False
        return type(hello) is dict and hello.get("ready") is True

    def fail_from(self, reply: dict[str, Any]) -> Exception:
        if "unsupported" in reply:
            self.flags.add("unsupported_value")
            return UnsupportedValueError(str(reply["unsupported"])[:500])
        exc = rebuild_exception(reply.get("exc"))
        if isinstance(exc, MemoryError):
            self.memory_error = True
        return exc

    def load(self, code: str, mode: str) -> dict[str, Any] | None:
        """Load the candidate; returns the exception description if that failed."""
        reply = self.request({"op": "load", "code": code, "mode": mode})
        if reply.get("ok") is True:
            names = reply.get("names")
            if type(names) is dict:
                self.names = {k: v for k, v in names.items() if type(k) is str and type(v) is str}
            return None
        info = reply.get("exc")
        info = info if type(info) is dict else {"type": "Exception", "message": "load failed"}
        if info.get("type") == "MemoryError":
            self.memory_error = True
        return info

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            wire_args = [codec.encode(a) for a in args]
            wire_kwargs = [[k, codec.encode(v)] for k, v in kwargs.items()]
        except codec.UnsupportedValue as exc:
            self.flags.add("unsupported_value")
            raise UnsupportedValueError(f"argument cannot be sent to the sandbox: {exc}") from None
        back = [i for i, a in enumerate(args) if isinstance(a, _MUTABLE)]
        reply = self.request(
            {"op": "call", "name": name, "args": wire_args, "kwargs": wire_kwargs, "back": back}
        )
        if reply.get("ok") is not True:
            raise self.fail_from(reply)
        try:
            opaque: list[str] = []
            value = codec.decode(reply.get("value"), opaque)
            if opaque:
                self.flags.add("opaque_value")
            for item in reply.get("args") or []:
                i, v = item
                if type(i) is int and i in back:
                    _write_back(args[i], codec.decode(v))
        except (codec.CodecError, TypeError, ValueError) as exc:
            self.flags.add("unsupported_value")
            raise UnsupportedValueError(f"result cannot cross the sandbox: {exc}") from None
        return value

    def get(self, name: str) -> Any:
        reply = self.request({"op": "get", "name": name})
        if reply.get("ok") is not True:
            raise self.fail_from(reply)
        try:
            return codec.decode(reply.get("value"))
        except codec.CodecError as exc:
            self.flags.add("unsupported_value")
            raise UnsupportedValueError(str(exc)) from None

    def run_main(self, stdin: str, limit: int) -> dict[str, Any]:
        reply = self.request({"op": "main", "stdin": stdin, "limit": limit})
        if reply.get("ok") is not True or type(reply.get("stdout")) is not str:
            raise self._corrupt()
        return reply


class Proxy:
    """Stands for a function the candidate defined; calls go into the sandbox."""

    __slots__ = ("_name", "_session")

    def __init__(self, session: Session, name: str) -> None:
        self._session = session
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call(self._name, args, kwargs)

    def __repr__(self) -> str:
        return f"<sandboxed {self._name}>"
