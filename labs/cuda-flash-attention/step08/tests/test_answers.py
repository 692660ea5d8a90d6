"""The numbers the README's 풀이 quote, computed with this step's code."""
import numpy as np

import reference as ref
from naive import naive_hbm_elements, scores_bytes


def test_answer_score_memory():
    assert scores_bytes(32, 4096) == 2 * 2**30          # 32 heads at n = 4096: 2 GiB of float32 scores
    assert scores_bytes(32, 4096, itemsize=2) == 2**30   # bf16: 1 GiB
    assert 4 * 4 * 4096 * 128 == 8 * 2**20             # Q, K, V, O of one head: 8 MiB


def test_answer_traffic_ratio():
    n, d = 4096, 128
    assert naive_hbm_elements(n, d) == 69_206_016
    assert round(naive_hbm_elements(n, d) / (4 * n * d), 2) == 33.0


def test_answer_one_key():
    q, k, v = np.ones((1, 1, 4)), np.ones((1, 1, 4)) * 3, np.arange(4.0).reshape(1, 1, 4)
    o, lse = ref.attention(q, k, v)
    assert o.tolist() == v.tolist() and lse[0, 0] == 6.0  # one key: weight 1; lse = its score 12 / sqrt(4)


def test_answer_running_pair():
    from online import running_stats
    m, l = running_stats(np.array([[1.0, 3.0, 2.0]]))
    assert m[0] == 3.0 and round(float(l[0]), 4) == 1.5032
    assert round(float(np.exp(-2.0) + 1), 4) == 1.1353


def test_answer_merge():
    from online import merge
    m, l = merge(np.array(2.0), np.array(1.5), np.array(5.0), np.array(2.0))
    assert m == 5.0 and round(float(l), 5) == 2.07468


def test_answer_block_sizes():
    from tiling import block_sizes, tile_bytes
    assert block_sizes(32 * 1024, 64) == (32, 32) and tile_bytes(32, 32, 64) == 16_512
    assert block_sizes(228 * 1024, 128) == (114, 114)
    assert 32 * 1024 // 4 // (4 * 128) == 16


def test_answer_loads_ratio():
    from tiling import naive_score_loads, tiled_loads
    assert tiled_loads(4096, 128, 16) == 4096 * 128 * 257
    assert round(naive_score_loads(4096, 128) / tiled_loads(4096, 128, 16), 2) == 31.88


def test_answer_dao_term():
    from traffic import dao_term, flash_io_formula
    n, d, m = 4096, 64, 8192
    assert flash_io_formula(n, d, 32)["reads"] == n * d + 8 * dao_term(n, d, m) == 67_371_008
    assert 4 * n * d + 4 * n * n == 68_157_440


def test_answer_sram_sweep():
    from traffic import io_table
    t = io_table(4096, 64, 128 * 1024)
    assert (t["BR"], t["BC"]) == (128, 128) and round(t["naive / flash"], 2) == 3.94


def test_answer_bf16_doubles_the_ratio():
    from traffic import io_table
    f32, bf16 = io_table(4096, 128, 228 * 1024), io_table(4096, 128, 228 * 1024, itemsize=2)
    assert round(f32["naive / flash"], 3) == 1.784 and round(bf16["naive / flash"], 1) == 3.5


def test_answer_two_tiles_by_hand():
    from flash import flash_forward_twin
    q = np.array([[[1.0]]], np.float32)
    k = np.array([[[0.0], [2.0]]], np.float32)
    v = np.array([[[10.0], [20.0]]], np.float32)
    o, lse, _ = flash_forward_twin(q, k, v, br=1, bc=1)
    assert round(float(o[0, 0, 0]), 4) == 18.8080 and round(float(lse[0, 0]), 4) == 2.1269
    assert round(float(np.exp(-2.0)), 4) == 0.1353


def test_answer_flash_registers_and_shared():
    assert 4 * (32 * 65 + 2 * 32 * 64 + 32 * 33) == 28_928 and 4 * (16 * 129 + 2 * 16 * 128 + 32 * 17) == 26_816
    assert 16 * 4096 * 4 == 256 * 2**10  # lse for 16 heads at n = 4096: what flash keeps instead of S
    assert 4096 * 4096 * 4 * 16 == 1024 * 2**20  # the S buffer naive needs for 16 heads at n = 4096


def test_answer_causal_tiles():
    from flash import causal_tiles
    assert causal_tiles(4096, 32, 32) == 128 * 129 // 2 == 8256 and round(8256 / 128**2, 4) == 0.5039
    assert causal_tiles(4096, 16, 16) == 256 * 257 // 2 == 32896
    assert 4096 * 4095 // 2 / 4096**2 < 0.5  # masked scores: just under half


def test_answer_uneven_blocks():
    from flash import causal_tiles
    assert causal_tiles(64, 32, 16) == 2 + 4  # block 0 sees keys 0..31 (2 tiles), block 1 keys 0..63 (4)


def test_answer_flops_at_4096():
    heads, n, d = 16, 4096, 128
    assert 4 * heads * n**2 * d == 137_438_953_472
    assert heads * n * n * 4 == 2**30  # the math backend's float32 scores: 1 GiB


def test_answer_bf16_step():
    import torch
    assert torch.finfo(torch.bfloat16).eps == 2**-7 and torch.finfo(torch.float16).eps == 2**-10


def test_answer_triton_grid_and_blocks():
    from flash import causal_tiles
    heads, n, bm, bn = 16, 4096, 128, 64
    assert -(-n // bm) * heads == 512 and round(512 / 132, 2) == 3.88   # programs; waves over 132 SMs
    assert (n // bm) * (n // bn) == 2048                                 # K, V blocks of one head, no mask
    assert causal_tiles(n, bm, bn) == 2 * (32 * 33 // 2) == 1056 and round(1056 / 2048, 4) == 0.5156
    assert causal_tiles(n, 64, 64) == 64 * 65 // 2 == 2080 and round(2080 / 4096, 4) == 0.5078


def test_answer_triton_kv_reads_and_shared():
    n, d, bf16 = 4096, 128, 2
    kv_head = 2 * n * d * bf16
    assert kv_head == 2 * 2**20                                          # K and V of one head: 2 MiB
    assert (n // 64) * kv_head == 128 * 2**20 and (n // 128) * kv_head == 64 * 2**20
    shared = lambda bm, bn, stages: bm * d * bf16 + stages * 2 * bn * d * bf16  # noqa: E731  Q + staged K, V
    assert shared(128, 64, 3) == 128 * 2**10 and shared(64, 64, 3) == 112 * 2**10
    assert 128 * d // (8 * 32) == 64 and 64 * d // (4 * 32) == 64  # acc floats per thread: 64 registers


def test_answer_triton_two_keys():
    import torch
    from flash_triton import attention_triton
    q, k, v = torch.zeros(1, 2, 16), torch.zeros(1, 2, 16), torch.zeros(1, 2, 16)  # query 0 is the one we follow
    q[0, 0, 0], k[0, 1, 0], v[0, :, 0] = 1.0, 2.0, torch.tensor([10.0, 20.0])  # scores 0 and 2 at scale 1
    o, lse = attention_triton(q, k, v, scale=1.0, block_m=16, block_n=16)
    assert round(float(o[0, 0, 0]), 4) == 18.8080 and round(float(lse[0, 0]), 4) == 2.1269
    log2e = 1 / np.log(2)
    assert round(2 * log2e, 4) == 2.8854 and round(1 + 2 ** (-2 * log2e), 4) == 1.1353
    assert round((2 * log2e + np.log2(1 + np.exp(-2))) / log2e, 4) == 2.1269
