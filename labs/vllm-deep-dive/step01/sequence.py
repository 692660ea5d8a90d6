"""Request state: everything the engine must remember about one request between steps."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import Enum, auto


class SequenceStatus(Enum):
    WAITING = auto()   # accepted, not started
    RUNNING = auto()   # generating
    FINISHED = auto()  # done: stopped, hit a length limit, or rejected


@dataclass
class SamplingParams:
    max_tokens: int = 16     # stop after this many new tokens
    ignore_eos: bool = False  # keep going past the end-of-sequence token (benchmarks do)
    temperature: float = 0.0  # 0 = greedy (argmax); vLLM's default is 1.0
    seed: int | None = None   # its own random stream: the same tokens whatever runs beside it
    top_k: int = 0            # keep the k most likely tokens (0 = all)
    top_p: float = 1.0        # keep the fewest tokens whose probabilities sum to at least p

    def check(self) -> str | None:
        """Why these settings are unusable, or None if they are fine."""
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int) or self.max_tokens <= 0:
            return f"max_tokens must be a positive integer, got {self.max_tokens!r}"
        if not isinstance(self.ignore_eos, bool):
            return f"ignore_eos must be True or False, got {self.ignore_eos!r}"
        if (isinstance(self.temperature, bool) or not isinstance(self.temperature, (int, float))
                or not 0 <= self.temperature < float("inf")):
            return f"temperature must be a finite number >= 0, got {self.temperature!r}"
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)
                                      or not 0 <= self.seed < 2**64):
            return f"seed must be None or an integer in [0, 2**64), got {self.seed!r}"
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 0:
            return f"top_k must be an integer >= 0 (0 = off), got {self.top_k!r}"
        if isinstance(self.top_p, bool) or not isinstance(self.top_p, (int, float)) or not 0 < self.top_p <= 1:
            return f"top_p must be in (0, 1], got {self.top_p!r}"
        return None


@dataclass
class RequestOutput:
    request_id: int
    prompt_token_ids: list[int]
    token_ids: list[int]   # the completion only
    finish_reason: str     # "stop" (eos), "length" (max_tokens or the model's limit) or "error"
    error: str | None = None
    num_cached_tokens: int = 0  # tokens found in the prefix cache at its last prefill


class Sequence:
    """One request: its tokens so far, its status, its settings and why it stopped."""

    _next_id = itertools.count()

    def __init__(self, prompt_token_ids: list[int], params: SamplingParams):
        self.seq_id = next(Sequence._next_id)
        self.status = SequenceStatus.WAITING
        self.token_ids = list(prompt_token_ids)  # prompt, then every generated token
        self.num_prompt_tokens = len(self.token_ids)
        self.params = params
        self.finish_reason: str | None = None
        self.error: str | None = None
        self.block_table: list[int] = []  # ids of the KV blocks holding this request's tokens
        self.generator = None  # a seeded request's own torch.Generator, made at its first draw
        self.num_cached_tokens = 0  # leading tokens whose keys and values another request computed

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)

    @property
    def num_completion_tokens(self) -> int:
        return self.num_tokens - self.num_prompt_tokens

    @property
    def completion_token_ids(self) -> list[int]:
        return self.token_ids[self.num_prompt_tokens:]

    @property
    def last_token(self) -> int:
        return self.token_ids[-1]

    @property
    def is_finished(self) -> bool:
        return self.status == SequenceStatus.FINISHED

    def append_token(self, token_id: int, eos_token_id: int | None, max_model_len: int) -> None:
        """Record one generated token and check the stop conditions."""
        self.token_ids.append(token_id)
        if token_id == eos_token_id and not self.params.ignore_eos:
            self.finish("stop")
        elif self.num_completion_tokens >= self.params.max_tokens or self.num_tokens >= max_model_len:
            self.finish("length")

    def finish(self, reason: str, error: str | None = None) -> None:
        self.status = SequenceStatus.FINISHED
        self.finish_reason = reason
        self.error = error

    def output(self) -> RequestOutput:
        return RequestOutput(self.seq_id, self.token_ids[:self.num_prompt_tokens], self.completion_token_ids,
                             self.finish_reason, self.error, self.num_cached_tokens)
