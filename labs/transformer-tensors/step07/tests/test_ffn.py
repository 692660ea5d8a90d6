"""FFN and SwiGLU against PyTorch and Hugging Face Llama's MLP; parameter and FLOP counts against formulas."""
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import LlamaMLP

from dlc_shared.testing import assert_close
from config import Config
from ffn import FFN, SwiGLU, make_ffn
from shapetrace import ShapeTrace

B, T, D = 2, 5, 16


def make(ffn, seed=0, **kw):
    torch.manual_seed(seed)
    cfg = Config(vocab_size=50, dim=D, max_seq_len=12, ffn=ffn, **kw)
    return cfg, make_ffn(cfg), torch.randn(B, T, D)


def test_gelu_ffn_matches_torch_sequential_in_float64():
    cfg, ffn, x = make("gelu")
    assert isinstance(ffn, FFN) and cfg.ffn_hidden_size == 4 * D
    ref = nn.Sequential(nn.Linear(D, 4 * D, bias=False), nn.GELU(), nn.Linear(4 * D, D, bias=False)).double()
    with torch.no_grad():
        ref[0].weight.copy_(ffn.up.weight)
        ref[2].weight.copy_(ffn.down.weight)
    expected = ref(x.double())
    assert expected.std() > 0.1
    assert_close(ffn.double()(x.double()), expected, torch.float64, terms=4 * D, depth=3)  # up, gelu, down


def test_swiglu_matches_hugging_face_llama_mlp():
    cfg, ffn, x = make("swiglu")
    assert isinstance(ffn, SwiGLU)
    ref = LlamaMLP(LlamaConfig(hidden_size=D, num_attention_heads=1, intermediate_size=cfg.ffn_hidden_size))
    with torch.no_grad():
        ref.gate_proj.weight.copy_(ffn.gate.weight)
        ref.up_proj.weight.copy_(ffn.up.weight)
        ref.down_proj.weight.copy_(ffn.down.weight)
    expected = ref(x)
    assert expected.std() > 0.01
    assert_close(ffn(x), expected, torch.float32, terms=cfg.ffn_hidden_size, depth=3)  # gate/up, silu·u, down
    assert sum(p.numel() for p in ffn.parameters()) == sum(p.numel() for p in ref.parameters())


@pytest.mark.parametrize("kind", ["gelu", "swiglu"])
def test_each_token_is_transformed_alone(kind):
    cfg, ffn, x = make(kind)
    perm = torch.randperm(T)
    # the same rows in another order: only the matmul kernel's blocking may differ
    assert_close(ffn(x[:, perm]), ffn(x)[:, perm], torch.float32, terms=cfg.ffn_hidden_size, depth=3)


@pytest.mark.parametrize("kind, n_mats", [("gelu", 2), ("swiglu", 3)])
def test_trace_shapes_and_counts_follow_formulas(kind, n_mats):
    cfg, ffn, x = make(kind)
    F = cfg.ffn_hidden_size
    with ShapeTrace() as trace, FlopCounterMode(display=False) as counter:
        y = ffn(x)
    assert y.shape == (B, T, D)
    wide = [r for r in trace.rows if r.shape == (B, T, F)]
    assert len(wide) == (2 if kind == "gelu" else 3)  # up, gelu / gate, up, silu·u
    assert trace.params == n_mats * D * F == sum(p.numel() for p in ffn.parameters())
    assert trace.flops == 2 * B * T * n_mats * D * F == counter.get_total_flops()


def test_swiglu_hidden_size_follows_llama_rounding():
    assert Config(dim=64, ffn="swiglu").ffn_hidden_size == 192  # int(8·64/3) = 170 -> 192
    assert Config(dim=4096, ffn="swiglu", multiple_of=256).ffn_hidden_size == 11008  # Llama-2-7B
    assert Config(dim=64, ffn="swiglu", ffn_hidden=100).ffn_hidden_size == 100


def test_unknown_ffn_is_refused():
    with pytest.raises(ValueError, match="ffn"):
        Config(ffn="relu")
