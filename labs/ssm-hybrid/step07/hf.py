"""The reference: Hugging Face's MambaForCausalLM built from a config with seeded weights, and ours loaded from it.

Without the mamba-ssm and causal-conv1d packages transformers runs its pure-PyTorch
path (a loop over tokens), so on a CPU this is an independent implementation.
"""
from __future__ import annotations

import functools
import os

import torch

from model import MambaConfig, MambaLM

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is built here; nothing is downloaded


@functools.cache  # built once per process: every test of a step shares it
def hf_mamba(cfg: MambaConfig, seed: int = 0, scale: tuple[float, float] = (3.0, 8.0)):
    """Seeded weights; in_proj and out_proj scaled by `scale` so the blocks, not the residual path, decide the
    next token (with the default init a tiny model repeats one token)."""
    from transformers import MambaConfig as HFMambaConfig, MambaForCausalLM
    from transformers.utils import logging
    logging.set_verbosity_error()  # the "falling back to PyTorch" notices are expected here
    hc = HFMambaConfig(vocab_size=cfg.vocab_size, hidden_size=cfg.d_model, num_hidden_layers=cfg.n_layers,
                       state_size=cfg.d_state, expand=cfg.expand, conv_kernel=cfg.d_conv,
                       time_step_rank=cfg.rank, layer_norm_epsilon=cfg.eps, tie_word_embeddings=cfg.tie_embeddings)
    torch.manual_seed(seed)
    model = MambaForCausalLM(hc).eval()
    with torch.no_grad():
        model.backbone.embeddings.weight.normal_(0.0, 1.0)
        for block in model.backbone.layers:
            block.mixer.in_proj.weight.mul_(scale[0])
            block.mixer.out_proj.weight.mul_(scale[1])
    return model


@functools.cache
def _generate(hf, prompt: tuple[tuple[int, ...], ...], new_tokens: int) -> torch.Tensor:
    ids = torch.tensor(prompt)
    return hf.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens, do_sample=False)


def hf_generate(hf, prompt: torch.Tensor, new_tokens: int) -> torch.Tensor:
    """transformers' greedy generate (prompt and completion), remembered: tests asking twice pay once."""
    return _generate(hf, tuple(map(tuple, prompt.tolist())), new_tokens).clone()


def ours_from(hf) -> MambaLM:
    model = MambaLM(MambaConfig.from_hf(hf.config)).eval()
    model.load_hf_state_dict(hf.state_dict())
    return model


@functools.cache
def hf_jamba(cfg, layer_types: tuple[str, ...], seed: int = 0, scale: float = 4.0):
    """transformers' JambaForCausalLM from a config, no experts (one MLP per layer), seeded. The init is widened
    (embedding std 1; q, k, in_proj x3; down_proj x4; the mixers' output projections x `scale`) so the layers,
    not the residual path, decide the next token: with the default init a tiny model repeats itself.

    Jamba places attention at layers i with i % attn_layer_period == attn_layer_offset; `layer_types` must fit.
    """
    from transformers import JambaConfig, JambaForCausalLM
    from transformers.utils import logging
    logging.set_verbosity_error()
    attn = [i for i, t in enumerate(layer_types) if t == "attention"]
    period = 1 if len(attn) == len(layer_types) else (attn[1] - attn[0] if len(attn) > 1 else len(layer_types))
    offset = attn[0] if attn else period
    jc = JambaConfig(vocab_size=cfg.vocab_size, hidden_size=cfg.d_model, intermediate_size=cfg.d_ff,
                     num_hidden_layers=len(layer_types), num_attention_heads=cfg.n_heads,
                     num_key_value_heads=cfg.n_kv_heads, rms_norm_eps=cfg.eps, num_experts=1,
                     attn_layer_period=period, attn_layer_offset=offset, tie_word_embeddings=cfg.tie_embeddings,
                     mamba_d_state=getattr(cfg, "d_state", 16), mamba_d_conv=getattr(cfg, "d_conv", 4),
                     mamba_expand=getattr(cfg, "expand", 2), eos_token_id=None, attn_implementation="eager")
    assert tuple(jc.layers_block_type) == layer_types, (jc.layers_block_type, layer_types)
    torch.manual_seed(seed)
    model = JambaForCausalLM(jc).eval()
    with torch.no_grad():
        model.model.embed_tokens.weight.normal_(0.0, 1.0)
        for layer in model.model.layers:
            mixer = layer.self_attn.o_proj if hasattr(layer, "self_attn") else layer.mamba.out_proj
            mixer.weight.mul_(scale)
            layer.feed_forward.down_proj.weight.mul_(4.0)
            for name in ("self_attn.q_proj", "self_attn.k_proj", "mamba.in_proj"):
                if hasattr(layer, name.split(".")[0]):
                    layer.get_submodule(name).weight.mul_(3.0)
    model.generation_config.eos_token_id = None  # every request runs to its max_new_tokens
    return model
