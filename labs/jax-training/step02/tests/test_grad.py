"""Gradients from jax.value_and_grad against PyTorch autograd on the same weights."""
import jax
import numpy as np
import torch
import torch.nn.functional as F

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
    np.testing.assert_allclose(float(loss), ref_loss, rtol=1e-5)
    pairs = [(grads["embed"], ref["model.embed_tokens.weight"]),
             (grads["final_norm"], ref["model.norm.weight"]),
             (grads["lm_head"].T, ref["lm_head.weight"])]
    for i, layer in enumerate(grads["layers"]):
        for ours, (name, transpose) in LAYER_NAMES.items():
            pairs.append((layer[ours].T if transpose else layer[ours], ref[f"model.layers.{i}.{name}"]))
    assert len(pairs) == len(jax.tree_util.tree_leaves(grads))
    for g, r in pairs:
        assert np.abs(r).max() > 0  # every weight gets a gradient
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-6 * np.abs(r).max())


def test_sgd_update_moves_against_the_gradient(params, cfg):
    x, y = get_batch(np.arange(400, dtype=np.uint16) % cfg.vocab_size, jax.random.key(6), 2, 8)
    loss, grads = grad_fn(params, x, y, cfg=cfg)
    new = sgd_update(params, grads, 0.1)
    np.testing.assert_allclose(new["lm_head"], params["lm_head"] - 0.1 * grads["lm_head"], rtol=1e-6)
    assert float(grad_fn(new, x, y, cfg=cfg)[0]) < float(loss)  # a small step downhill lowers the loss
