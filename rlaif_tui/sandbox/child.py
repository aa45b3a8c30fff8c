"""The runtime of a sandboxed child: loads the candidate's code and answers the harness.

Runs after `_reward._child_harden` (namespaces, uid, rlimits, Landlock, seccomp) and before any
candidate code. Everything here is at the candidate's mercy once its code runs - it may patch
this module, write to the socket or exit - and that is fine: the harness decides the verdict
from values it decodes itself, and never sends expected values here.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import socket
import sys
import threading
from typing import Any

from rlaif_tui.sandbox import codec, frames

CANDIDATE_FILE = "<candidate>"


def exc_info(exc: BaseException) -> dict[str, Any]:
    """Describe an exception raised by candidate code: type name, message, candidate line."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == CANDIDATE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(exc, SyntaxError) and exc.filename == CANDIDATE_FILE:
        line = exc.lineno
    try:
        message = str(exc)[:1000]
    except BaseException:
        message = "<unprintable>"
    name = type(exc).__name__
    return {
        "type": name if isinstance(name, str) else "Exception",
        "message": message,
        "line": line,
    }


def describe_names(ns: dict[str, Any]) -> dict[str, str]:
    """Top-level names the candidate defined: callable, module:<name> or value."""
    out = {}
    for name, value in ns.items():
        if name.startswith("__"):
            continue
        if type(value) is type(sys):
            out[name] = f"module:{value.__name__}"
        elif callable(value):
            out[name] = "callable"
        else:
            out[name] = "value"
    return out


class _CappedBytes(io.BytesIO):
    """The program's stdout for the harness (capped), mirrored to the real stdout so the lane
    sees it too: its tail lands in `stdout_tail`, and a flood ends in `output_limit`."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.truncated = False

    def write(self, b: Any) -> int:
        _write_all(1, bytes(b))
        n = len(b)
        room = self.limit - self.tell()
        if n > room:
            self.truncated = True
            b = bytes(b)[: max(room, 0)]
        super().write(b)
        return n


def _feed_stdin(data: bytes) -> None:
    """Make fd 0 a pipe holding `data` (so `open(0)` and `sys.stdin.buffer` both work)."""
    r, w = os.pipe()
    os.dup2(r, 0)
    os.close(r)

    def writer() -> None:
        try:
            os.write(w, data) if len(data) <= 60000 else _write_all(w, data)
        finally:
            os.close(w)

    if len(data) <= 60000:
        writer()
    else:
        threading.Thread(target=writer, daemon=True).start()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except OSError:
            return
        view = view[n:]


class Runtime:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.ns: dict[str, Any] = {}
        self.code: Any = None

    def load(self, req: dict[str, Any]) -> dict[str, Any]:
        try:
            self.code = compile(req["code"], CANDIDATE_FILE, "exec")
        except BaseException as exc:
            return {"ok": False, "exc": exc_info(exc)}
        if req.get("mode") == "main":
            return {"ok": True, "names": {}}
        self.ns = {"__name__": "__candidate__", "__builtins__": builtins}
        try:
            exec(self.code, self.ns)
        except BaseException as exc:
            return {"ok": False, "exc": exc_info(exc)}
        return {"ok": True, "names": describe_names(self.ns)}

    def call(self, req: dict[str, Any]) -> dict[str, Any]:
        fn = self.ns.get(req["name"])
        if fn is None:
            return {
                "ok": False,
                "exc": {
                    "type": "NameError",
                    "message": f"name {req['name']!r} is not defined",
                    "line": None,
                },
            }
        try:
            args = [codec.decode(a) for a in req["args"]]
            kwargs = {k: codec.decode(v) for k, v in req["kwargs"]}
        except codec.CodecError as exc:
            return {"ok": False, "unsupported": str(exc)}
        try:
            value = fn(*args, **kwargs)
        except BaseException as exc:
            return {"ok": False, "exc": exc_info(exc)}
        try:
            reply: dict[str, Any] = {"ok": True, "value": codec.encode(value, opaque=True)}
            back = req.get("back") or []
            if back:
                reply["args"] = [[i, codec.encode(args[i])] for i in back]
        except codec.UnsupportedValue as exc:
            return {"ok": False, "unsupported": str(exc)}
        except BaseException as exc:
            return {"ok": False, "exc": exc_info(exc)}
        return reply

    def get(self, req: dict[str, Any]) -> dict[str, Any]:
        try:
            return {"ok": True, "value": codec.encode(self.ns[req["name"]])}
        except codec.UnsupportedValue as exc:
            return {"ok": False, "unsupported": str(exc)}
        except KeyError:
            return {"ok": False, "exc": {"type": "NameError", "message": req["name"], "line": None}}

    def main(self, req: dict[str, Any]) -> dict[str, Any]:
        out = _CappedBytes(int(req["limit"]))
        stdout = io.TextIOWrapper(out, encoding="utf-8", errors="replace", write_through=True)
        _feed_stdin(req["stdin"].encode())
        stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
        saved = sys.stdin, sys.stdout
        sys.stdin, sys.stdout = stdin, stdout
        exc = None
        try:
            exec(self.code, {"__name__": "__main__", "__builtins__": builtins})
        except SystemExit as e:
            if e.code not in (None, 0):
                exc = {"type": "SystemExit", "message": str(e.code)[:200], "line": None}
        except BaseException as e:
            exc = exc_info(e)
        finally:
            sys.stdin, sys.stdout = saved
            with contextlib.suppress(BaseException):
                stdout.flush()
        text = out.getvalue().decode("utf-8", errors="replace")
        return {"ok": True, "stdout": text, "truncated": out.truncated, "exc": exc}

    def serve(self) -> None:
        ops = {"load": self.load, "call": self.call, "get": self.get, "main": self.main}
        while True:
            try:
                req = frames.recv(self.sock)
            except (frames.FrameError, OSError):
                os._exit(0)
            op = req.get("op") if type(req) is dict else None
            handler = ops.get(op) if type(op) is str else None
            reply = (
                handler(req)
                if handler
                else {
                    "ok": False,
                    "exc": {"type": "ProtocolError", "message": "bad request", "line": None},
                }
            )
            try:
                frames.send(self.sock, reply)
            except (OSError, TypeError, ValueError):
                os._exit(0)


def serve(fd: int, hardening: list[tuple[str, float]]) -> None:
    """Entry point in the hardened child: say ready (before any candidate code), then serve."""
    sock = socket.socket(fileno=fd)
    frames.send(sock, {"ready": True, "harden_s": hardening})
    Runtime(sock).serve()
    os._exit(0)
