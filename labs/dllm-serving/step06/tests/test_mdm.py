"""The forward process and the masked-diffusion loss, against float64 loops written out by hand."""
import math

import torch

import mdm
from dlc_shared.testing import assert_close
from task import MASK, make_batch


def test_ratios_cover_the_interval_evenly():
    t = mdm.sample_ratios(torch.Generator().manual_seed(0), 64).flatten()
    assert t.shape == (64,) and (t > 0).all() and (t <= 1).all()
    counts = torch.histc(t, bins=8, min=0, max=1)
    assert counts.tolist() == [8.0] * 8                      # a shifted grid: 8 per eighth, exactly


def test_masking_hits_only_the_answer_at_rate_t():
    gen = torch.Generator().manual_seed(0)
    x = make_batch(gen, 4000, 8)
    t = torch.tensor([0.1, 0.5, 0.9, 1.0]).repeat_interleave(1000)[:, None]
    noisy, masked = mdm.mask_answer(x, 9, t, gen)
    assert torch.equal(noisy[:, :9], x[:, :9])                                  # the prompt stays clean
    assert torch.equal(noisy[:, 9:] == MASK, masked)
    assert torch.equal(noisy[:, 9:][~masked], x[:, 9:][~masked])
    rate = masked.float().view(4, 1000, 8).mean(dim=(1, 2))
    # 8000 Bernoulli draws per ratio: standard deviation at most 0.0056; 4 of them is 0.022
    assert (rate - torch.tensor([0.1, 0.5, 0.9, 1.0])).abs().max() < 0.022
    assert masked[3000:].all()


def test_loss_matches_a_float64_loop():
    gen = torch.Generator().manual_seed(1)
    B, n, V = 5, 6, 13
    logits = torch.randn(B, n, V, generator=gen)
    target = torch.randint(0, 10, (B, n), generator=gen)
    masked = torch.rand(B, n, generator=gen) < 0.5
    t = torch.rand(B, 1, generator=gen) * 0.9 + 0.1
    total = 0.0
    for b in range(B):
        for i in range(n):
            if masked[b, i]:
                row = logits[b, i].double()
                nll = math.log(row.exp().sum()) - float(row[target[b, i]])
                total += nll / float(t[b, 0])
    expected = torch.tensor(total / (B * n), dtype=torch.float64)
    got = mdm.mdm_loss(logits, target, masked, t)
    assert masked.any() and not masked.all()
    # a log-softmax over V=13 then a sum over B*n=30 terms, 1/t up to 10 scales the partial sums
    assert_close(got, expected, torch.float32, terms=B * n * V, depth=2, scale=10 * float(expected))
    # mutation: forgetting the 1/t weight changes the value
    assert abs(float(mdm.mdm_loss(logits, target, masked, torch.ones(B, 1))) - total / (B * n)) > 1e-3
