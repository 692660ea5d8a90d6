"""profile_decode.py: what the profiler sees in a decode step of the tiny model (times are never asserted)."""
import argparse

import pytest

import bench
from engine import LLMEngine
from profile_decode import category_of, profile_decode
from sequence import SamplingParams


def test_ops_fall_into_their_categories():
    assert category_of("aten::mm") == "matmul (Linear)"
    assert category_of("aten::index_select").startswith("KV gather")
    assert category_of("aten::silu").startswith("elementwise")
    assert category_of("aten::something_new") == "other"


@pytest.fixture(scope="module")
def profiled(model_dir):
    engine = LLMEngine(model_dir, max_num_seqs=4)
    for prompt, _ in bench.make_requests(argparse.Namespace(seed=0, num_requests=4, min_input=3, max_input=9,
                                                            min_output=1, max_output=1), 512):
        engine.add_request(prompt, SamplingParams(max_tokens=5, ignore_eos=True))
    engine.step()  # the prefill
    return engine, profile_decode(engine, 2)


def test_one_matmul_per_linear_layer_and_the_lm_head(profiled):
    engine, r = profiled
    mm = next(o for o in r["top_ops"] if o["op"] == "aten::mm")
    assert mm["calls"] == 7 * engine.config.num_hidden_layers + 1  # q k v o gate up down per layer, then lm_head


def test_times_add_up(profiled):
    _, r = profiled
    assert sum(r["categories"].values()) == pytest.approx(r["in_ops_ms"])
    assert r["in_ops_ms"] + r["outside_ops_ms"] == pytest.approx(r["wall_ms"])
    assert r["in_ops_ms"] > 0


def test_a_prefill_step_is_refused(model_dir):
    engine = LLMEngine(model_dir)
    engine.add_request([5, 6, 7], SamplingParams(max_tokens=3))
    with pytest.raises(RuntimeError, match="not a decode step"):
        profile_decode(engine, 1)


def test_bad_steps_flag_is_one_clear_error(capsys):
    import profile_decode
    with pytest.raises(SystemExit) as exit:
        profile_decode.main(["--steps", "0"])
    assert exit.value.code == 2 and "--steps" in capsys.readouterr().err
