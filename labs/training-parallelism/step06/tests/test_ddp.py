"""DistributedDataParallel against one process and against our bucketed DP; how DDP builds its buckets."""
import pytest
import torch
from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook
from torch.nn.parallel import DistributedDataParallel

from buckets import assign_buckets
from data import shard
from ddp import train_ddp
from dlc_shared.testing import assert_close
from dp import train_dp
from launch import launch
from loss import next_token_loss
from reference import flat, single_process
from train import TrainConfig, batch, make_model

CFG = TrainConfig()
BUCKET_BYTES = 16_384
N_TOKENS = CFG.batch_size * CFG.block_size


def ddp_buckets(rank, world_size, cfg, steps=3):
    """DDP's buckets, step by step, as lists of parameter indices in the order they went out."""
    model = make_model(cfg)
    ddp = DistributedDataParallel(model, bucket_cap_mb=BUCKET_BYTES / 2**20)
    index = {p: i for i, p in enumerate(model.parameters())}
    seen = []

    def record(state, bucket):
        seen[-1].append(sorted(index[p] for p in bucket.parameters()))
        return allreduce_hook(None, bucket)  # what DDP does by default: all-reduce, then divide by k

    ddp.register_comm_hook(None, record)
    for step in range(steps):
        seen.append([])
        x, y = batch(step, cfg, model)
        next_token_loss(ddp(shard(x, rank, world_size)), shard(y, rank, world_size)).backward()
    return seen


def ddp_and_ours(rank, world_size, cfg):
    return {"ddp": train_ddp(rank, world_size, cfg, BUCKET_BYTES),
            "ours": train_dp(rank, world_size, cfg, bucket_bytes=BUCKET_BYTES),
            "ddp_buckets": ddp_buckets(rank, world_size, cfg)}


@pytest.fixture(scope="module")
def two_ranks():
    return launch(ddp_and_ours, 2, CFG)


def test_ddp_equals_one_process_and_ours(two_ranks):
    ref = single_process(CFG)
    for r in two_ranks:
        # the bounds of step 2: B*T positions per loss and per weight gradient, `steps` chained updates
        for run in (r["ddp"], r["ours"]):
            assert_close(torch.tensor(run["losses"]), torch.tensor(ref["losses"]), torch.float32,
                         terms=N_TOKENS, depth=CFG.steps)
            assert_close(flat(run["grads"]), flat(ref["grads"]), torch.float32, terms=N_TOKENS, depth=5)
        assert_close(torch.tensor(r["ddp"]["losses"]), torch.tensor(r["ours"]["losses"]), torch.float32,
                     terms=N_TOKENS, depth=CFG.steps)
    assert torch.equal(flat(two_ranks[0]["ddp"]["params"]), flat(two_ranks[1]["ddp"]["params"]))


def ready_order(cfg):
    """The order backward completes the gradients in, seen by hooks on a plain single-process model."""
    model = make_model(cfg)
    order = []
    for i, p in enumerate(model.parameters()):
        p.register_post_accumulate_grad_hook(lambda p, i=i: order.append(i))
    x, y = batch(0, cfg, model)
    next_token_loss(model(x), y).backward()
    return order


def test_ddp_sends_one_bucket_first_then_rebuilds_in_ready_order(two_ranks):
    steps = two_ranks[0]["ddp_buckets"]
    n = len(list(make_model(CFG).parameters()))
    assert steps[0] == [list(range(n))]  # iteration 1: every gradient in one bucket
    # From iteration 2: the closing rule of assign_buckets, applied to the real ready order.
    order = ready_order(CFG)
    params = list(make_model(CFG).parameters())
    rebuilt = [sorted(order[i] for i in b) for b in reversed(assign_buckets([params[j] for j in order], BUCKET_BYTES))]
    assert steps[1] == steps[2] == rebuilt
    assert rebuilt != [sorted(b) for b in assign_buckets(params, BUCKET_BYTES)]  # not the registration order
