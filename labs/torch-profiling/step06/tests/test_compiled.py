"""Graph breaks are found in train_step and absent from the compiled model; compiled training equals eager."""
import copy

import pytest
import torch

from compiled import compile_model, graph_breaks, step_traffic
from dlc_shared.testing import assert_close
from model import Config, LanguageModel
from train import make_batch, make_optimizer, train_step

CFG = Config(vocab_size=64, block_size=16, n_embd=32, n_head=2, n_kv_head=1, n_layer=1)


@pytest.fixture()
def setup():
    torch.manual_seed(0)
    model = LanguageModel(CFG)
    x, y = make_batch(CFG.vocab_size, 2, CFG.block_size)
    return model, x, y


def test_train_step_breaks_at_the_optimizer(setup):
    model, x, y = setup
    graphs, breaks, reasons = graph_breaks(train_step, model, make_optimizer(model), x, y)
    assert graphs >= 2 and breaks >= 1
    assert any("zero_grad" in r for r in reasons), reasons
    # The model itself compiles with fullgraph=True below: a break there would be an error.


def test_compiled_training_steps_equal_eager(setup):
    model, x, y = setup
    twin = copy.deepcopy(model)
    opt, opt_twin = make_optimizer(model), make_optimizer(twin)
    # aot_eager: Dynamo's graph and AOTAutograd's backward graph, run by ATen kernels. Inductor's code
    # generation takes tens of seconds on two cores; bench.py runs it and checks its loss the same way.
    compiled = compile_model(twin, backend="aot_eager")
    for _ in range(2):                                       # the second step uses the AdamW state of the first
        loss = train_step(model, opt, x, y)
        loss_c = train_step(compiled, opt_twin, x, y)
        # The loss is a mean over B*T cross-entropies, each from a D-long and a V-long reduction.
        assert_close(loss_c, loss, torch.float32, terms=2 * CFG.block_size + CFG.vocab_size, depth=2 * CFG.n_layer)
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        # After two AdamW steps of lr 1e-3 the parameters agree far inside one step's size.
        assert (p - q).abs().max() < 1e-4, name
    assert not torch.equal(next(model.parameters()), LanguageModel(CFG).token_embedding.weight)


def test_step_traffic_counts_the_matmul_flops(setup):
    model, x, y = setup
    t = step_traffic(model, make_optimizer(model), x, y)
    tokens, D, F, V, hd = 2 * 16, 32, CFG.ffn_dim, 64, 16
    kv = CFG.n_kv_head * hd
    linear = D * D + 2 * D * kv + D * D + 3 * D * F + D * V     # weights each token multiplies in a forward
    attention = 2 * 2 * 2 * 2 * 16 * 16 * hd     # 2 matmuls (q k^T, p v), 2 FLOPs, B = 2, H = 2, full T x T
    # forward 2 FLOPs per multiply-add; backward twice the forward (input and weight gradients)
    assert t["flops"] == t["matmul_flops"] + t["attention_flops"]
    assert t["matmul_flops"] == 3 * (2 * tokens * linear) and t["attention_flops"] == 3 * attention
    assert t["bytes"] > 4 * sum(p.numel() for p in model.parameters())
