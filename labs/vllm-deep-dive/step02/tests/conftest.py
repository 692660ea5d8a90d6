"""Shared fixtures: one tiny seeded Qwen3 folder per test session and transformers as the reference."""
import functools

import pytest
import torch

from tiny_model import make_tiny_qwen3


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    return make_tiny_qwen3(tmp_path_factory.mktemp("models") / "tiny-qwen3", seed=0)


@pytest.fixture(scope="session")
def long_model_dir(tmp_path_factory):
    """The tiny model with Qwen3-0.6B's 40960 positions: more than any request here needs."""
    return make_tiny_qwen3(tmp_path_factory.mktemp("models") / "tiny-qwen3-long", seed=0, max_position_embeddings=40960)


@pytest.fixture(scope="session")
def hf_model(model_dir):
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging
    logging.disable_progress_bar()
    return AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()


@pytest.fixture(scope="session")
def hf_greedy(hf_model):
    """transformers' own generate(do_sample=False), one prompt at a time: the independent reference."""
    @functools.cache  # several tests ask for the same completion; transformers computes it once
    def cached(prompt, max_new_tokens, eos_token_id):
        ids = torch.tensor([prompt])
        out = hf_model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                                do_sample=False, eos_token_id=eos_token_id, pad_token_id=0)
        return tuple(out[0, len(prompt):].tolist())

    def run(prompt, max_new_tokens, eos_token_id=2):
        return list(cached(tuple(prompt), max_new_tokens, eos_token_id))
    return run
