"""A continuous-batching engine for the hybrid model: prompts in, greedy completions out.

Each step the scheduler picks the requests; a prefill runs one admitted request's
tokens through the plain model with a dense state and hands that state to the cache
manager (its slot and blocks); a decode step runs one token for every running request
at once, reading and writing the pools through the manager's view.
"""
from __future__ import annotations

import torch

from cache_manager import HybridCacheManager
from hybrid import HybridLM, HybridState
from scheduler import Scheduler
from sequence import Sequence


class HybridEngine:
    def __init__(self, model: HybridLM, num_blocks: int = 64, block_size: int = 8, num_slots: int = 4,
                 max_num_seqs: int = 4):
        for name, value in (("num_blocks", num_blocks), ("block_size", block_size), ("num_slots", num_slots),
                            ("max_num_seqs", max_num_seqs)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer of at least 1, got {value!r}")
        self.model = model
        self.cache = HybridCacheManager(model.cfg, num_blocks, block_size, num_slots)
        self.scheduler = Scheduler(max_num_seqs, self.cache)
        self.trace: list[tuple[int, int, int, int]] = []  # (seq_id, length, ssm bytes, kv bytes) after each step

    def add_request(self, prompt: list[int], max_tokens: int) -> Sequence:
        if not prompt or any(not 0 <= t < self.model.cfg.vocab_size for t in prompt) or max_tokens < 1:
            raise ValueError("a request needs a non-empty prompt of token ids in the vocabulary and max_tokens >= 1")
        need = self.cache.blocks_for(len(prompt) + max_tokens)
        if need > self.cache.num_blocks:
            raise ValueError(f"the request may need {need} KV blocks; the pool has {self.cache.num_blocks}")
        seq = Sequence(prompt, max_tokens)
        self.scheduler.add(seq)
        return seq

    @torch.no_grad()
    def step(self) -> tuple[list[Sequence], bool]:
        seqs, is_prefill = self.scheduler.schedule()
        if is_prefill:
            tokens = []
            for seq in seqs:  # one request at a time: its state is dense, then stored in its slot and blocks
                dense = HybridState(self.model.cfg, 1, seq.num_tokens)
                logits = self.model(torch.tensor([seq.token_ids]), dense)
                self.cache.store_prefill(seq, dense.layers)
                tokens.append(int(logits[0, -1].argmax()))
        elif seqs:
            view = self.cache.decode_view(seqs)
            logits = self.model(torch.tensor([[s.token_ids[-1]] for s in seqs]), view)
            view.commit()
            tokens = logits[:, -1].argmax(-1).tolist()
        else:
            return [], False
        for seq in seqs:  # memory held, measured while every request of the step still holds it
            self.trace.append((seq.seq_id, seq.num_tokens, *self.cache.held_bytes(seq)))
        self.scheduler.postprocess(seqs, tokens)
        return seqs, is_prefill

    def generate(self, prompts: list[list[int]], max_tokens: list[int]) -> list[list[int]]:
        seqs = [self.add_request(p, n) for p, n in zip(prompts, max_tokens, strict=True)]
        while not self.scheduler.is_finished():
            self.step()
        return [s.completion for s in seqs]
