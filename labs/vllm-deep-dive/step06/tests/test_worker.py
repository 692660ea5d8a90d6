"""The worker owns the model and the KV cache and learns everything from SchedulerOutputs: both executors give
transformers' tokens (preemptions included), the worker checks that it agrees with the scheduler, and a dead
worker is an error for every pending request, never a hang."""
import os
import signal
import time

import pytest

from core_client import MPClient
from engine_core import EngineCore
from executor import WorkerDiedError
from llm import LLM
from messages import CachedRequestData, EngineCoreRequest, SamplingParams, SchedulerOutput
from tiny_model import random_prompts


def run_all(core: EngineCore, prompts, max_tokens: int) -> list[list[int]]:
    for i, p in enumerate(prompts):
        core.add_request(EngineCoreRequest(f"r{i}", p, SamplingParams(max_tokens=max_tokens), 0.0))
    tokens = {}
    while core.has_unfinished_requests():
        for out in core.step():
            tokens.setdefault(out.request_id, []).extend(out.new_token_ids)
    return [tokens[f"r{i}"] for i in range(len(prompts))]


@pytest.mark.parametrize("executor", ["uni", "mp"])
def test_executors_match_transformers_with_preemption(model_dir, hf_greedy, executor):
    prompts = random_prompts(6, 1, 20, 512, seed=3)
    expected = [hf_greedy(p, 10) for p in prompts]
    assert len({t for out in expected for t in out}) > 5  # varied, or the comparison proves nothing
    core = EngineCore(model_dir, executor=executor, max_num_seqs=4, num_kv_blocks=14, block_size=4)
    try:
        assert core.engine.model_runner is None  # the model is not in the scheduler's hands
        assert run_all(core, prompts, 10) == expected
        assert core.engine.scheduler.num_preemptions > 0  # recomputed requests came as NewRequestData again
    finally:
        core.shutdown()


def test_worker_keeps_its_own_copy_and_forgets_finished(model_dir):
    core = EngineCore(model_dir, executor="uni", block_size=4)
    worker = core.executor.worker
    run_all(core, [[5, 6, 7]], 3)
    assert set(worker.requests) == {"r0"}  # it is told at the next step
    core.add_request(EngineCoreRequest("next", [8, 9], SamplingParams(max_tokens=1), 0.0))
    core.step()
    assert "r0" not in worker.requests and core.last_scheduler_output.finished_req_ids == ["r0"]
    # A SchedulerOutput that disagrees with what the worker holds is refused, not run.
    core.add_request(EngineCoreRequest("x", [8, 9, 10], SamplingParams(max_tokens=5), 0.0))
    core.step()
    with pytest.raises(RuntimeError, match="the scheduler has 7 tokens in the cache, this worker 3"):
        worker.execute_model(SchedulerOutput([], [CachedRequestData("x", [], 7)], {"x": 1}))


def test_a_dead_worker_ends_every_pending_request_with_an_error(model_dir):
    llm = LLM(model_dir, multiprocess=True, executor="mp")
    ids = [llm.add_request(p, SamplingParams(max_tokens=200, ignore_eos=True)) for p in random_prompts(3, 5, 5, 512)]
    while not llm.step():
        pass
    stats = llm.client.stats()
    assert stats["num_running"] + stats["num_waiting"] == 3
    worker_pids = [int(p) for p in os.popen(f"pgrep -P {llm.client.proc.pid}").read().split()]
    assert len(worker_pids) == 1  # the engine core's one child: the worker
    os.kill(worker_pids[0], signal.SIGKILL)
    start, final = time.monotonic(), {}
    while llm.has_unfinished_requests():
        final.update({o.request_id: o for o in llm.step() if o.finished})
    assert time.monotonic() - start < 10  # no hang
    assert sorted(final) == sorted(ids)
    assert all(o.finish_reason == "error" and "worker 0 died" in o.error for o in final.values())
    llm.shutdown()


def test_executor_settings_are_checked(model_dir):
    with pytest.raises(ValueError, match="executor must be"):
        EngineCore(model_dir, executor="ray")
    with pytest.raises(ValueError, match="exactly one worker"):
        EngineCore(model_dir, executor="uni", num_workers=2)


def test_mp_client_reports_a_core_that_cannot_start(tmp_path):
    with pytest.raises(Exception, match="died|exit code"):
        MPClient(tmp_path / "no-model", startup_timeout=60)
