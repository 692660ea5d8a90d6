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


def test_answer_discretization_at_delta_0_1():
    import math

    import torch

    from ssm import discretize_mamba, discretize_zoh
    A, B, dt = (torch.tensor(v, dtype=torch.float64) for v in (-1.0, 1.0, 0.1))
    abar, zoh = discretize_zoh(A, dt, B)
    _, euler = discretize_mamba(A, dt, B)
    assert round(abar.item(), 6) == 0.904837 and round(zoh.item(), 7) == 0.0951626 and euler.item() == 0.1
    assert round((euler - zoh).item() / zoh.item() * 100, 2) == 5.08
    # memory of a channel: Abar^k for A = -16, delta = 0.1 after 10 tokens; half-life for A = -1, delta = 0.016
    assert round(math.exp(-1.6), 4) == 0.2019 and math.exp(-16) < 1.2e-7
    assert round(math.log(2) / 0.016) == 43


def test_answer_lti_kernel():
    import torch

    from ssm import lti_kernel
    one = torch.ones(1, 1, dtype=torch.float64)
    K = lti_kernel(-one, torch.tensor([0.1], dtype=torch.float64), one[0], one[0], 11)[0]
    assert round(K[0].item(), 7) == 0.1 and round(K[1].item(), 7) == 0.0904837 and round(K[10].item(), 7) == 0.0367879


def test_answer_rounds_and_combines():
    import torch

    from scan import hillis_steele_scan
    _, rounds = hillis_steele_scan(torch.ones(1, 1000), torch.zeros(1, 1000))
    assert rounds == 10
    assert sum(1000 - 2**r for r in range(rounds)) == 10_000 - 1023 == 8977
    assert sum(8 - 2**r for r in range(3)) == 17


def test_answer_parallel_scan_memory():
    assert 4096 * 64 * 8 * 4 == 8_388_608 and 64 * 8 * 4 == 2048
    assert 8_388_608 // 2048 == 4096


def block_params(d, d_inner, N, rank, d_conv):
    """in_proj, conv (weight + bias), x_proj, dt_proj (weight + bias), A_log, D, out_proj, norm."""
    return (d * 2 * d_inner + d_inner * d_conv + d_inner + d_inner * (rank + 2 * N) + rank * d_inner + d_inner
            + d_inner * N + d_inner + d_inner * d + d)


def test_answer_block_parameters():
    from model import MambaBlock, MambaConfig
    cfg = MambaConfig(d_model=32, d_state=8)
    counted = sum(p.numel() for p in MambaBlock(cfg).parameters())
    assert counted == block_params(32, 64, 8, 2, 4) == 8416
    assert block_params(2560, 5120, 16, 160, 4) == 41_244_160
    total = 64 * 41_244_160 + 50_280 * 2560 + 2560
    assert total == 2_768_345_600


def test_answer_state_vs_cache_crossover():
    from model import MambaConfig, state_bytes
    from transformer import TransformerConfig, kv_bytes
    assert state_bytes(MambaConfig(d_model=32, n_layers=2, d_state=8)) == 6144
    per_token = kv_bytes(TransformerConfig(d_model=32, n_layers=2, n_heads=4, n_kv_heads=4), 1)
    assert per_token == 512 and 6144 // per_token == 12


def test_answer_bench_models():
    from bench import MAMBA, TRANSFORMER
    from model import state_bytes
    from transformer import kv_bytes
    assert state_bytes(MAMBA) == 4 * 512 * (4 + 16) * 4 == 163_840
    assert kv_bytes(TRANSFORMER, 1) == 8192 and kv_bytes(TRANSFORMER, 4096 + 16) == 33_685_504
    assert round(33_685_504 / 163_840, 1) == 205.6


def test_answer_requests_in_80_gb():
    free = 80e9 - 5.6e9
    assert int(free // 13_107_200) == 5676 and int(free // 1_342_177_280) == 55


def test_answer_hybrid_bytes():
    from hybrid import HybridConfig, hybrid_bytes
    cfg = HybridConfig()
    assert hybrid_bytes(cfg, 1) == (6144, 256)
    assert hybrid_bytes(cfg, 1024) == (6144, 262_144)
    assert 2 * 4 * 2 * 8 * 1024 * 4 == 524_288


def test_answer_jamba_vs_mixtral_at_256k():
    from hybrid import HybridConfig, hybrid_bytes
    jamba = HybridConfig(d_model=4096, layer_types=tuple("attention" if i % 8 == 4 else "mamba" for i in range(32)),
                         n_heads=32, n_kv_heads=8)
    _, kv = hybrid_bytes(jamba, 262_144, elt=2)
    assert kv == 4_294_967_296 == 4 * 2**30
    assert 2 * 32 * 8 * 128 * 262_144 * 2 == 34_359_738_368 == 32 * 2**30
