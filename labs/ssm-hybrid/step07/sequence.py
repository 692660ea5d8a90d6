"""One request: its tokens, its place in the KV block pool and in the SSM slot pool."""
from __future__ import annotations

import itertools
from enum import Enum, auto


class Status(Enum):
    WAITING = auto()
    RUNNING = auto()
    FINISHED = auto()


class Sequence:
    _next_id = itertools.count()

    def __init__(self, prompt: list[int], max_tokens: int):
        self.seq_id = next(Sequence._next_id)
        self.token_ids = list(prompt)
        self.num_prompt_tokens = len(prompt)
        self.max_tokens = max_tokens
        self.status = Status.WAITING
        self.block_table: list[int] = []  # KV blocks, in order, for the attention layers
        self.slot: int | None = None      # one SSM state slot, for all the Mamba layers
        self.num_cached = 0               # tokens whose KV and SSM updates are in the caches

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)

    @property
    def completion(self) -> list[int]:
        return self.token_ids[self.num_prompt_tokens:]

    def append(self, token: int) -> None:
        self.token_ids.append(token)
        if len(self.completion) >= self.max_tokens:
            self.status = Status.FINISHED
