"""The cached training: the file round-trips exactly and the recipe's hash names it."""
import torch

from dlc_shared.data import cache_dir
from model import ModelConfig
from train import trained_model


def test_cached_model_reloads_identically(trained):
    again = trained_model(steps=40, log=lambda *_: None)
    for (n, a), (_, b) in zip(trained.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), n
    assert list(cache_dir().glob("inference-quantization-llama-*.pt"))


def test_default_model_config_divides_into_int4_groups():
    cfg = ModelConfig()
    assert cfg.d_model % 128 == 0 and cfg.d_ff % 128 == 0
