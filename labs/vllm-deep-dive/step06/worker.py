"""The worker: owns the model and the KV cache, and runs whatever a SchedulerOutput says.

It never sees the scheduler's objects. From each SchedulerOutput it keeps its own
copy of every running request: a new request (NewRequestData) brings all its
tokens, block ids and prefix-cache hits; a running one (CachedRequestData) only
its new blocks, and the worker appends the token it sampled itself last step.
finished_req_ids tell it whom to forget. Then the model runner (unchanged since
nano-vLLM) does the forward pass and sampling, and the worker answers with a
ModelRunnerOutput.

    python worker.py MODEL_DIR ADDRESS SETTINGS_JSON   # a worker process (see executor.py)
"""
import json
import os
import sys

import zmq

from messages import ModelRunnerOutput, SchedulerOutput, decoder, encoder
from model_runner import ModelRunner
from sequence import SamplingParams as EngineParams
from sequence import Sequence

POLL_MS = 100  # a waiting worker checks this often that its executor is still there


class Worker:
    def __init__(self, model_dir, num_kv_blocks: int, block_size: int, max_num_seqs: int, max_model_len: int,
                 device: str = "cpu", enforce_eager: bool = False, seed: int = 0):
        self.model_runner = ModelRunner(model_dir, num_kv_blocks, block_size, max_num_seqs, max_model_len, device,
                                        enforce_eager, seed)
        self.requests: dict[str, Sequence] = {}  # this worker's own copy of each running request

    def execute_model(self, so: SchedulerOutput) -> ModelRunnerOutput:
        for rid in so.finished_req_ids:
            self.requests.pop(rid, None)
        for new in so.scheduled_new_reqs:  # new, or recomputed after a preemption: start from scratch
            p = new.sampling_params
            seq = Sequence(new.token_ids, EngineParams(max_tokens=p.max_tokens, ignore_eos=p.ignore_eos,
                                                       temperature=p.temperature, seed=p.seed, top_k=p.top_k,
                                                       top_p=p.top_p))
            seq.block_table, seq.num_cached_tokens = list(new.block_ids), new.num_computed_tokens
            old = self.requests.get(new.req_id)
            if old is not None:
                seq.generator = old.generator  # a seeded request keeps drawing where it stopped
            self.requests[new.req_id] = seq
        for cached in so.scheduled_cached_reqs:
            seq = self.requests[cached.req_id]
            seq.block_table += cached.new_block_ids
            if cached.num_computed_tokens != seq.num_tokens - 1:  # both sides must agree on every token
                raise RuntimeError(f"request {cached.req_id}: the scheduler has {cached.num_computed_tokens} tokens "
                                   f"in the cache, this worker {seq.num_tokens - 1}")
        req_ids = [r.req_id for r in so.scheduled_new_reqs] + [r.req_id for r in so.scheduled_cached_reqs]
        seqs = [self.requests[rid] for rid in req_ids]
        sampled = self.model_runner.run(seqs, is_prefill=bool(so.scheduled_new_reqs))
        for seq, token in zip(seqs, sampled):
            seq.token_ids.append(token)  # the next step's input
        return ModelRunnerOutput(req_ids, sampled)


def worker_main(model_dir, address: str, settings: dict) -> None:
    """A worker process: receive a SchedulerOutput, run it, send the ModelRunnerOutput back; until told to stop."""
    parent = os.getppid()
    worker = Worker(model_dir, **settings)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PAIR)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(address)
    sock.send(b"READY")
    enc, dec = encoder(), decoder(SchedulerOutput)
    try:
        while True:
            if not sock.poll(POLL_MS):
                if os.getppid() != parent:
                    return  # the engine core is gone
                continue
            data = sock.recv()
            if data == b"SHUTDOWN":
                return
            sock.send(enc.encode(worker.execute_model(dec.decode(data))))
    finally:
        sock.close()
        ctx.term()


if __name__ == "__main__":
    worker_main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
