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
