"""Bucketed, overlapped all-reduce: the buckets DDP would build, started during backward,
and training equal to one process."""
import pytest
import torch
import torch.distributed as dist

from buckets import assign_buckets
from dlc_shared.testing import assert_close
from dp import train_dp
from launch import launch
from reference import flat, single_process
from train import TrainConfig, make_model

CFG = TrainConfig()
BUCKET_BYTES = 16_384  # 16 KiB: the 131,712-byte model splits into several buckets


def ddp_buckets(params, cap):
    """torch's own bucket assignment (what DistributedDataParallel calls), last bucket first as DDP uses it."""
    indices, _ = dist._compute_bucket_assignment_by_size(params, [cap], [False] * len(params))
    return list(reversed(indices))


@pytest.mark.parametrize("cap", [1, 4_096, BUCKET_BYTES, 40_000, 10**9])
def test_buckets_are_the_ones_torch_builds(cap):
    params = list(make_model(CFG).parameters())
    ours = assign_buckets(params, cap)
    assert ours == ddp_buckets(params, cap)
    assert sorted(i for b in ours for i in b) == list(range(len(params)))  # every parameter exactly once


def test_bucket_sizes_by_hand():
    params = [torch.zeros(n) for n in (3, 5, 2, 8, 1)]  # 12, 20, 8, 32, 4 bytes
    assert assign_buckets(params, 30) == [[4], [2, 3], [0, 1]]  # 12+20 >= 30 closes; 8+32 closes; 4 is left
    assert assign_buckets(params, 1000) == [[0, 1, 2, 3, 4]]


@pytest.fixture(scope="module")
def two_ranks():
    return launch(train_dp, 2, CFG, None, BUCKET_BYTES)


def test_bucketed_dp_equals_one_process(two_ranks):
    ref = single_process(CFG)
    n_tokens = CFG.batch_size * CFG.block_size
    for r in two_ranks:
        # as in step 2: a loss is a mean over B*T positions after `steps` chained steps; a weight
        # gradient sums over B*T positions through every sublayer and the head
        assert_close(torch.tensor(r["losses"]), torch.tensor(ref["losses"]), torch.float32,
                     terms=n_tokens, depth=CFG.steps)
        assert_close(flat(r["grads"]), flat(ref["grads"]), torch.float32, terms=n_tokens, depth=5)
    assert torch.equal(flat(two_ranks[0]["params"]), flat(two_ranks[1]["params"]))


def test_buckets_start_during_backward(two_ranks):
    r = two_ranks[0]
    n_buckets = len(r["buckets"])
    assert n_buckets == len(ddp_buckets(list(make_model(CFG).parameters()), BUCKET_BYTES)) > 2
    assert sorted(r["launch_order"]) == list(range(n_buckets))  # each bucket exactly once per step
    # The first bucket went out while backward still had most gradients to compute; the last one
    # (holding the tied embedding, whose gradient completes last) when nothing was left.
    assert r["grads_left"][0] > 0 and r["grads_left"][-1] == 0
    assert r["grads_left"] == sorted(r["grads_left"], reverse=True)
    assert 0 in r["buckets"][r["launch_order"][-1]]  # parameter 0 is the embedding
