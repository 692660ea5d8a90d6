"""The contracts between vLLM's components, as typed messages.

vLLM V1 is three components that talk only through messages:

    API server --EngineCoreRequest--> engine core (scheduler --SchedulerOutput--> worker)
    API server <--EngineCoreOutput--  engine core (scheduler <--ModelRunnerOutput-- worker)

and the API server turns EngineCoreOutputs into RequestOutputs for the user.
Each message here is a msgspec.Struct: a typed record that msgpack can carry
between processes. A message checks itself when it is built (and when it is
decoded from bytes), so a bad value is rejected where it is made, with a
message that names the field, not three hops later as a strange crash.
"""
from __future__ import annotations

import math

import msgspec

FINISH_REASONS = ("stop", "length", "abort", "error")


class Message(msgspec.Struct, frozen=True, array_like=True):
    """Base of every message: immutable, and sent as a msgpack array (field names are not repeated)."""


def check_int(name: str, value, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        allowed = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be an integer {allowed}, got {value!r}")


def check_ids(name: str, values, allow_empty: bool = False) -> None:
    """A list of non-negative integers (token ids or block ids)."""
    if not isinstance(values, list) or (not values and not allow_empty):
        raise ValueError(f"{name} must be a {'' if allow_empty else 'non-empty '}list of integers, got {values!r}")
    for v in values:
        check_int(f"every entry of {name}", v, 0)


def check_text(name: str, value) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")


class SamplingParams(Message):
    """How to pick each next token."""
    max_tokens: int = 16         # stop after this many new tokens
    temperature: float = 0.0     # 0 = greedy (argmax)
    top_k: int = 0               # keep the k most likely tokens (0 = all)
    top_p: float = 1.0           # keep the fewest tokens whose probabilities sum to at least p
    seed: int | None = None      # the request's own random stream
    ignore_eos: bool = False     # keep going past the end-of-sequence token

    def __post_init__(self):
        check_int("max_tokens", self.max_tokens, 1)
        for name, low, high in (("temperature", 0.0, math.inf), ("top_p", 0.0, 1.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high \
                    or math.isinf(value) or (name == "top_p" and value == 0):
                allowed = "a finite number >= 0" if name == "temperature" else "a number in (0, 1]"
                raise ValueError(f"{name} must be {allowed}, got {value!r}")
        check_int("top_k", self.top_k, 0)
        if self.seed is not None:
            check_int("seed", self.seed, 0, 2**64 - 1)
        if not isinstance(self.ignore_eos, bool):
            raise ValueError(f"ignore_eos must be true or false, got {self.ignore_eos!r}")


class EngineCoreRequest(Message):
    """API server -> engine core: one new request, already tokenized."""
    request_id: str
    prompt_token_ids: list[int]
    sampling_params: SamplingParams
    arrival_time: float          # seconds (time.time()) when the API server received it

    def __post_init__(self):
        check_text("request_id", self.request_id)
        check_ids("prompt_token_ids", self.prompt_token_ids)
        if not isinstance(self.sampling_params, SamplingParams):
            raise ValueError(f"sampling_params must be SamplingParams, got {type(self.sampling_params).__name__}")
        if isinstance(self.arrival_time, bool) or not isinstance(self.arrival_time, (int, float)) \
                or not 0 <= self.arrival_time < math.inf:
            raise ValueError(f"arrival_time must be a finite time >= 0, got {self.arrival_time!r}")


class NewRequestData(Message):
    """A request the worker has not seen (or must recompute): all its tokens and where their KV goes."""
    req_id: str
    token_ids: list[int]         # the prompt (and, after a preemption, the tokens generated before it)
    block_ids: list[int]         # its KV blocks, in order
    num_computed_tokens: int     # leading tokens whose KV is already in those blocks (prefix cache hits)
    sampling_params: SamplingParams

    def __post_init__(self):
        check_text("req_id", self.req_id)
        check_ids("token_ids", self.token_ids)
        check_ids("block_ids", self.block_ids)
        # The last token is always computed: its logits give the next token.
        check_int("num_computed_tokens", self.num_computed_tokens, 0, len(self.token_ids) - 1)


class CachedRequestData(Message):
    """A request the worker already holds: only what changed since the last step."""
    req_id: str
    new_block_ids: list[int]     # blocks added this step (usually none)
    num_computed_tokens: int     # tokens whose KV is in the cache before this step

    def __post_init__(self):
        check_text("req_id", self.req_id)
        check_ids("new_block_ids", self.new_block_ids, allow_empty=True)
        check_int("num_computed_tokens", self.num_computed_tokens, 1)


class SchedulerOutput(Message):
    """Scheduler -> worker: what runs in this step, and how many tokens of each."""
    scheduled_new_reqs: list[NewRequestData]
    scheduled_cached_reqs: list[CachedRequestData]
    num_scheduled_tokens: dict[str, int]   # request id -> tokens computed in this step
    finished_req_ids: list[str] = []       # requests gone since the last step: the worker forgets them

    def __post_init__(self):
        ids = [r.req_id for r in self.scheduled_new_reqs] + [r.req_id for r in self.scheduled_cached_reqs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"a request is scheduled twice in one step: {ids}")
        if set(self.num_scheduled_tokens) != set(ids):
            raise ValueError(f"num_scheduled_tokens must name exactly the scheduled requests {sorted(ids)}, "
                             f"got {sorted(self.num_scheduled_tokens)}")
        for req_id, n in self.num_scheduled_tokens.items():
            check_int(f"num_scheduled_tokens[{req_id!r}]", n, 1)
        for r in self.scheduled_new_reqs:
            if self.num_scheduled_tokens[r.req_id] != len(r.token_ids) - r.num_computed_tokens:
                raise ValueError(f"request {r.req_id!r}: a prefill computes every token not cached "
                                 f"({len(r.token_ids)} - {r.num_computed_tokens}), "
                                 f"not {self.num_scheduled_tokens[r.req_id]}")

    @property
    def total_num_scheduled_tokens(self) -> int:
        return sum(self.num_scheduled_tokens.values())


class ModelRunnerOutput(Message):
    """Worker -> scheduler: one sampled token per scheduled request, in the order given."""
    req_ids: list[str]
    sampled_token_ids: list[int]

    def __post_init__(self):
        if len(self.req_ids) != len(self.sampled_token_ids):
            raise ValueError(f"{len(self.req_ids)} requests but {len(self.sampled_token_ids)} sampled tokens")
        if len(set(self.req_ids)) != len(self.req_ids):
            raise ValueError(f"a request appears twice: {self.req_ids}")
        check_ids("sampled_token_ids", self.sampled_token_ids, allow_empty=True)


class EngineCoreOutput(Message):
    """Engine core -> API server: the tokens one request gained in one step (a delta)."""
    request_id: str
    new_token_ids: list[int]
    finish_reason: str | None = None   # None while it runs; then one of FINISH_REASONS
    error: str | None = None           # why, when finish_reason is "error"

    def __post_init__(self):
        check_text("request_id", self.request_id)
        check_ids("new_token_ids", self.new_token_ids, allow_empty=True)
        if self.finish_reason is not None and self.finish_reason not in FINISH_REASONS:
            raise ValueError(f"finish_reason must be None or one of {FINISH_REASONS}, got {self.finish_reason!r}")
        if (self.error is not None) != (self.finish_reason == "error"):
            raise ValueError("an error message comes with finish_reason 'error', and only with it")


class RequestOutput(Message):
    """API server -> user: a request so far (incremental) or complete (final)."""
    request_id: str
    prompt_token_ids: list[int]
    token_ids: list[int]               # every token generated so far
    new_token_ids: list[int]           # the ones this output adds: a suffix of token_ids
    finished: bool = False
    finish_reason: str | None = None
    error: str | None = None

    def __post_init__(self):
        check_text("request_id", self.request_id)
        check_ids("token_ids", self.token_ids, allow_empty=True)
        check_ids("new_token_ids", self.new_token_ids, allow_empty=True)
        if self.new_token_ids and self.token_ids[-len(self.new_token_ids):] != self.new_token_ids:
            raise ValueError("new_token_ids must be the last tokens of token_ids")
        if self.finished != (self.finish_reason is not None):
            raise ValueError("a finished output has a finish_reason, and an unfinished one has none")
        if self.finish_reason is not None and self.finish_reason not in FINISH_REASONS:
            raise ValueError(f"finish_reason must be None or one of {FINISH_REASONS}, got {self.finish_reason!r}")


def encoder() -> msgspec.msgpack.Encoder:
    return msgspec.msgpack.Encoder()


def decoder(message_type) -> msgspec.msgpack.Decoder:
    """Decodes bytes into message_type; wrong types and failed checks raise msgspec.ValidationError."""
    return msgspec.msgpack.Decoder(message_type)
