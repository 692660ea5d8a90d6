"""The KV-cached decode against a full forward, and the bytes model against a count from the config."""
import torch

from decode import bench_config, generate, kv_bytes_per_token, weight_bytes_per_token
from dlc_shared.testing import assert_close
from model import Llama, ModelConfig

CFG = ModelConfig(vocab_size=256, block_size=32, n_layer=2, n_head=4, n_kv_head=2, d_model=64, d_ff=128)


def seeded_model(cfg=CFG, std=0.3):
    torch.manual_seed(0)
    model = Llama(cfg).eval()
    with torch.no_grad():  # larger than the init scale, so greedy tokens vary (a constant output proves nothing)
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0, std)
    return model


def test_cached_decode_matches_full_forward():
    model = seeded_model()
    prompt = torch.randint(CFG.vocab_size, (2, 5), generator=torch.Generator().manual_seed(1))
    new = generate(model, prompt, 10)
    assert len(set(new.flatten().tolist())) > 1
    # Reference: no cache, the whole sequence each time; greedy tokens must agree one by one.
    seq = prompt
    with torch.no_grad():
        for _ in range(10):
            seq = torch.cat([seq, model(seq)[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert torch.equal(new, seq[:, 5:])
    # And the logits of the last step: same math, other reduction shapes (GEMV vs GEMM).
    cache = model.new_cache(2, seq.shape[1])
    with torch.no_grad():
        model(seq[:, :-1], cache)
        step = model(seq[:, -1:], cache)[:, -1]
        full = model(seq)[:, -1]
    assert_close(step, full, torch.float32, terms=CFG.d_ff, depth=2 * CFG.n_layer)


def test_cache_rejects_a_second_multi_token_chunk():
    model = seeded_model()
    cache = model.new_cache(1, 16)
    with torch.no_grad():
        model(torch.zeros(1, 4, dtype=torch.long), cache)
        try:
            model(torch.zeros(1, 2, dtype=torch.long), cache)
        except ValueError as e:
            assert "one new token" in str(e)
        else:
            raise AssertionError("expected a ValueError")


def expected_weight_bytes(cfg: ModelConfig, bytes_per_value: int) -> int:
    """Counted by hand from the architecture: what one token's decode step reads."""
    d, hd = cfg.d_model, cfg.head_dim
    attn = d * cfg.n_head * hd * 2 + d * cfg.n_kv_head * hd * 2      # q, o and k, v
    mlp = 3 * d * cfg.d_ff                                            # gate, up, down
    norms = (2 * cfg.n_layer + 1) * d
    return (cfg.n_layer * (attn + mlp) + cfg.vocab_size * d + d + norms) * bytes_per_value  # lm_head + 1 row


def test_weight_bytes_match_the_hand_count_fp32_and_bf16():
    model = seeded_model()
    assert weight_bytes_per_token(model) == expected_weight_bytes(CFG, 4)
    assert weight_bytes_per_token(model.to(torch.bfloat16)) == expected_weight_bytes(CFG, 2)


def test_kv_bytes_per_token():
    cache = seeded_model().new_cache(1, 8)
    per_position = 2 * CFG.n_layer * CFG.n_kv_head * CFG.head_dim * 4
    assert kv_bytes_per_token(cache, 10) == per_position * 11
    assert cache.k.numel() * 4 * 2 == per_position * 8  # what the cache really allocated


def test_bench_config_shapes():
    cfg = bench_config(1024, 4)
    assert (cfg.n_head, cfg.n_kv_head, cfg.head_dim, cfg.d_ff) == (16, 8, 64, 2816)
