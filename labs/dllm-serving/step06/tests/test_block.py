"""Block diffusion: the block-causal prefix cache is exact; the full-attention one drifts, and we see how far."""
import torch

from block import block_causal_mask, generate_block
from dlc_shared.testing import assert_close, tolerance
from mdm import canvas, denoise
from model import Config, Transformer, positions


def seeded():
    torch.manual_seed(5)
    return Transformer(Config()).eval()


def test_block_causal_mask_by_hand():
    m = block_causal_mask(4, 2)[0].int()          # T = 9: prompt+SEP (5), then blocks [5, 6], [7, 8]
    expected = torch.zeros(9, 9, dtype=torch.int32)
    expected[:5, :5] = 1
    expected[5:7, :7] = 1
    expected[7:9, :9] = 1
    assert torch.equal(m, expected)


def test_a_prefix_cache_under_block_causal_attention_is_exact():
    model = seeded()
    prompts = torch.randint(0, 10, (6, 8), generator=torch.Generator().manual_seed(0))
    drift = []
    cached = generate_block(model, prompts, 4, cache=True, attention="block", drift=drift)
    plain = generate_block(model, prompts, 4, cache=False, attention="block")
    assert len(set(plain.flatten().tolist())) > 1
    assert torch.equal(cached, plain)
    assert len(drift) == 6                                   # 3 cached steps in each of 2 blocks
    # a GEMM over fewer rows against one over more: rounding only; 256 MLP units, 2 layers + head
    assert max(drift) <= rounding_bound(model, prompts)


def rounding_bound(model, prompts):
    """The tolerance rule for these logits: their magnitude, 256 MLP units, 2 layers + head."""
    scale = float(denoise(model, canvas(prompts)).abs().max())
    return tolerance(torch.float32, scale, terms=256, depth=3)


def test_cached_logits_equal_a_full_block_causal_forward():
    """The logits one cached step computes, against the model run on the whole canvas (plain forward)."""
    model = seeded()
    prompts = torch.randint(0, 10, (3, 8), generator=torch.Generator().manual_seed(1))
    out = generate_block(model, prompts, 4, cache=True, attention="block")
    x = torch.cat([prompts, torch.full((3, 1), 10), out], 1)
    full, _ = model(x, positions(17, 3), block_causal_mask(8, 4, 3))
    # the prefix (prompt, SEP, first block) run once, then the second block on top of its keys and values
    mask = block_causal_mask(8, 4, 3)
    _, kv = model(x[:, :13], positions(13, 3), mask[:, :13, :13])
    logits, _ = model(x[:, 13:], positions(17, 3)[:, 13:], mask[:, 13:, :], kv)
    assert_close(logits, full[:, 13:], torch.float32, terms=256, depth=3)


def test_a_prefix_cache_under_full_attention_drifts():
    """Full attention: the prefix saw the block while it was masked; later steps read stale keys and values."""
    model = seeded()
    prompts = torch.randint(0, 10, (6, 8), generator=torch.Generator().manual_seed(0))
    drift = []
    generate_block(model, prompts, 4, cache=True, attention="full", drift=drift)
    assert max(drift) > 10 * rounding_bound(model, prompts)  # far beyond rounding: an approximation


def test_the_cache_computes_fewer_positions():
    model = seeded()
    prompts = torch.randint(0, 10, (2, 8), generator=torch.Generator().manual_seed(0))
    plain, full_cached, block_cached = [], [], []
    generate_block(model, prompts, 4, cache=False, counts=plain)
    generate_block(model, prompts, 4, cache=True, attention="full", counts=full_cached)
    generate_block(model, prompts, 4, cache=True, attention="block", counts=block_cached)
    assert plain == [17] * 8
    assert full_cached == [17, 8, 8, 8, 17, 4, 4, 4]         # block starts refresh; then block + what follows
    assert block_cached == [13, 4, 4, 4, 17, 4, 4, 4]        # the future is never read
