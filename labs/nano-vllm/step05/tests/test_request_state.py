"""Request state: stop conditions, and bad requests failing alone with a clear reason."""
import pytest

from engine import LLMEngine
from sequence import SamplingParams, Sequence, SequenceStatus


@pytest.fixture(scope="module")
def engine(model_dir):
    return LLMEngine(model_dir)


def test_a_sequence_tracks_its_own_state():
    seq = Sequence([4, 5, 6], SamplingParams(max_tokens=2))
    assert seq.status == SequenceStatus.WAITING and seq.num_completion_tokens == 0
    seq.append_token(9, eos_token_id=2, max_model_len=100)
    assert not seq.is_finished and seq.completion_token_ids == [9] and seq.last_token == 9
    seq.append_token(2, eos_token_id=2, max_model_len=100)
    assert seq.is_finished and seq.finish_reason == "stop"


def test_max_tokens_and_model_limit_end_with_length():
    seq = Sequence([4], SamplingParams(max_tokens=1))
    seq.append_token(9, eos_token_id=2, max_model_len=100)
    assert seq.finish_reason == "length"
    seq = Sequence([4, 5, 6], SamplingParams(max_tokens=50))
    seq.append_token(9, eos_token_id=2, max_model_len=4)  # 4 tokens fill the model's context
    assert seq.finish_reason == "length"


def test_generation_stops_at_the_models_limit(engine, hf_greedy):
    limit = engine.max_model_len
    prompt = [7] * (limit - 3)
    [out] = engine.generate([prompt], SamplingParams(max_tokens=10))
    assert out.finish_reason == "length" and len(out.token_ids) == 3
    assert out.token_ids == hf_greedy(prompt, 3)


def test_max_model_len_is_a_validated_setting(model_dir, long_model_dir, hf_greedy):
    assert LLMEngine(long_model_dir).max_model_len == 4096  # capped, not the checkpoint's 40960
    engine = LLMEngine(model_dir, max_model_len=20)
    [out] = engine.generate([[7] * 17], SamplingParams(max_tokens=10))
    assert out.finish_reason == "length" and out.token_ids == hf_greedy([7] * 17, 3)
    [out] = engine.generate([[7] * 20], SamplingParams(max_tokens=1))
    assert out.finish_reason == "error" and "max_model_len" in out.error
    for bad in (0, 257, True, 2.5, "64"):  # the tiny model has 256 positions
        with pytest.raises(ValueError, match="max_model_len"):
            LLMEngine(model_dir, max_model_len=bad)


BAD = [
    ([], SamplingParams(max_tokens=4), "empty"),
    ([5] * 256, SamplingParams(max_tokens=4), "limit"),
    ([5, 6], SamplingParams(max_tokens=0), "max_tokens"),
    ([5, 6], SamplingParams(max_tokens=-3), "max_tokens"),
    ([5, 6], SamplingParams(max_tokens=True), "max_tokens"),
    ([5, 6], SamplingParams(ignore_eos=1), "ignore_eos"),
    ([5, 999999], SamplingParams(max_tokens=4), "token ids"),
    ("hello", SamplingParams(max_tokens=4), "list of token ids"),
]


@pytest.mark.parametrize("prompt,params,reason", BAD)
def test_a_bad_request_fails_alone(engine, hf_greedy, prompt, params, reason):
    good = [11, 12, 13, 14]
    outputs = engine.generate([good, prompt, good], [SamplingParams(max_tokens=5), params, SamplingParams(max_tokens=5)])
    assert outputs[1].finish_reason == "error" and reason in outputs[1].error
    assert outputs[1].token_ids == []
    expected = hf_greedy(good, 5)
    assert outputs[0].token_ids == expected and outputs[2].token_ids == expected
