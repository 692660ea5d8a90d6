"""DistributedSampler: the ranks' windows never overlap, and together they are one process's global batch."""
import pytest
import torch

from data import Windows, rank_batches


def dataset():
    return Windows(torch.arange(10_001), 10)  # 1,000 windows; window i starts at token 10 i


@pytest.mark.parametrize("world_size", [2, 4])
def test_ranks_split_the_global_batch_without_overlap(world_size):
    ds, batch, steps = dataset(), 8, 130  # 125 steps per epoch: the run crosses into epoch 1
    single = rank_batches(ds, batch, 0, 1, seed=3)
    ranks = [rank_batches(ds, batch, r, world_size, seed=3) for r in range(world_size)]
    for step in range(steps):
        want = next(single)[0][:, 0] // 10  # the window numbers one process takes at this step
        got = [next(r)[0][:, 0] // 10 for r in ranks]
        assert all(len(g) == batch // world_size for g in got)
        assert len(set(torch.cat(got).tolist())) == batch  # no window twice
        assert sorted(torch.cat(got).tolist()) == sorted(want.tolist())
        if step == 0:
            # The reference for the order: a plain randperm seeded with seed + epoch, as the sampler documents.
            assert want.tolist() == torch.randperm(1000, generator=torch.Generator().manual_seed(3))[:8].tolist()


def test_each_epoch_reshuffles_and_resume_continues_mid_epoch():
    ds = dataset()
    run = rank_batches(ds, 8, 0, 2, seed=0)
    first = [next(run)[0] for _ in range(130)]
    assert not torch.equal(first[0], first[125])  # epoch 1 starts with another order (set_epoch)
    resumed = rank_batches(ds, 8, 0, 2, seed=0, start_step=124)  # as after a checkpoint at step 123
    for step in range(123, 130):
        assert torch.equal(next(resumed)[0], first[step])


def test_uneven_batch_is_refused():
    with pytest.raises(ValueError, match="does not split evenly"):
        next(rank_batches(dataset(), 8, 0, 3, seed=0))
