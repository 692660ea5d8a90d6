"""Gradients from jax.value_and_grad against PyTorch autograd on the same weights."""
import jax
import numpy as np
import torch
import torch.nn.functional as F
from dlc_shared.testing import assert_close

from convert import LAYER_NAMES, hf_model
from train import get_batch, loss_and_grad, sgd_update


grad_fn = jax.jit(loss_and_grad, static_argnames="cfg")  # jit only to keep the test fast


def torch_grads(params, cfg, x, y):
    model = hf_model(params, cfg)
    logits = model(torch.tensor(np.asarray(x), dtype=torch.long)).logits
    loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), torch.tensor(np.asarray(y), dtype=torch.long).reshape(-1))
    loss.backward()
    return loss.item(), {name: p.grad.numpy() for name, p in model.named_parameters()}


def test_value_and_grad_matches_torch_autograd(params, cfg):
    x, y = get_batch(np.arange(400, dtype=np.uint16) * 7 % cfg.vocab_size, jax.random.key(5), 3, 12)
    loss, grads = grad_fn(params, x, y, cfg=cfg)
    ref_loss, ref = torch_grads(params, cfg, x, y)
    # The forward chains 2 sublayers per block and the head through the residual stream; its longest
    # reduction is d_ff or d_model, a weight gradient's is the batch's B * T positions. The loss adds
    # log-softmax and a mean; the backward pass runs the whole chain again in reverse.
    depth, terms = 2 * cfg.n_layers + 1, max(cfg.d_model, cfg.d_ff, x.size)
    assert_close(float(loss), ref_loss, np.float32, terms=terms, depth=depth + 1)
    pairs = [(grads["embed"], ref["model.embed_tokens.weight"]),
             (grads["final_norm"], ref["model.norm.weight"]),
             (grads["lm_head"].T, ref["lm_head.weight"])]
    for i, layer in enumerate(grads["layers"]):
        for ours, (name, transpose) in LAYER_NAMES.items():
            pairs.append((layer[ours].T if transpose else layer[ours], ref[f"model.layers.{i}.{name}"]))
    assert len(pairs) == len(jax.tree_util.tree_leaves(grads))
    for g, r in pairs:
        assert np.abs(r).max() > 0  # every weight gets a gradient
        assert_close(g, r, np.float32, terms=terms, depth=2 * (depth + 1))


def test_sgd_update_moves_against_the_gradient(params, cfg):
    x, y = get_batch(np.arange(400, dtype=np.uint16) % cfg.vocab_size, jax.random.key(6), 2, 8)
    loss, grads = grad_fn(params, x, y, cfg=cfg)
    new = sgd_update(params, grads, 0.1)
    expect = np.asarray(params["lm_head"], np.float64) - 0.1 * np.asarray(grads["lm_head"], np.float64)
    assert_close(new["lm_head"], expect, np.float32, depth=2)  # a product and a difference, each rounded
    assert float(grad_fn(new, x, y, cfg=cfg)[0]) < float(loss)  # a small step downhill lowers the loss
