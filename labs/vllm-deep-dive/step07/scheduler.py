"""The scheduler: which requests run in the next step.

Two queues: `waiting` (accepted, not started) and `running` (in the batch).
This step batches continuously: a waiting request joins as soon as a slot is
free, while the others are mid-generation. A step is either a prefill (the
prompts of newly admitted requests) or a decode (one token for every running one).
Requests also need KV blocks: when a decode finds none free, the newest running
request is preempted: its blocks are freed and it waits to be recomputed.
"""
from collections import deque

from block_manager import BlockManager
from sequence import Sequence, SequenceStatus


class Scheduler:
    def __init__(self, max_num_seqs: int, max_num_batched_tokens: int, block_manager: BlockManager):
        self.max_num_seqs = max_num_seqs
        self.max_num_batched_tokens = max_num_batched_tokens  # caps the size of one prefill step
        self.block_manager = block_manager
        self.num_preemptions = 0
        self.waiting: deque[Sequence] = deque()
        self.running: list[Sequence] = []

    def add(self, seq: Sequence) -> None:
        self.waiting.append(seq)

    def is_finished(self) -> bool:
        return not self.waiting and not self.running

    def schedule(self) -> tuple[list[Sequence], bool]:
        """The requests to run in this step, and whether it is a prefill step."""
        scheduled, num_tokens = [], 0
        while self.waiting and len(self.running) < self.max_num_seqs:  # any free slot is filled now
            seq = self.waiting[0]
            if scheduled and num_tokens + seq.num_tokens > self.max_num_batched_tokens:
                break  # this prefill step is full; the rest wait for the next one
            if not self.block_manager.can_allocate(seq):
                break  # no KV blocks for its prompt yet
            self.block_manager.allocate(seq)
            self.waiting.popleft()
            seq.status = SequenceStatus.RUNNING
            self.running.append(seq)
            scheduled.append(seq)
            num_tokens += seq.num_tokens
        if scheduled:  # prefill first, so new requests get their first token soon
            return scheduled, True
        if self.waiting and not self.running:  # an empty step now would repeat forever: say why instead
            raise RuntimeError(f"nothing can be scheduled: {len(self.waiting)} requests wait and none runs "
                               f"(max_num_seqs {self.max_num_seqs}; the oldest needs "
                               f"{self.block_manager.num_blocks_for(self.waiting[0].num_tokens)} KV blocks, "
                               f"{self.block_manager.num_free_blocks} are free)")
        queue, self.running = self.running, []  # oldest first
        while queue:
            seq = queue.pop(0)
            while not self.block_manager.can_append(seq):
                if queue:  # the newest request gives its blocks back and starts over later
                    self.preempt(queue.pop())
                else:
                    self.preempt(seq)
                    break
            else:
                self.block_manager.may_append(seq)
                self.running.append(seq)
        return list(self.running), False

    def preempt(self, seq: Sequence) -> None:
        # Its tokens are kept; only their keys and values are dropped, to be recomputed by a prefill.
        seq.status = SequenceStatus.WAITING
        self.block_manager.deallocate(seq)
        self.waiting.appendleft(seq)
        self.num_preemptions += 1

    def postprocess(self, seqs: list[Sequence], token_ids: list[int], eos_token_id, max_model_len) -> None:
        """Give each request its new token; finished requests leave the running queue."""
        for seq, token_id in zip(seqs, token_ids, strict=True):
            seq.append_token(token_id, eos_token_id, max_model_len)
            if seq.is_finished:
                self.running.remove(seq)
                self.block_manager.deallocate(seq)
