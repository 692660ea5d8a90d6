"""The numbers in the README's worked answers (풀이), computed with this step's code."""
from fractions import Fraction

import msgspec

import messages as m


def test_answer_request_bytes():
    params = m.SamplingParams(max_tokens=4)
    req = m.EngineCoreRequest("req-0", list(range(3, 11)), params, 1700000000.0)
    assert len(m.encoder().encode(params)) == 23
    assert len(m.encoder().encode(req)) == 1 + 6 + 9 + 23 + 9 == 48
    assert len(msgspec.msgpack.encode(msgspec.structs.asdict(req))) == 105


def test_answer_token_id_bytes():
    vocab = 151936
    sizes = {1: 128, 2: 128, 3: 65280, 5: 86400}
    assert sum(len(msgspec.msgpack.encode(i)) for i in range(vocab)) == sum(k * v for k, v in sizes.items()) == 628224
    assert round(float(Fraction(628224, vocab)), 2) == 4.13
    assert len(msgspec.msgpack.encode(list(range(vocab - 1000, vocab)))) == 3 + 5 * 1000  # the big ids: 5 B each


def test_answer_deltas_versus_totals():
    assert sum(range(1, 1001)) == 500500


def test_answer_prefix_blocks_shared(model_dir):
    from engine_core import EngineCore
    core = EngineCore(model_dir, block_size=4)
    p = m.SamplingParams(max_tokens=4)
    core.add_request(m.EngineCoreRequest("req-0", list(range(10, 20)), p, 0.0))
    core.step()
    core.add_request(m.EngineCoreRequest("req-1", list(range(10, 18)) + [99], p, 0.0))
    core.step()
    [new] = core.last_scheduler_output.scheduled_new_reqs
    assert new.num_computed_tokens == 8 and core.last_scheduler_output.num_scheduled_tokens == {"req-1": 1}
    assert new.block_ids[:2] == core.requests["req-0"].block_table[:2]  # the two shared blocks


def test_answer_outputs_per_request(model_dir):
    from engine_core import EngineCore
    core = EngineCore(model_dir)
    core.add_request(m.EngineCoreRequest("r", [5, 6, 7], m.SamplingParams(max_tokens=4, ignore_eos=True), 0.0))
    outs = []
    while core.has_unfinished_requests():
        outs += core.step()
    assert [o.finish_reason for o in outs] == [None, None, None, "length"]
    core.add_request(m.EngineCoreRequest("s", [5, 6, 7], m.SamplingParams(max_tokens=4), 0.0))
    first = core.step()
    core.abort_requests(["s"])
    assert len(first) == 1 and core.step() == [m.EngineCoreOutput("s", [], "abort")]
    assert core.stats()["num_free_blocks"] == core.stats()["num_blocks"]


def test_answer_blocks_freed_by_the_abort(model_dir):
    from engine_core import EngineCore
    core = EngineCore(model_dir, block_size=4, num_kv_blocks=64)
    for i in range(4):
        core.add_request(m.EngineCoreRequest(f"gone-{i}", [5 + i] * 20, m.SamplingParams(max_tokens=200), 0.0))
    outs = core.step()
    assert len(outs) == 4 and all(len(o.new_token_ids) == 1 for o in outs)  # prefill: the first token each
    assert core.stats()["num_free_blocks"] == 64 - 4 * 5
    core.abort_requests([f"gone-{i}" for i in range(4)])
    assert core.stats()["num_free_blocks"] == 64 and core.stats()["num_aborted"] == 4


def test_answer_max_tokens_room():
    from protocol import APIError, CompletionRequest, sampling_params
    body = CompletionRequest(model="tiny", prompt="w5", max_tokens=10)
    try:
        sampling_params(body, 250, 256)
        raise AssertionError("accepted")
    except APIError as e:
        assert e.status == 400 and "at most 6 new tokens fit" in e.message
    assert sampling_params(CompletionRequest(model="tiny", prompt="w5"), 250, 256).max_tokens == 6


def test_answer_blocks_of_a_stream():
    from block_manager import BlockManager
    bm = BlockManager(64, 16)
    assert bm.num_blocks_for(20) == bm.num_blocks_for(21) == 2
    assert bm.num_blocks_for(20 + 128 - 1) == 10


def test_answer_load_mix():
    import load
    kinds = load.plan(200, 0)
    assert sum(k in load.GOOD for k in kinds) == 120 and sum(k in load.BAD for k in kinds) == 60
    assert kinds.count("disconnect") == 20


def test_answer_decode_scheduler_output_bytes():
    so = m.SchedulerOutput([], [m.CachedRequestData(f"r{i}", [], 20) for i in range(3)], {f"r{i}": 1 for i in range(3)})
    assert len(m.encoder().encode(m.CachedRequestData("r0", [], 20))) == 6
    assert len(msgspec.msgpack.encode({"r0": 1, "r1": 1, "r2": 1})) == 13
    assert len(m.encoder().encode(so)) == (1 + 3 * 6) + 13 + 3 == 35
