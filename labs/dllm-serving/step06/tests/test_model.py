"""The model against a float64 forward written out by hand from its weights."""
import math

import torch

from dlc_shared.testing import assert_close
from model import Config, Transformer, causal_mask, full_mask, positions


def reference_forward(model, idx, pos, allowed):
    """The same network in float64, one operation at a time, from the state dict."""
    w = {k: v.double() for k, v in model.state_dict().items()}
    H = model.cfg.n_head

    def ln(x, p):
        mu = x.mean(-1, keepdim=True)
        var = ((x - mu) ** 2).mean(-1, keepdim=True)
        return (x - mu) / torch.sqrt(var + 1e-5) * w[p + ".weight"] + w[p + ".bias"]

    x = w["tok.weight"][idx] + w["pos.weight"][pos]
    B, T, D = x.shape
    for i in range(model.cfg.n_layer):
        p = f"blocks.{i}."
        qkv = ln(x, p + "ln1") @ w[p + "qkv.weight"].T + w[p + "qkv.bias"]
        q, k, v = (t.view(B, T, H, D // H).transpose(1, 2) for t in qkv.split(D, dim=-1))
        scores = q @ k.transpose(-1, -2) / math.sqrt(D // H)
        scores = scores.masked_fill(~allowed[:, None], float("-inf"))
        y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + y @ w[p + "proj.weight"].T + w[p + "proj.bias"]
        h = torch.relu(ln(x, p + "ln2") @ w[p + "mlp.0.weight"].T + w[p + "mlp.0.bias"])
        x = x + h @ w[p + "mlp.2.weight"].T + w[p + "mlp.2.bias"]
    return ln(x, "ln_f") @ w["head.weight"].T


def test_forward_matches_float64_reference_for_both_masks():
    torch.manual_seed(0)
    model = Transformer(Config()).eval()
    idx = torch.randint(0, 13, (3, 17))
    for mask in (causal_mask(17, 3), full_mask(17, 3)):
        logits, _ = model(idx, positions(17, 3), mask)
        expected = reference_forward(model, idx, positions(17, 3), mask)
        assert len(set(logits.argmax(-1).flatten().tolist())) > 1   # a seeded model gives varied outputs
        # the longest reduction feeding a logit is the MLP's 256 hidden units; 2 layers + head
        assert_close(logits, expected, torch.float32, terms=256, depth=3)


def test_the_mask_decides_what_a_position_sees():
    torch.manual_seed(0)
    model = Transformer(Config()).eval()
    idx = torch.randint(0, 10, (1, 9))
    changed = idx.clone()
    changed[0, -1] = (idx[0, -1] + 1) % 10               # change only the last token
    causal = [model(x, positions(9), causal_mask(9))[0] for x in (idx, changed)]
    full = [model(x, positions(9), full_mask(9))[0] for x in (idx, changed)]
    assert torch.equal(causal[0][0, :-1], causal[1][0, :-1])   # earlier positions cannot see it
    assert not torch.allclose(full[0][0, :-1], full[1][0, :-1])  # with a full mask they all do
