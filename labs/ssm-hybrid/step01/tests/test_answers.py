"""The numbers the README's 풀이 quote, computed with this step's code."""
from recurrence import Shape, decode_reads, kv_cache_bytes, recurrent_state_bytes

S = Shape(d_model=32, n_layers=2, n_heads=2, d_state=8)


def test_answer_crossover():
    assert recurrent_state_bytes(S) == 2048
    assert kv_cache_bytes(S, 1) == 512 and kv_cache_bytes(S, 4) == 2048
    assert kv_cache_bytes(S, 4096) == 2_097_152 and kv_cache_bytes(S, 4096) // recurrent_state_bytes(S) == 1024


def test_answer_reads_per_step():
    assert decode_reads(S, "attention", 4096) == 524_288 and decode_reads(S, "recurrence", 4096) == 512


def test_answer_pythia_vs_mamba():
    # Pythia-2.8B: 32 layers, d_model 2560 (32 heads x 80); bf16
    pythia = Shape(d_model=2560, n_layers=32, n_heads=32, d_state=1)
    assert kv_cache_bytes(pythia, 1, elt=2) == 327_680
    assert kv_cache_bytes(pythia, 4096, elt=2) == 1_342_177_280
    # Mamba-2.8B: 64 layers, d_inner 5120, d_state 16, plus a conv window of 4 inputs per channel; bf16
    mamba_state = 64 * 5120 * (16 + 4) * 2
    assert mamba_state == 13_107_200
    assert round(mamba_state / 327_680) == 40
