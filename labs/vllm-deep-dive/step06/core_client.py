"""The client side of the engine core: how the front end reaches it.

InprocClient calls an EngineCore in this process: get_output() runs one step.
MPClient talks to an EngineCore in another process (core_proc.py) over ZMQ:
requests go out as msgpack bytes, outputs come back the same way. It never
waits without a limit: every receive is a poll with a timeout, and between
polls it checks that the core is alive. If the core dies, each request still
pending ends with an "error" output that says so; nothing hangs.
(vLLM's LLMEngine uses InprocClient or SyncMPClient behind the same interface.)
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

import msgspec
import zmq

from engine_core import EngineCore
from messages import EngineCoreOutput, EngineCoreRequest, decoder, encoder


class InprocClient:
    def __init__(self, model_dir, **settings):
        self.core = EngineCore(model_dir, **settings)

    def add_request(self, request: EngineCoreRequest) -> None:
        self.core.add_request(request)

    def abort_requests(self, request_ids: list[str]) -> None:
        self.core.abort_requests(request_ids)

    def get_output(self) -> list[EngineCoreOutput]:
        return self.core.step()

    def shutdown(self) -> None:
        self.core.shutdown()


def start_engine_core(model_dir, address: str | None = None, **settings):
    """Start an engine core process bound to `address` (default: a fresh ipc:// path); return (process, address)."""
    import core_proc
    address = address or f"ipc://{tempfile.gettempdir()}/engine-core-{uuid.uuid4().hex[:12]}"
    proc = subprocess.Popen([sys.executable, core_proc.__file__, str(model_dir), address, json.dumps(settings)])
    return proc, address


class EngineDeadError(RuntimeError):
    pass


class MPClient:
    """An engine core in another process. Give `address` to join a running core, or let it start one."""

    def __init__(self, model_dir=None, address: str | None = None, startup_timeout: float = 120.0,
                 **settings):
        self.proc = None
        if address is None:
            self.proc, address = start_engine_core(model_dir, **settings)
        self.address = address
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(address)
        self.enc, self.dec_outputs = encoder(), decoder(list[EngineCoreOutput])
        self.pending: set[str] = set()           # sent, not finished
        self.local: list[EngineCoreOutput] = []  # outputs made here (the core is dead)
        self.dead: str | None = None             # why the core is gone
        self.stats(timeout=startup_timeout)      # the first answer says the core is up

    def add_request(self, request: EngineCoreRequest) -> None:
        if self.dead:
            self.local.append(EngineCoreOutput(request.request_id, [], "error", self.dead))
            return
        self.pending.add(request.request_id)
        self.sock.send_multipart([b"ADD", self.enc.encode(request)])

    def abort_requests(self, request_ids: list[str]) -> None:
        if not self.dead:
            self.sock.send_multipart([b"ABORT", self.enc.encode(list(request_ids))])

    def get_output(self, timeout: float = 5.0) -> list[EngineCoreOutput]:
        """The next batch of outputs; [] if none came within `timeout` seconds (the core is idle)."""
        if self.local:
            outs, self.local = self.local, []
            return outs
        deadline = time.monotonic() + timeout
        while not self.dead and time.monotonic() < deadline:
            if self.sock.poll(50):
                kind, payload = self.sock.recv_multipart()
                if kind == b"OUT":
                    outs = self.dec_outputs.decode(payload)
                    self.pending -= {o.request_id for o in outs if o.finish_reason is not None}
                    return outs
                continue  # a late STATS answer
            self.check_alive()
        if self.dead:  # every request still pending ends now, with the reason
            outs = [EngineCoreOutput(rid, [], "error", self.dead) for rid in sorted(self.pending)]
            self.pending.clear()
            return outs
        return []

    def stats(self, timeout: float = 5.0) -> dict:
        self.sock.send_multipart([b"STATS", b""])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sock.poll(50):
                kind, payload = self.sock.recv_multipart()
                if kind == b"STATS":
                    return msgspec.msgpack.decode(payload)
                self.local.extend(self.dec_outputs.decode(payload))  # outputs that came first: keep them
            else:
                self.check_alive()
                if self.dead:
                    raise EngineDeadError(self.dead)
        raise TimeoutError(f"the engine core at {self.address} did not answer within {timeout} s")

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None and not self.dead:
            self.dead = f"the engine core process died (exit code {self.proc.returncode})"

    def shutdown(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.sock.send_multipart([b"SHUTDOWN", b""])
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.sock.close()
        self.ctx.term()
        if self.address.startswith("ipc://") and self.proc is not None:
            try:
                os.unlink(self.address[len("ipc://"):])
            except FileNotFoundError:
                pass


class AsyncMPClient(MPClient):
    """MPClient for an asyncio server: the same socket protocol on a zmq.asyncio socket."""

    def __init__(self, model_dir=None, address: str | None = None, **settings):
        import zmq.asyncio
        self.proc = None
        if address is None:
            self.proc, address = start_engine_core(model_dir, **settings)
        self.address = address
        self.ctx = zmq.asyncio.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(address)
        self.enc, self.dec_outputs = encoder(), decoder(list[EngineCoreOutput])
        self.pending, self.local, self.dead = set(), [], None
        self.last_stats: dict | None = None

    async def add_request(self, request: EngineCoreRequest) -> None:
        if self.dead:
            self.local.append(EngineCoreOutput(request.request_id, [], "error", self.dead))
            return
        self.pending.add(request.request_id)
        await self.sock.send_multipart([b"ADD", self.enc.encode(request)])

    def abort_requests_nowait(self, request_ids: list[str]) -> None:
        """Usable from a finally block of a cancelled task: a ZMQ send that does not wait."""
        if not self.dead:
            self.sock.send_multipart([b"ABORT", self.enc.encode(list(request_ids))], flags=zmq.NOBLOCK)

    async def get_output(self, timeout: float = 1.0) -> list[EngineCoreOutput]:
        if self.local:
            outs, self.local = self.local, []
            return outs
        deadline = time.monotonic() + timeout
        while not self.dead and time.monotonic() < deadline:
            if await self.sock.poll(50):
                kind, payload = await self.sock.recv_multipart()
                if kind == b"OUT":
                    outs = self.dec_outputs.decode(payload)
                    self.pending -= {o.request_id for o in outs if o.finish_reason is not None}
                    return outs
                self.last_stats = msgspec.msgpack.decode(payload)  # a STATS answer
                continue
            self.check_alive()
        if self.dead:
            outs = [EngineCoreOutput(rid, [], "error", self.dead) for rid in sorted(self.pending)]
            self.pending.clear()
            return outs
        return []

    async def request_stats(self) -> None:
        """Ask for stats; the answer arrives through get_output's loop into last_stats."""
        if not self.dead:
            await self.sock.send_multipart([b"STATS", b""])

    def shutdown(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # the asyncio socket cannot send from here: a signal instead
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.sock.close()
        self.ctx.term()
