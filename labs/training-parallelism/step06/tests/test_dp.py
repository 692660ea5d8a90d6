"""Naive data parallelism on 2 and 4 gloo ranks against one process with the whole batch."""
import pytest
import torch
import torch.distributed as dist

from dlc_shared.testing import assert_close
from dp import all_reduce_grads, train_dp
from launch import launch
from reference import flat, single_process
from train import TrainConfig

CFG = TrainConfig()


def sum_without_mean(model, world_size):  # a plausible bug: all-reduce sums, the division is forgotten
    for p in model.parameters():
        dist.all_reduce(p.grad)


def no_sync(model, world_size):  # a plausible bug: the all-reduce is forgotten
    pass


def with_mutants(rank, world_size, cfg):
    return {"dp": train_dp(rank, world_size, cfg),
            "sum": train_dp(rank, world_size, cfg, sum_without_mean),
            "none": train_dp(rank, world_size, cfg, no_sync)}


@pytest.fixture(scope="module")
def reference():
    return single_process(CFG)


@pytest.fixture(scope="module")
def two_ranks():
    return launch(with_mutants, 2, CFG)


def loss_bound():
    # Each loss is a mean over the global batch's B*T positions; the weights it is computed with went
    # through `steps` chained optimizer steps whose gradients summed over those positions.
    return dict(terms=CFG.batch_size * CFG.block_size, depth=CFG.steps)


def grad_bound():
    # A weight gradient sums over the B*T positions; backward chains through every sublayer and the head.
    return dict(terms=CFG.batch_size * CFG.block_size, depth=2 * 2 + 1)


def check_equal_to_one_process(ranks, ref):
    losses = torch.tensor(ref["losses"])
    assert losses[-1] < losses[0] - 0.2 and len(set(losses.tolist())) == len(losses)  # a run that learns
    for r in ranks:
        assert_close(torch.tensor(r["losses"]), losses, torch.float32, **loss_bound())
        assert_close(flat(r["grads"]), flat(ref["grads"]), torch.float32, **grad_bound())
    for r in ranks[1:]:  # the replicas take identical steps: bit for bit the same weights
        assert torch.equal(flat(r["params"]), flat(ranks[0]["params"]))


def test_two_ranks_equal_one_process(two_ranks, reference):
    check_equal_to_one_process([r["dp"] for r in two_ranks], reference)


def test_four_ranks_equal_one_process(reference):
    check_equal_to_one_process(launch(train_dp, 4, CFG), reference)


def test_a_missing_mean_is_caught(two_ranks, reference):
    grads = flat(two_ranks[0]["sum"]["grads"])
    assert_close(grads, 2 * flat(reference["grads"]), torch.float32, **grad_bound())  # k times the mean
    with pytest.raises(AssertionError):
        assert_close(grads, flat(reference["grads"]), torch.float32, **grad_bound())


def test_a_missing_all_reduce_is_caught(two_ranks, reference):
    r0, r1 = two_ranks[0]["none"], two_ranks[1]["none"]
    with pytest.raises(AssertionError):  # each rank's gradient is only its half of the batch
        assert_close(flat(r0["grads"]), flat(reference["grads"]), torch.float32, **grad_bound())
    assert not torch.equal(flat(r0["params"]), flat(r1["params"]))  # and the replicas drift apart


def test_the_mean_of_the_half_batch_gradients_is_the_whole_batch_gradient(reference):
    """all_reduce_grads on one rank (world size 1) leaves the gradient alone: the mean of one."""
    from launch import launch as run

    def one(rank, world_size):
        t = torch.nn.Linear(3, 2)
        t.weight.grad, t.bias.grad = torch.ones(2, 3), torch.full((2,), 3.0)
        all_reduce_grads(t, world_size)
        return t.weight.grad.sum().item(), t.bias.grad.sum().item()

    assert run(one, 1) == [(6.0, 6.0)]
    assert run(one, 2) == [(6.0, 6.0), (6.0, 6.0)]  # sum of two equal gradients, then / 2
