"""Each message survives msgpack unchanged, and a bad value is rejected where the message is built."""
import msgspec
import pytest

import messages as m

P = m.SamplingParams(max_tokens=4, temperature=0.5, top_k=3, top_p=0.9, seed=7)
GOOD = [
    P,
    m.EngineCoreRequest("r1", [5, 6, 7], P, 12.5),
    m.NewRequestData("r1", [5, 6, 7, 8, 9], [3, 0], 4, P),
    m.CachedRequestData("r2", [], 9),
    m.SchedulerOutput([m.NewRequestData("r1", [5, 6, 7], [3], 0, P)], [m.CachedRequestData("r2", [4], 9)],
                      {"r1": 3, "r2": 1}, ["r0"]),
    m.ModelRunnerOutput(["r1", "r2"], [17, 0]),
    m.EngineCoreOutput("r1", [17]),
    m.EngineCoreOutput("r1", [], "error", "the prompt is too long"),
    m.RequestOutput("r1", [5], [9, 17], [17], True, "length"),
]


@pytest.mark.parametrize("msg", GOOD, ids=lambda msg: type(msg).__name__)
def test_round_trip_through_msgpack(msg):
    data = m.encoder().encode(msg)
    assert m.decoder(type(msg)).decode(data) == msg
    assert isinstance(data, bytes) and len(data) < len(msgspec.json.encode(msg)) + 50


BAD = {
    "max_tokens": lambda: m.SamplingParams(max_tokens=0),
    "got True": lambda: m.SamplingParams(max_tokens=True),  # a bool is not a count
    "temperature": lambda: m.SamplingParams(temperature=float("nan")),
    "top_p": lambda: m.SamplingParams(top_p=0.0),
    "top_k": lambda: m.SamplingParams(top_k=-1),
    "seed": lambda: m.SamplingParams(seed=2**64),
    "request_id": lambda: m.EngineCoreRequest("", [5], P, 0.0),
    "prompt_token_ids": lambda: m.EngineCoreRequest("r", [], P, 0.0),
    "arrival_time": lambda: m.EngineCoreRequest("r", [5], P, float("inf")),
    "sampling_params": lambda: m.EngineCoreRequest("r", [5], {"max_tokens": 3}, 0.0),
    "num_computed_tokens": lambda: m.NewRequestData("r", [5, 6], [0], 2, P),
    "block_ids": lambda: m.NewRequestData("r", [5, 6], [-1], 0, P),
    "scheduled twice": lambda: m.SchedulerOutput([], [m.CachedRequestData("a", [], 3)] * 2, {"a": 1}),
    "exactly the scheduled": lambda: m.SchedulerOutput([], [m.CachedRequestData("a", [], 3)], {"b": 1}),
    "every token not cached": lambda: m.SchedulerOutput([m.NewRequestData("a", [5, 6, 7], [0], 1, P)], [], {"a": 3}),
    "sampled tokens": lambda: m.ModelRunnerOutput(["a", "b"], [1]),
    "finish_reason must be None": lambda: m.EngineCoreOutput("a", [], "done"),
    "an error message": lambda: m.EngineCoreOutput("a", [], "stop", "why"),
    "last tokens": lambda: m.RequestOutput("a", [5], [1, 2], [1]),
    "finished output": lambda: m.RequestOutput("a", [5], [1], [1], True),
}


@pytest.mark.parametrize("words", list(BAD))
def test_bad_values_are_rejected_on_construction(words):
    with pytest.raises(ValueError, match=words):
        BAD[words]()


def test_bad_bytes_are_rejected_on_decode_with_the_field():
    dec = m.decoder(m.EngineCoreRequest)
    with pytest.raises(msgspec.ValidationError, match=r"max_tokens must be an integer >= 1.*\$\[2\]"):
        dec.decode(msgspec.msgpack.encode(["r", [5], [0], 0.0]))
    with pytest.raises(msgspec.ValidationError, match=r"Expected `int`, got `str`"):
        dec.decode(msgspec.msgpack.encode(["r", ["x"], [4], 0.0]))
    with pytest.raises(msgspec.ValidationError):  # a field missing
        dec.decode(msgspec.msgpack.encode(["r", [5]]))


def test_total_scheduled_tokens():
    assert GOOD[4].total_num_scheduled_tokens == 4
