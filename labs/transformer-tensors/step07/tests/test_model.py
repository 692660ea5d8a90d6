"""RMSNorm, the block and the whole model against Hugging Face Llama with the same weights."""
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama.modeling_llama import LlamaDecoderLayer, LlamaRMSNorm, LlamaRotaryEmbedding

from dlc_shared.testing import assert_close
from config import Config
from model import Block, RMSNorm, TinyLM
from shapetrace import ShapeTrace

B, T, D, V = 2, 6, 32, 64


def llama_like(**kw):
    return Config(vocab_size=V, dim=D, max_seq_len=16, pos="rope", n_heads=4, n_kv_heads=2, ffn="swiglu",
                  n_layers=2, **kw)


def hf_config(cfg):
    return LlamaConfig(vocab_size=V, hidden_size=D, intermediate_size=cfg.ffn_hidden_size,
                       num_hidden_layers=cfg.n_layers, num_attention_heads=cfg.n_heads,
                       num_key_value_heads=cfg.kv_heads, max_position_embeddings=cfg.max_seq_len,
                       rope_theta=cfg.rope_theta, rms_norm_eps=cfg.norm_eps,
                       tie_word_embeddings=cfg.tie_embeddings, attn_implementation="eager")


def copy_block(block, layer):
    pairs = [(block.attn_norm, layer.input_layernorm), (block.ffn_norm, layer.post_attention_layernorm),
             (block.attn.wq, layer.self_attn.q_proj), (block.attn.wk, layer.self_attn.k_proj),
             (block.attn.wv, layer.self_attn.v_proj), (block.attn.wo, layer.self_attn.o_proj),
             (block.ffn.gate, layer.mlp.gate_proj), (block.ffn.up, layer.mlp.up_proj),
             (block.ffn.down, layer.mlp.down_proj)]
    with torch.no_grad():
        for mine, theirs in pairs:
            theirs.weight.copy_(mine.weight)


def random_norm_gains(model):
    with torch.no_grad():  # gains of 1 would hide a missing or misplaced weight
        for m in model.modules():
            if isinstance(m, RMSNorm):
                m.weight.uniform_(0.5, 1.5)


def test_rmsnorm_matches_llama_rmsnorm_and_the_formula():
    torch.manual_seed(0)
    x = torch.randn(B, T, D) * 3
    norm, ref = RMSNorm(D, 1e-6), LlamaRMSNorm(D, eps=1e-6)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        ref.weight.copy_(norm.weight)
    assert_close(norm(x), ref(x), torch.float32, terms=D, depth=2)  # mean of D squares, then scale
    x64, g64 = x.double(), norm.weight.detach().double()
    formula = x64 / torch.sqrt((x64 ** 2).mean(-1, keepdim=True) + 1e-6) * g64
    assert_close(norm.double()(x64), formula, torch.float64, terms=D, depth=2)


def test_block_matches_llama_decoder_layer():
    torch.manual_seed(0)
    cfg = llama_like()
    block, x = Block(cfg), torch.randn(B, T, D)
    random_norm_gains(block)
    layer = LlamaDecoderLayer(hf_config(cfg), layer_idx=0)
    copy_block(block, layer)
    cos_sin = LlamaRotaryEmbedding(hf_config(cfg))(x, torch.arange(T)[None])
    future = torch.full((T, T), float("-inf")).triu(1)[None, None]
    expected = layer(x, attention_mask=future, position_embeddings=cos_sin)
    assert (expected - x).std() > 0.1  # the sublayers add something
    # norm, q/k/v, rope, q kᵀ, probs·v, Wo, norm, gate/up, down: nine stages; longest reduction the FFN hidden
    assert_close(block(x), expected, torch.float32, terms=cfg.ffn_hidden_size, depth=9)


def test_zeroed_sublayers_leave_the_residual_stream_unchanged():
    torch.manual_seed(0)
    block, x = Block(llama_like()), torch.randn(B, T, D)
    with torch.no_grad():
        block.attn.wo.weight.zero_()
        block.ffn.down.weight.zero_()
    assert torch.equal(block(x), x)  # x + 0 + 0: exact


@pytest.mark.parametrize("tie", [False, True])
def test_model_matches_llama_for_causal_lm(tie):
    torch.manual_seed(0)
    cfg = llama_like(tie_embeddings=tie)
    model = TinyLM(cfg)
    random_norm_gains(model)
    ref = LlamaForCausalLM(hf_config(cfg)).eval()
    with torch.no_grad():
        ref.model.embed_tokens.weight.copy_(model.embed.tok.weight)
        ref.model.norm.weight.copy_(model.norm.weight)
        ref.lm_head.weight.copy_(model.lm_head.weight)
    for block, layer in zip(model.layers, ref.model.layers):
        copy_block(block, layer)
    ids = torch.randint(0, V, (B, T))
    expected = ref(ids).logits
    assert len(set(expected.argmax(-1).flatten().tolist())) > 1  # a varied reference
    # nine stages per block (see above), then the final norm and the LM head
    assert_close(model(ids), expected, torch.float32, terms=cfg.ffn_hidden_size, depth=9 * cfg.n_layers + 2)
    assert sum(p.numel() for p in model.parameters()) == ref.num_parameters()


@pytest.mark.parametrize("tie", [False, True])
def test_trace_shapes_and_counts_follow_formulas(tie):
    torch.manual_seed(0)
    cfg = llama_like(tie_embeddings=tie)
    model = TinyLM(cfg)
    ids = torch.randint(0, V, (B, T))
    with ShapeTrace() as trace, FlopCounterMode(display=False) as counter:
        model(ids)
    L, H, d, kv, F = cfg.n_layers, cfg.n_heads, cfg.head_dim, cfg.kv_heads * cfg.head_dim, cfg.ffn_hidden_size
    for i in range(L):
        for name in ("attn_norm(x)", "x = x + attn", "ffn_norm(x)", "x = x + ffn"):
            assert trace[f"layers.{i}.{name}"].shape == (B, T, D)
        assert trace[f"layers.{i}.attn.scores = q kᵀ/√d"].shape == (B, H, T, T)
        assert trace[f"layers.{i}.ffn.h = silu(g) * u"].shape == (B, T, F)
    assert trace["logits = x W_headᵀ"].shape == (B, T, V)
    per_layer = 2 * D * D + 2 * D * kv + 3 * D * F + 2 * D
    params = V * D + L * per_layer + D + (0 if tie else V * D)
    assert trace.params == params == sum(p.numel() for p in model.parameters())
    flops = L * (2 * B * T * (2 * D * D + 2 * D * kv + 3 * D * F) + 4 * B * H * T * T * d) + 2 * B * T * D * V
    assert trace.flops == flops == counter.get_total_flops()
