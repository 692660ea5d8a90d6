"""Gradient bucketing with overlap: all-reduce a bucket of gradients while backward still runs.

Naive DP waits for the whole backward, then all-reduces tensor by tensor: the
network idles during backward and the cores idle during communication, and each
small tensor pays a collective's fixed cost. Here the parameters are grouped into
buckets of about `bucket_bytes`. A hook on every parameter fires once its gradient
is fully accumulated; when the last gradient of a bucket is in, the bucket is copied
into one flat buffer and its all-reduce starts asynchronously, so it travels while
backward computes the earlier layers. wait() finishes what is still in flight.

Backward produces gradients roughly in the reverse of the order the parameters were
registered, so the buckets are filled in registration order and then reversed
(the rule DistributedDataParallel uses to build its first buckets).
"""
from __future__ import annotations

import torch
import torch.distributed as dist


def assign_buckets(params: list[torch.Tensor], bucket_bytes: int) -> list[list[int]]:
    """Parameter indices grouped in registration order; a bucket closes once it holds >= bucket_bytes.
    Returned last bucket first: the order their gradients become ready in backward."""
    buckets, current, size = [], [], 0
    for i, p in enumerate(params):
        current.append(i)
        size += p.numel() * p.element_size()
        if size >= bucket_bytes:
            buckets.append(current)
            current, size = [], 0
    if current:
        buckets.append(current)
    return buckets[::-1]


class BucketedAllReduce:
    """Averages the gradients over the ranks, bucket by bucket, starting during backward."""

    def __init__(self, model: torch.nn.Module, world_size: int, bucket_bytes: int):
        self.params = list(model.parameters())
        self.world_size = world_size
        self.buckets = assign_buckets(self.params, bucket_bytes)
        self.bucket_of = {i: b for b, idx in enumerate(self.buckets) for i in idx}
        self.buffers = [torch.zeros(sum(self.params[i].numel() for i in idx)) for idx in self.buckets]
        self.pending = [len(idx) for idx in self.buckets]
        self.in_flight: list[tuple[int, dist.Work]] = []
        self.launch_order: list[int] = []  # the buckets of the last step, in the order they started
        self.grads_left: list[int] = []    # ...and how many gradients backward still had to compute then
        self._left: list[int] = []
        for i, p in enumerate(self.params):
            p.register_post_accumulate_grad_hook(lambda p, i=i: self._grad_ready(i))

    def _grad_ready(self, i: int) -> None:
        """Runs inside backward, once parameter i's gradient is complete (a tied weight: both uses summed)."""
        b = self.bucket_of[i]
        self.pending[b] -= 1
        if self.pending[b] == 0:
            flat, offset = self.buffers[b], 0
            for j in self.buckets[b]:
                g = self.params[j].grad
                flat[offset:offset + g.numel()].copy_(g.flatten())
                offset += g.numel()
            self.in_flight.append((b, dist.all_reduce(flat, async_op=True)))  # returns at once
            self._left.append(sum(self.pending))

    def wait(self) -> None:
        """After backward: wait for every bucket, divide by k, copy the means back into .grad."""
        if any(self.pending):
            raise RuntimeError("a bucket never filled: some parameter got no gradient in this backward")
        self.launch_order = [b for b, _ in self.in_flight]
        self.grads_left, self._left = self._left, []
        for b, work in self.in_flight:
            work.wait()
            flat, offset = self.buffers[b].div_(self.world_size), 0
            for j in self.buckets[b]:
                g = self.params[j].grad
                g.copy_(flat[offset:offset + g.numel()].view_as(g))
                offset += g.numel()
        self.in_flight.clear()
        self.pending = [len(idx) for idx in self.buckets]
