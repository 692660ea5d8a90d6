"""The scheduler: which requests run in the next step.

Two queues: `waiting` (accepted, not started) and `running` (in the batch).
This step batches continuously: a waiting request joins as soon as a slot is
free, while the others are mid-generation. A step is either a prefill (the
prompts of newly admitted requests) or a decode (one token for every running one).
"""
from collections import deque

from sequence import Sequence, SequenceStatus


class Scheduler:
    def __init__(self, max_num_seqs: int, max_num_batched_tokens: int):
        self.max_num_seqs = max_num_seqs
        self.max_num_batched_tokens = max_num_batched_tokens  # caps the size of one prefill step
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
            self.waiting.popleft()
            seq.status = SequenceStatus.RUNNING
            self.running.append(seq)
            scheduled.append(seq)
            num_tokens += seq.num_tokens
        if scheduled:  # prefill first, so new requests get their first token soon
            return scheduled, True
        return list(self.running), False

    def postprocess(self, seqs: list[Sequence], token_ids: list[int], eos_token_id, max_model_len) -> None:
        """Give each request its new token; finished requests leave the running queue."""
        for seq, token_id in zip(seqs, token_ids, strict=True):
            seq.append_token(token_id, eos_token_id, max_model_len)
            if seq.is_finished:
                self.running.remove(seq)
