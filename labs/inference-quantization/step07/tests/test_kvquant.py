"""The quantized KV cache: error bounds per format, the cached decode loop, bytes, perplexity."""
import pytest
import torch

from decode import generate
from dlc_shared.testing import assert_close
from evaluate import perplexity
from kvquant import QuantKVCache, dequantize_kv, kv_cache_factory, quantize_kv
from model import Llama, ModelConfig

CFG = ModelConfig(vocab_size=256, block_size=32, n_layer=2, n_head=4, n_kv_head=2, d_model=64, d_ff=128)


def kv_values():
    x = torch.randn(2, 2, 9, 16, generator=torch.Generator().manual_seed(0))
    x[0, 1, 3, 5] = 30.0  # an outlier: only its own (token, head) vector gets a large scale
    return x


def test_int8_kv_error_is_at_most_half_a_step():
    x = kv_values()
    codes, scale = quantize_kv(x, "int8")
    assert codes.dtype == torch.int8 and scale.shape == (2, 2, 9, 1)
    err = (dequantize_kv(codes, scale) - x).abs()
    assert (err <= scale / 2 * (1 + 2**-20)).all()  # rounding to the nearest level (+ fp32 slack)
    assert float(scale[0, 1, 3]) > 5 * float(scale[0, 0].max())


def test_fp8_kv_error_is_e4m3_rounding():
    x = kv_values()
    codes, scale = quantize_kv(x, "fp8")
    assert codes.dtype == torch.float8_e4m3fn and float(codes.float().abs().max()) == 448.0
    err = (dequantize_kv(codes, scale) - x).abs()
    # e4m3 keeps 3 mantissa bits: half an ulp is 2^-4 of the value for normals (>= 2^-6 after scaling);
    # below that the subnormal step is 2^-9, half of it 2^-10, times the scale.
    bound = torch.maximum(x.abs() * 2**-4, scale * 2**-10) * (1 + 2**-20)
    assert (err <= bound).all()


def seeded_model():
    torch.manual_seed(0)
    model = Llama(CFG).eval()
    with torch.no_grad():  # larger than the init scale, so greedy tokens vary
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0, 0.3)
    return model


@pytest.mark.parametrize("fmt", ["int8", "fp8"])
def test_quantized_cache_decode_loop_matches_a_quantized_prefill(fmt):
    # Per-token scales make each position's codes independent of the others, so filling the cache
    # one token at a time (the generate loop) and all at once (a prefill) must give the same logits.
    model = seeded_model()
    prompt = torch.randint(CFG.vocab_size, (1, 4), generator=torch.Generator().manual_seed(1))
    cache = QuantKVCache(CFG, 1, 16, fmt)
    new = generate(model, prompt, 8, cache)
    assert len(set(new.flatten().tolist())) > 1 and cache.length == 12
    seq = torch.cat([prompt, new], dim=1)  # what the loop cached: the prompt and every generated token
    with torch.no_grad():
        step = model(new[:, -1:], cache)[:, -1]  # one more decode step after the loop
        prefill = QuantKVCache(CFG, 1, 16, fmt)
        model(seq, prefill)
        full = model(new[:, -1:], prefill)[:, -1]
    assert_close(step, full, torch.float32, terms=CFG.d_ff, depth=2 * CFG.n_layer)


def test_kv_bytes_per_position():
    per_fp32 = seeded_model().new_cache(1, 4).bytes_per_position()
    assert per_fp32 == 2 * 2 * 2 * 16 * 4
    for fmt in ("int8", "fp8"):
        assert QuantKVCache(CFG, 1, 4, fmt).bytes_per_position() == 2 * 2 * 2 * (16 + 4)


def test_kv_int8_perplexity_within_one_percent(trained):
    # The quality target for the int8 KV cache (a quantization bound): within 1% of fp32.
    base = perplexity(trained, windows=16)
    assert abs(perplexity(trained, windows=16, new_cache=kv_cache_factory("int8")) / base - 1) < 0.01
