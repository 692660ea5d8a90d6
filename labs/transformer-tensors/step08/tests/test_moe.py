"""MoE against Hugging Face Mixtral (sparse block, load-balancing loss, whole model) and a plain-loop capacity rule."""
import math

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import MixtralConfig, MixtralForCausalLM
from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock, load_balancing_loss_func

from dlc_shared.testing import assert_close
from config import Config
from model import RMSNorm, TinyLM
from moe import MoE
from shapetrace import ShapeTrace

B, T, D, V, E = 2, 8, 32, 64, 4


def moe_config(top_k=2, capacity_factor=0.0, **kw):
    return Config(vocab_size=V, dim=D, max_seq_len=16, pos="rope", n_heads=4, n_kv_heads=2, ffn="swiglu",
                  n_experts=E, top_k=top_k, capacity_factor=capacity_factor, **kw)


def make(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = moe_config(**kw)
    return cfg, MoE(cfg), torch.randn(B, T, D)


def mixtral_config(cfg, layers=1):
    return MixtralConfig(vocab_size=V, hidden_size=D, intermediate_size=cfg.ffn_hidden_size,
                         num_hidden_layers=layers, num_attention_heads=cfg.n_heads, num_key_value_heads=cfg.kv_heads,
                         max_position_embeddings=cfg.max_seq_len, rope_theta=cfg.rope_theta,
                         rms_norm_eps=cfg.norm_eps, num_local_experts=E, num_experts_per_tok=cfg.top_k,
                         attn_implementation="eager")


def copy_moe(moe, block):
    with torch.no_grad():
        block.gate.weight.copy_(moe.router.weight)
        for e, expert in enumerate(moe.experts):  # Mixtral stores experts as 3-D tensors, gate and up stacked
            block.experts.gate_up_proj[e].copy_(torch.cat([expert.gate.weight, expert.up.weight]))
            block.experts.down_proj[e].copy_(expert.down.weight)


@pytest.mark.parametrize("top_k", [1, 2])
def test_matches_mixtral_sparse_moe_block_without_capacity(top_k):
    cfg, moe, x = make(top_k=top_k)
    ref = MixtralSparseMoeBlock(mixtral_config(cfg))
    copy_moe(moe, ref)
    expected = ref(x)
    assert expected.std() > 0.01
    # router, softmax weights, gate/up, down, weighted sum: five stages; longest reduction the FFN hidden
    assert_close(moe(x), expected, torch.float32, terms=cfg.ffn_hidden_size, depth=5)
    assert moe.stats["kept"] == moe.stats["routed"] and sum(moe.stats["routed"]) == B * T * top_k


def test_load_balancing_loss_matches_mixtral():
    cfg, moe, x = make()
    moe(x)
    logits = moe.router(x.reshape(-1, D))
    # Mixtral divides the counts by tokens, not by tokens·k, so its loss is k times ours.
    expected = load_balancing_loss_func((logits,), E, cfg.top_k)
    # router logits (D terms), softmax, then a mean over the B·T tokens
    assert_close(moe.aux_loss * cfg.top_k, expected, torch.float32, terms=max(D, B * T), depth=3)


def test_load_balancing_loss_is_one_when_uniform_and_larger_when_collapsed():
    cfg, moe, x = make(top_k=1)
    with torch.no_grad():
        moe.router.weight.zero_()  # equal probabilities; topk then picks the same expert for every token
    moe(x)
    # E · (1 · 1/E): P uniform hides the collapse (a mean of B·T equal probabilities)
    assert_close(moe.aux_loss, torch.tensor(1.0), torch.float32, terms=B * T, depth=2)
    with torch.no_grad():
        moe.router.weight.zero_()
        moe.router.weight[0] = x.reshape(-1, D).mean(0) * 50  # everyone strongly prefers expert 0
    moe(x)
    assert moe.stats["routed"][0] > 0.9 * B * T and moe.aux_loss > 2.0


def loop_reference(moe, x, capacity):
    """One token at a time in float64: first choices claim slots before second choices, in token order."""
    ref = MoE(moe.cfg)
    ref.load_state_dict(moe.state_dict())
    moe = ref.double()
    tokens = x.reshape(-1, D).double()
    probs = torch.softmax(moe.router(tokens), dim=-1)
    top_p, top_i = probs.topk(moe.cfg.top_k, dim=-1)
    weights = top_p / top_p.sum(-1, keepdim=True)
    used, out, dropped = [0] * E, torch.zeros_like(tokens), 0
    for rank in range(moe.cfg.top_k):
        for t in range(tokens.shape[0]):
            e = int(top_i[t, rank])
            if used[e] == capacity:
                dropped += 1
                continue
            used[e] += 1
            out[t] += weights[t, rank] * moe.experts[e](tokens[t:t + 1])[0]
    return out.view(x.shape), dropped


def test_capacity_drops_match_a_plain_loop():
    cfg, moe, x = make(capacity_factor=1.0)
    y = moe(x)
    C = math.ceil(1.0 * B * T * cfg.top_k / E)
    assert moe.stats["capacity"] == C and max(moe.stats["kept"]) <= C
    expected, dropped = loop_reference(moe, x.double(), C)
    assert dropped > 0  # the test must exercise the drop rule
    assert sum(moe.stats["routed"]) - sum(moe.stats["kept"]) == dropped
    assert_close(y, expected, torch.float32, terms=cfg.ffn_hidden_size, depth=5)  # float32 vs the float64 loop


def test_enough_capacity_drops_nothing():
    cfg, moe, x = make(capacity_factor=E / 2)  # C = N: an expert could take every token
    y = moe(x)
    assert torch.equal(y, make()[1](x))  # the same tokens through the same experts: identical arithmetic
    assert moe.stats["kept"] == moe.stats["routed"]


def test_trace_shapes_and_counts_follow_formulas():
    cfg, moe, x = make(capacity_factor=1.0)
    N, k, F = B * T, cfg.top_k, cfg.ffn_hidden_size
    with ShapeTrace() as trace, FlopCounterMode(display=False) as counter:
        moe(x)
    assert trace["router_logits = x W_r"].shape == trace["router_probs = softmax(logits)"].shape == (N, E)
    assert trace["top_k expert ids"].shape == trace["kept assignments"].shape == (N, k)
    kept = moe.stats["kept"]
    for e in range(E):
        assert trace[f"expert{e}.x_e = x[routed to e]"].shape == (kept[e], D)
        assert trace[f"expert{e}.g = x W_gate"].shape == (kept[e], F)
    assert trace["y = Σ_k w·expert(x)"].shape == (B, T, D)
    assert trace.params == D * E + E * 3 * D * F == sum(p.numel() for p in moe.parameters())
    assert trace.flops == 2 * N * D * E + 2 * sum(kept) * 3 * D * F == counter.get_total_flops()


def test_moe_model_matches_mixtral_for_causal_lm():
    torch.manual_seed(0)
    cfg = moe_config(n_layers=2)
    model = TinyLM(cfg)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, RMSNorm):
                m.weight.uniform_(0.5, 1.5)
    ref = MixtralForCausalLM(mixtral_config(cfg, layers=2)).eval()
    with torch.no_grad():
        ref.model.embed_tokens.weight.copy_(model.embed.tok.weight)
        ref.model.norm.weight.copy_(model.norm.weight)
        ref.lm_head.weight.copy_(model.lm_head.weight)
        for block, layer in zip(model.layers, ref.model.layers):
            layer.input_layernorm.weight.copy_(block.attn_norm.weight)
            layer.post_attention_layernorm.weight.copy_(block.ffn_norm.weight)
            for mine, theirs in ((block.attn.wq, layer.self_attn.q_proj), (block.attn.wk, layer.self_attn.k_proj),
                                 (block.attn.wv, layer.self_attn.v_proj), (block.attn.wo, layer.self_attn.o_proj)):
                theirs.weight.copy_(mine.weight)
            copy_moe(block.ffn, layer.mlp)
    ids = torch.randint(0, V, (B, T))
    out = ref(ids, output_router_logits=True)
    assert len(set(out.logits.argmax(-1).flatten().tolist())) > 1
    # per block: norm, q/k/v, rope, q kᵀ, probs·v, Wo, norm and five MoE stages (above); then norm and head
    depth = 12 * cfg.n_layers + 2
    assert_close(model(ids), out.logits, torch.float32, terms=cfg.ffn_hidden_size, depth=depth)
    assert sum(p.numel() for p in model.parameters()) == ref.num_parameters()
    # Mixtral pools its loss over layers; ours is the sum of per-layer losses, so compare layer by layer.
    for block, logits in zip(model.layers, out.router_logits):
        expected = load_balancing_loss_func((logits,), E, cfg.top_k)
        # the router reads hidden states that carry the blocks' rounding (at most the logits' depth)
        assert_close(block.ffn.aux_loss * cfg.top_k, expected, torch.float32, terms=cfg.ffn_hidden_size,
                     depth=depth)


def test_bad_top_k_is_refused():
    with pytest.raises(ValueError, match="top_k"):
        moe_config(top_k=E + 1)
