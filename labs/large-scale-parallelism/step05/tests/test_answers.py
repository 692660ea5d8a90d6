"""The numbers the README's 풀이 quote, computed with this step's code."""
import torch

from model import Config
from ring import block_mask
from run import ring_send_bytes


def test_answer_ring_bytes():
    cfg = Config()
    assert ring_send_bytes(cfg, 4, 4) == 2048
    assert 2 * (4 - 1) * cfg.n_layer * 2048 == 24_576


def small_blocks(q, cp2):
    """Small blocks chunk q of 2cp sees: its earlier chunks plus its own triangle."""
    return sum(1 for k in range(cp2) if not (isinstance(block_mask(q, k, 1), str) and block_mask(q, k, 1) == "none"))


def test_answer_zigzag_balance():
    cp = 4
    zigzag = [small_blocks(r, 2 * cp) + small_blocks(2 * cp - 1 - r, 2 * cp) for r in range(cp)]
    assert zigzag == [9, 9, 9, 9]
    contiguous = [sum(small_blocks(j, 2 * cp) for j in (2 * r, 2 * r + 1)) for r in range(cp)]
    assert contiguous == [3, 7, 11, 15] and sum(contiguous) == sum(zigzag) == 36
    assert torch.equal(block_mask(1, 1, 3), torch.ones(3, 3, dtype=torch.bool).tril())
