"""Both layers against float64 NumPy written here; bytes held per request against the formulas, exactly."""
import numpy as np
import pytest
import torch
from dlc_shared.testing import assert_close

from recurrence import Model, Shape, held_bytes, kv_cache_bytes, recurrent_state_bytes

S = Shape(d_model=32, n_layers=2, n_heads=2, d_state=8)


def weights(layer):
    return {k: v.detach().double().numpy() for k, v in layer.state_dict().items()}


def attention_ref(model, x):
    """Causal softmax attention in float64 NumPy, whole sequence at once."""
    x = x.double().numpy()
    b, t, d = x.shape
    h, hd = S.n_heads, S.head_dim
    for layer in model.layers:
        w = weights(layer)
        q, k, v = (x @ w["qkv.weight"].T).reshape(b, t, 3, h, hd).transpose(2, 0, 3, 1, 4)
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd)
        s = np.where(np.tril(np.ones((t, t), bool)), s, -np.inf)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        y = (p @ v).transpose(0, 2, 1, 3).reshape(b, t, d)
        x = x + y @ w["out.weight"].T
    return x


def recurrence_ref(model, x):
    """h_t = a h_{t-1} + b u_t, y_t = sum_n c h_t, one channel at a time, float64."""
    x = x.double().numpy()
    for layer in model.layers:
        w = weights(layer)
        u = x @ w["inp.weight"].T
        a = 1 / (1 + np.exp(-w["a_logit"]))
        y = np.zeros_like(u)
        for i in range(x.shape[0]):
            for ch in range(S.d_model):
                hs = np.zeros(S.d_state)
                for t in range(x.shape[1]):
                    hs = a[ch] * hs + w["b"][ch] * u[i, t, ch]
                    y[i, t, ch] = hs @ w["c"][ch]
        x = x + y @ w["out.weight"].T
    return x


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return Model(S, "attention"), Model(S, "recurrence")


@pytest.mark.parametrize("kind", ["attention", "recurrence"])
def test_full_forward_matches_float64_reference(models, kind):
    model = models[kind == "recurrence"]
    x = torch.randn(2, 12, S.d_model, generator=torch.Generator().manual_seed(1))
    ref = attention_ref(model, x) if kind == "attention" else recurrence_ref(model, x)
    with torch.no_grad():
        out = model(x)
    # longest reduction: a d_model matmul or a 12-token sum; two layers
    assert_close(out, ref, torch.float32, terms=S.d_model, depth=S.n_layers)


@pytest.mark.parametrize("kind", ["attention", "recurrence"])
def test_prefill_then_decode_equals_the_whole_sequence(models, kind):
    model = models[kind == "recurrence"]
    x = torch.randn(2, 12, S.d_model, generator=torch.Generator().manual_seed(2))
    ref = attention_ref(model, x) if kind == "attention" else recurrence_ref(model, x)
    cache = model.new_cache(2)
    with torch.no_grad():
        parts = [model(x[:, :5], cache)] + [model(x[:, t:t + 1], cache) for t in range(5, 12)]
    assert_close(torch.cat(parts, dim=1), ref, torch.float32, terms=S.d_model, depth=S.n_layers)


def test_bytes_held_per_request_grow_for_attention_and_stay_fixed_for_recurrence(models):
    attention, recurrence = models
    x = torch.randn(1, 4096, S.d_model, generator=torch.Generator().manual_seed(3))
    for length in (1, 17, 4096):
        assert held_bytes(attention, x, length) == kv_cache_bytes(S, length) == 2 * 2 * 2 * 16 * length * 4
        assert held_bytes(recurrence, x, length) == recurrent_state_bytes(S) == 2 * 32 * 8 * 4


def test_formulas_scale_with_dtype_and_shape():
    assert kv_cache_bytes(Shape(64, 4, 4, 16), 10, elt=2) == 2 * 4 * 4 * 16 * 10 * 2
    assert recurrent_state_bytes(Shape(64, 4, 4, 16), elt=2) == 4 * 64 * 16 * 2


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        Model(S, "lstm")
