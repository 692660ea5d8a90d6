"""The executor: how the engine core reaches its workers.

    UniProcExecutor    one Worker inside the engine core's process (vLLM's choice for a single GPU)
    MultiprocExecutor  N worker processes; every SchedulerOutput is sent to all of them (fan out) and each
                       answers (gather). With tensor parallelism each would hold a slice of the model and all
                       would sample the same tokens; here each holds the whole model, so the answers must agree.

A worker that dies is noticed within a poll: execute_model raises a clear error
instead of waiting forever.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

import zmq

from messages import ModelRunnerOutput, SchedulerOutput, decoder, encoder


class UniProcExecutor:
    def __init__(self, model_dir, worker_settings: dict):
        from worker import Worker
        self.worker = Worker(model_dir, **worker_settings)

    def execute_model(self, scheduler_output: SchedulerOutput) -> ModelRunnerOutput:
        return self.worker.execute_model(scheduler_output)

    def shutdown(self) -> None:
        pass


class WorkerDiedError(RuntimeError):
    pass


class MultiprocExecutor:
    def __init__(self, model_dir, worker_settings: dict, num_workers: int = 1, startup_timeout: float = 120.0):
        import worker
        self.ctx = zmq.Context()
        self.socks, self.procs, self.addresses = [], [], []
        for rank in range(num_workers):
            address = f"ipc://{tempfile.gettempdir()}/worker-{uuid.uuid4().hex[:12]}"
            sock = self.ctx.socket(zmq.PAIR)
            sock.setsockopt(zmq.LINGER, 0)
            sock.bind(address)
            self.socks.append(sock)
            self.addresses.append(address)
            self.procs.append(subprocess.Popen([sys.executable, worker.__file__, str(model_dir), address,
                                                json.dumps(worker_settings)]))
        for rank, sock in enumerate(self.socks):
            assert self.receive(rank, startup_timeout) == b"READY"
        self.enc, self.dec = encoder(), decoder(ModelRunnerOutput)

    def receive(self, rank: int, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while not self.socks[rank].poll(50):
            if self.procs[rank].poll() is not None:
                raise WorkerDiedError(f"worker {rank} died (exit code {self.procs[rank].returncode})")
            if time.monotonic() > deadline:
                raise WorkerDiedError(f"worker {rank} did not answer within {timeout} s")
        return self.socks[rank].recv()

    def execute_model(self, scheduler_output: SchedulerOutput, timeout: float = 60.0) -> ModelRunnerOutput:
        data = self.enc.encode(scheduler_output)
        for sock in self.socks:  # fan out: every worker gets the same message
            sock.send(data)
        outputs = [self.dec.decode(self.receive(rank, timeout)) for rank in range(len(self.socks))]
        if any(out != outputs[0] for out in outputs[1:]):
            raise RuntimeError(f"the workers disagree: {outputs}")
        return outputs[0]

    def shutdown(self) -> None:
        for sock, proc in zip(self.socks, self.procs):
            if proc.poll() is None:
                sock.send(b"SHUTDOWN")
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for sock, address in zip(self.socks, self.addresses):
            sock.close()
            if os.path.exists(address[len("ipc://"):]):
                os.unlink(address[len("ipc://"):])
        self.ctx.term()


def make_executor(kind: str, model_dir, worker_settings: dict, num_workers: int = 1):
    if kind == "uni":
        if num_workers != 1:
            raise ValueError("the uni executor has exactly one worker")
        return UniProcExecutor(model_dir, worker_settings)
    if kind == "mp":
        return MultiprocExecutor(model_dir, worker_settings, num_workers)
    raise ValueError(f"executor must be 'uni' or 'mp', got {kind!r}")
