"""Bytes of one training step, counted from the tensors, against counts made by hand."""
import torch

from anatomy import activation_bytes, model_state_bytes, tensor_bytes, time_phases
from loss import next_token_loss
from train import TrainConfig, batch, make_model, make_optimizer


def hand_count(cfg) -> int:
    """Parameters counted from the config: tied V x d embedding, final norm; per layer q, k, v, o,
    gate, up, down and two norms."""
    d, kv = cfg.d_model, cfg.n_kv_head * cfg.head_dim
    per_layer = 2 * d * d + 2 * d * kv + 3 * d * cfg.d_ff + 2 * d
    return cfg.vocab_size * d + d + cfg.n_layer * per_layer


def one_step(cfg=TrainConfig()):
    model = make_model(cfg)
    opt = make_optimizer(model, cfg)
    x, y = batch(0, cfg, model)
    opt.zero_grad()
    next_token_loss(model(x), y).backward()
    opt.step()
    return model, opt


def test_fp32_adam_holds_16_bytes_per_parameter():
    model, opt = one_step()
    n = hand_count(model.cfg)
    assert model.num_params() == n == 32_928
    mem = model_state_bytes(model, opt)
    assert mem["params"] == 4 * n     # fp32 weights
    assert mem["grads"] == 4 * n      # one fp32 gradient per weight
    # AdamW: fp32 m and v per weight, plus one fp32 step counter per parameter tensor.
    assert mem["optimizer"] == 8 * n + 4 * len(list(model.parameters()))


def test_tied_weight_and_views_count_once():
    model, _ = one_step()
    w = model.embed_tokens.weight
    assert model.lm_head.weight is w
    assert tensor_bytes([w, model.lm_head.weight, w[3:5], None]) == w.numel() * 4


def test_activations_grow_linearly_with_the_batch():
    model = make_model(TrainConfig())
    cfg = TrainConfig(batch_size=8)
    x, y = batch(0, cfg, model)
    sizes = [activation_bytes(model, x[:b], y[:b]) for b in (1, 2, 4)]
    # Bytes per sequence are fixed: the size is a line in B (plus a few small tensors without a batch axis).
    assert sizes[2] - sizes[1] == 2 * (sizes[1] - sizes[0]) > 0
    # At least the residual stream entering each layer, fp32, B x T x d: far more than nothing.
    assert sizes[0] >= model.cfg.n_layer * cfg.block_size * model.cfg.d_model * 4


def test_activations_leave_out_weights():
    model = make_model(TrainConfig())
    x, y = batch(0, TrainConfig(), model)
    with_weights = {}

    def pack(t):
        with_weights[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        next_token_loss(model(x), y)
    weights = tensor_bytes(list(model.parameters()))
    # The matmuls save their weights for the backward pass too; activation_bytes must not count them.
    assert sum(with_weights.values()) > activation_bytes(model, x, y) + weights // 2


def test_time_phases_reports_three_positive_medians():
    cfg = TrainConfig(batch_size=2)
    model = make_model(cfg)
    x, y = batch(0, cfg, model)
    times = time_phases(model, make_optimizer(model, cfg), x, y, repeat=2, warmup=1)
    assert list(times) == ["forward", "backward", "optimizer"] and all(t > 0 for t in times.values())
