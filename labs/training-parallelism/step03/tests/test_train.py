"""The data and the single-process run: the reference every parallel step is held to."""
import torch
import torch.nn.functional as F

from data import FOLLOW, global_batch, shard
from dlc_shared.testing import assert_close
from train import TrainConfig, make_model, train_single


def test_global_batch_is_a_function_of_the_step():
    x0, y0 = global_batch(0, 8, 32, 256)
    x0b, _ = global_batch(0, 8, 32, 256)
    x1, _ = global_batch(1, 8, 32, 256)
    assert torch.equal(x0, x0b) and not torch.equal(x0, x1)
    assert torch.equal(x0[:, 1:], y0[:, :-1])  # targets are the inputs shifted by one
    assert len(set(x0.flatten().tolist())) > 50  # varied tokens


def test_tokens_follow_their_successor_most_of_the_time():
    x, y = global_batch(0, 64, 32, 256)
    succ = torch.randperm(256, generator=torch.Generator().manual_seed(0))
    follows = (y == succ[x]).double().mean().item()
    # A binomial mean over 2048 positions: expected FOLLOW + (1 - FOLLOW)/V, standard error < 0.007.
    assert abs(follows - (FOLLOW + (1 - FOLLOW) / 256)) < 0.03


def test_shards_tile_the_global_batch():
    x, _ = global_batch(3, 8, 32, 256)
    for k in (1, 2, 4, 8):
        assert torch.equal(torch.cat([shard(x, r, k) for r in range(k)]), x)


def test_uneven_shard_is_refused():
    x, _ = global_batch(0, 6, 4, 256)
    try:
        shard(x, 0, 4)
    except ValueError as e:
        assert "does not split evenly" in str(e)
    else:
        raise AssertionError("an uneven split must be refused")


def test_single_run_matches_a_plain_pytorch_loop_and_learns():
    cfg = TrainConfig(steps=4)
    losses = train_single(cfg)
    # Written again here with F.cross_entropy: the reference for the loss the steps compute.
    model = make_model(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=cfg.weight_decay)
    ref = []
    for step in range(cfg.steps):
        x, y = global_batch(step, cfg.batch_size, cfg.block_size, 256, cfg.seed)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        ref.append(loss.item())
    # Losses are means over B*T positions of a logsumexp over V: the same computation in another
    # function, chained over the optimizer steps.
    assert_close(torch.tensor(losses), torch.tensor(ref), torch.float32,
                 terms=cfg.batch_size * cfg.block_size, depth=cfg.steps)
    assert losses[-1] < losses[0] - 0.2  # the successor table is being learned
