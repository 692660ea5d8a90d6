"""The engine core in its own process: same tokens over ZMQ; it outlives a vanished client; its death ends
every pending request with an error instead of a hang."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import zmq

from core_client import MPClient, start_engine_core
from llm import LLM, SamplingParams
from tiny_model import random_prompts


@pytest.fixture(scope="module")
def core(model_dir):
    proc, address = start_engine_core(model_dir, block_size=4, num_kv_blocks=64)
    yield address
    proc.kill()
    proc.wait()


def test_greedy_over_zmq_matches_transformers(core, model_dir, hf_greedy):
    llm = LLM(model_dir, multiprocess=True, address=core)
    try:
        prompts = random_prompts(4, 1, 20, 512, seed=3)
        expected = [hf_greedy(p, 8) for p in prompts]
        assert len({t for out in expected for t in out}) > 5  # varied, or the comparison proves nothing
        outputs = llm.generate(prompts + [[5] * 300], SamplingParams(max_tokens=8))
        assert [o.token_ids for o in outputs[:4]] == expected
        assert outputs[4].finish_reason == "error" and "max_model_len" in outputs[4].error
    finally:
        llm.shutdown()


CLIENT = textwrap.dedent("""
    import os, sys
    from core_client import MPClient
    from messages import EngineCoreRequest, SamplingParams
    client = MPClient(address=sys.argv[1])
    for i in range(4):
        client.add_request(EngineCoreRequest(f"gone-{i}", [5 + i] * 20, SamplingParams(max_tokens=200, ignore_eos=True), 0.0))
    while not client.get_output():
        pass
    os.kill(os.getpid(), 9)  # vanish mid-generation, without a goodbye
""")


def test_core_survives_a_client_that_disappears(core, model_dir, hf_greedy):
    client = MPClient(address=core)
    aborted_before = client.stats()["num_aborted"]
    gone = subprocess.run([sys.executable, "-c", CLIENT, core], timeout=60, capture_output=True, text=True)
    assert gone.returncode == -signal.SIGKILL, gone.stderr[-2000:]
    try:
        deadline = time.monotonic() + 20
        while (stats := client.stats())["num_running"] + stats["num_waiting"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stats["num_running"] == stats["num_waiting"] == 0
        assert stats["num_aborted"] == aborted_before + 4  # aborted, not left to run to the end
        assert stats["num_free_blocks"] == stats["num_blocks"] == 64  # and their KV blocks freed
        llm = LLM(model_dir, multiprocess=True, address=core)
        [out] = llm.generate([[7, 8, 9]], SamplingParams(max_tokens=6))
        assert out.token_ids == hf_greedy([7, 8, 9], 6)  # still serving, correctly
    finally:
        client.shutdown()


def test_core_survives_bytes_that_are_not_a_request(core):
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(core)
    sock.send_multipart([b"ADD", b"\x93not a request"])
    sock.close()
    ctx.term()
    client = MPClient(address=core)
    assert client.stats()["num_blocks"] == 64
    client.shutdown()


def test_client_survives_the_core_dying(model_dir):
    llm = LLM(model_dir, multiprocess=True)
    prompts = random_prompts(3, 5, 5, 512, seed=1)
    ids = [llm.add_request(p, SamplingParams(max_tokens=200, ignore_eos=True)) for p in prompts]
    while not llm.step():
        pass
    os.kill(llm.client.proc.pid, signal.SIGKILL)
    start, final = time.monotonic(), {}
    while llm.has_unfinished_requests():
        final.update({o.request_id: o for o in llm.step() if o.finished})
    assert time.monotonic() - start < 10  # no hang: polls with timeouts, and the process is watched
    assert sorted(final) == sorted(ids)
    assert all(o.finish_reason == "error" and "engine core process died" in o.error for o in final.values())
    [late] = llm.generate([[5, 6]], SamplingParams(max_tokens=3))  # a new request gets the same clear answer
    assert late.finish_reason == "error" and "died" in late.error
    llm.shutdown()
