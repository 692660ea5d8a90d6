"""perplexity() against exp(mean negative log-likelihood) computed by hand in float64."""
import math

import numpy as np
import torch

from dlc_shared.data import token_ids
from dlc_shared.testing import tolerance
from evaluate import perplexity
from model import Llama, ModelConfig


def test_perplexity_is_exp_of_the_mean_nll():
    cfg = ModelConfig(vocab_size=2048, block_size=16, n_layer=1, n_head=2, n_kv_head=1, d_model=32, d_ff=128)
    torch.manual_seed(0)
    model = Llama(cfg).eval()
    ids = token_ids("val", 2048)[:3 * 16 + 1].astype(np.int64)
    with torch.no_grad():
        logits = model(torch.from_numpy(ids[:-1]).view(3, 16)).double().flatten(0, 1).numpy()
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    nll = -logp[np.arange(48), ids[1:]].mean()
    ppl = perplexity(model, windows=3)
    # fp32 log-softmax over 2048 logits, then a mean over 48 tokens, against float64; exp scales the error by ppl.
    assert abs(ppl - math.exp(nll)) <= math.exp(nll) * tolerance(torch.float32, 1.0, terms=2048 * 48)
    assert abs(ppl - 2048) < 0.2 * 2048  # an untrained model is close to uniform over the vocabulary


def test_answer_ppl_change_in_nats():
    assert f"{math.log(1.01):.5f}" == "0.00995"
    assert f"{math.log(1.05):.4f}" == "0.0488"
