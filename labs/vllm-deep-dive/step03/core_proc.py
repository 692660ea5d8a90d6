"""The engine core in its own process, reached over ZMQ with msgpack messages.

The core binds a ZMQ ROUTER socket. Each client connects a DEALER socket and sends

    [b"ADD", EngineCoreRequest]   [b"ABORT", [request ids]]   [b"STATS", b""]   [b"SHUTDOWN", b""]

and gets back [b"OUT", [EngineCoreOutput, ...]] (one message per step with its requests'
deltas) or [b"STATS", {...}]. The loop: take every waiting message, run one step
if any request is unfinished, send each client its outputs. While there is work
the poll does not wait; when idle it sleeps in poll() instead of spinning.

A client that disappears: the ROUTER socket is told to fail on sends to a peer it
no longer has (ROUTER_MANDATORY), so the core notices at the next output for it,
aborts all its requests (freeing their KV blocks) and keeps serving the others.
The core exits when the process that started it is gone, so it never lingers.
"""
import json
import os
import sys

import msgspec
import zmq

from engine_core import EngineCore
from messages import EngineCoreOutput, EngineCoreRequest, decoder, encoder

POLL_IDLE_MS = 100  # how long an idle core sleeps in poll() before it checks on its parent


def run_engine_core(model_dir, address: str, settings: dict) -> None:
    """The core process's main function (started by core_client.start_engine_core)."""
    parent = os.getppid()
    core = EngineCore(model_dir, **settings)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.ROUTER_MANDATORY, 1)  # a send to a vanished client raises instead of vanishing
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind(address)
    enc, dec_request, dec_ids = encoder(), decoder(EngineCoreRequest), msgspec.msgpack.Decoder(list[str])
    owner: dict[str, bytes] = {}  # request id -> the client (its ZMQ identity) that sent it
    try:
        while True:
            if sock.poll(0 if core.has_unfinished_requests() else POLL_IDLE_MS):
                while sock.poll(0):  # every waiting message, then one step
                    client, kind, payload = sock.recv_multipart()
                    if kind == b"ADD":
                        try:
                            request = dec_request.decode(payload)
                        except msgspec.ValidationError as e:  # a broken client: tell it, keep going
                            print(f"engine core: bad request from a client: {e}", file=sys.stderr)
                            continue
                        owner[request.request_id] = client
                        core.add_request(request)
                    elif kind == b"ABORT":
                        core.abort_requests(dec_ids.decode(payload))
                    elif kind == b"STATS":
                        send(sock, client, b"STATS", enc.encode(core.stats()))
                    elif kind == b"SHUTDOWN":
                        return
            elif os.getppid() != parent:
                return  # the process that started us is gone: nobody can stop us later
            if core.has_unfinished_requests():
                deliver(sock, enc, core, owner, core.step())
    finally:
        sock.close()
        ctx.term()
        if address.startswith("ipc://") and os.path.exists(address[len("ipc://"):]):
            os.unlink(address[len("ipc://"):])  # the socket file: nobody will connect to it again


def deliver(sock, enc, core: EngineCore, owner: dict, outputs: list[EngineCoreOutput]) -> None:
    """Send each client its outputs; abort everything of a client that is gone."""
    by_client: dict[bytes, list[EngineCoreOutput]] = {}
    for out in outputs:
        client = owner.get(out.request_id)
        if client is None:
            continue
        by_client.setdefault(client, []).append(out)
        if out.finish_reason is not None:
            del owner[out.request_id]
    for client, outs in by_client.items():
        if not send(sock, client, b"OUT", enc.encode(outs)):
            gone = [rid for rid, c in owner.items() if c == client]
            core.abort_requests(gone)  # their blocks are free now
            core.pending = [o for o in core.pending if o.request_id not in gone]  # nobody to tell
            for rid in gone:
                del owner[rid]


def send(sock, client: bytes, kind: bytes, payload: bytes) -> bool:
    try:
        sock.send_multipart([client, kind, payload], flags=zmq.NOBLOCK)
        return True
    except zmq.ZMQError as e:  # EHOSTUNREACH: that client disconnected; EAGAIN: it stopped reading
        print(f"engine core: client {client.hex()} unreachable ({e}); aborting its requests", file=sys.stderr)
        return False


if __name__ == "__main__":  # python core_proc.py MODEL_DIR ADDRESS SETTINGS_JSON (how core_client starts it)
    try:
        run_engine_core(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
    except (OSError, KeyError, ValueError) as e:  # no model there, a bad setting: one line, then exit
        sys.exit(f"engine core: cannot start: {type(e).__name__}: {e}")
