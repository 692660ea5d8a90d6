"""The scheduler: which requests run in the next step (nano-vLLM's, with two resources to check).

A waiting request is admitted when a running place, an SSM slot and the KV blocks for
its tokens are all free; a step is either the prefills of the newly admitted requests
or one decode token for every running one. When a decode step finds no free block,
the newest running request is preempted: its blocks and its slot go back, and it is
prefilled again later from its tokens (a recurrent state cannot be cut back to an
earlier position, so recomputing is the way back).
"""
from __future__ import annotations

from collections import deque

from cache_manager import HybridCacheManager
from sequence import Sequence, Status


class Scheduler:
    def __init__(self, max_num_seqs: int, cache: HybridCacheManager):
        self.max_num_seqs, self.cache = max_num_seqs, cache
        self.waiting: deque[Sequence] = deque()
        self.running: list[Sequence] = []
        self.num_preemptions = 0

    def add(self, seq: Sequence) -> None:
        self.waiting.append(seq)

    def is_finished(self) -> bool:
        return not self.waiting and not self.running

    def schedule(self) -> tuple[list[Sequence], bool]:
        scheduled = []
        while self.waiting and len(self.running) < self.max_num_seqs and self.cache.can_allocate(self.waiting[0]):
            seq = self.waiting.popleft()
            self.cache.allocate(seq)
            seq.status = Status.RUNNING
            self.running.append(seq)
            scheduled.append(seq)
        if scheduled:
            return scheduled, True
        if self.waiting and not self.running:
            raise RuntimeError(f"nothing can be scheduled: the oldest waiting request needs a slot and "
                               f"{self.cache.blocks_for(self.waiting[0].num_tokens)} blocks; "
                               f"{len(self.cache.free_slots)} slots and {len(self.cache.free_blocks)} blocks are free")
        queue, self.running = self.running, []
        while queue:
            seq = queue.pop(0)
            while not self.cache.can_append(seq):
                victim = queue.pop() if queue else seq
                self.preempt(victim)
                if victim is seq:
                    break
            else:
                self.cache.may_append(seq)
                self.running.append(seq)
        return list(self.running), False

    def preempt(self, seq: Sequence) -> None:
        seq.status = Status.WAITING
        self.cache.deallocate(seq)
        self.waiting.appendleft(seq)
        self.num_preemptions += 1

    def postprocess(self, seqs: list[Sequence], tokens: list[int]) -> None:
        for seq, token in zip(seqs, tokens, strict=True):
            seq.append(token)
            if seq.status == Status.FINISHED:
                self.running.remove(seq)
                self.cache.deallocate(seq)
