"""The FLOPs formula against PyTorch's own FLOP counter on a real forward + backward."""
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from flops import flops_per_token, matmul_params
from model import Llama, ModelConfig

CFG = ModelConfig(vocab_size=97, block_size=16, n_layer=2, n_head=4, n_kv_head=2, d_model=32, d_ff=48)


def test_matmul_params_are_all_parameters_but_the_norm_gains():
    model = Llama(CFG)
    norms = sum(p.numel() for p in model.parameters() if p.dim() == 1)
    assert matmul_params(CFG) == model.num_params() - norms


def test_training_flops_per_token_match_flop_counter():
    model = Llama(CFG)
    B, T = 3, 16
    idx = torch.randint(CFG.vocab_size, (B, T))
    counter = FlopCounterMode(display=False)
    # The math SDPA backend runs attention as bmm calls the counter sees (CPU flash is not counted).
    with counter, sdpa_kernel(SDPBackend.MATH):
        model(idx).float().logsumexp(-1).mean().backward()
    counts = {str(k): v for k, v in counter.get_flop_counts()["Global"].items()}
    assert counts["aten.bmm"] > 0  # attention was counted, not just the projections
    assert counter.get_total_flops() == flops_per_token(CFG, T) * B * T
