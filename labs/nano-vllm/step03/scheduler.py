"""The scheduler: which requests run in the next step.

Two queues: `waiting` (accepted, not started) and `running` (in the batch).
This step batches statically: a new batch is admitted only when every request of
the previous batch has finished, so a long request holds its batch-mates' slots.
"""
from collections import deque

from sequence import Sequence, SequenceStatus


class Scheduler:
    def __init__(self, max_num_seqs: int):
        self.max_num_seqs = max_num_seqs
        self.waiting: deque[Sequence] = deque()
        self.running: list[Sequence] = []

    def add(self, seq: Sequence) -> None:
        self.waiting.append(seq)

    def is_finished(self) -> bool:
        return not self.waiting and not self.running

    def schedule(self) -> list[Sequence]:
        """The requests to run in this step."""
        if not self.running:  # static batching: admit only into an empty batch
            while self.waiting and len(self.running) < self.max_num_seqs:
                seq = self.waiting.popleft()
                seq.status = SequenceStatus.RUNNING
                self.running.append(seq)
        return list(self.running)

    def postprocess(self, seqs: list[Sequence], token_ids: list[int], eos_token_id, max_model_len) -> None:
        """Give each request its new token; finished requests leave the running queue."""
        for seq, token_id in zip(seqs, token_ids, strict=True):
            seq.append_token(token_id, eos_token_id, max_model_len)
            if seq.is_finished:
                self.running.remove(seq)
