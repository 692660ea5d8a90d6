"""MLA: absorbed and unabsorbed forms equal a float64 reference written from the equations; cache bytes."""
import numpy as np
import pytest
import torch
from dlc_shared.testing import assert_close

from mla import MLA, LatentCache, MLAShape, mla_bytes_per_token

S = MLAShape(d_model=64, n_heads=4, kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16)
T, PROMPT = 10, 6


def reference(m: MLA, x: np.ndarray) -> np.ndarray:
    """Plain float64 NumPy, head by head, query by query, from DeepSeek-V2's equations (no absorption)."""
    s = m.s
    W = {n: p.detach().double().numpy() for n, p in m.named_parameters()}
    dn, dr, dv, r = s.qk_nope_head_dim, s.qk_rope_head_dim, s.v_head_dim, s.kv_lora_rank

    def rot(v, pos):  # RoPE on the last axis, pairs (i, i + d/2)
        half = v.shape[-1] // 2
        ang = pos * 10000.0 ** (-np.arange(half) * 2 / v.shape[-1])
        c, sn = np.cos(np.r_[ang, ang]), np.sin(np.r_[ang, ang])
        return v * c + np.r_[-v[half:], v[:half]] * sn

    out = np.zeros((x.shape[0], x.shape[1], s.d_model))
    for b in range(x.shape[0]):
        ckv = x[b] @ W["w_dkv.weight"].T
        lat = ckv[:, :r] / np.sqrt((ckv[:, :r] ** 2).mean(-1, keepdims=True) + 1e-6) * W["kv_norm.weight"]
        k_rope = np.stack([rot(ckv[t, r:], t) for t in range(x.shape[1])])
        q = (x[b] @ W["wq.weight"].T).reshape(x.shape[1], s.n_heads, dn + dr)
        up = W["w_ukv.weight"].reshape(s.n_heads, dn + dv, r)
        for t in range(x.shape[1]):
            heads = []
            for h in range(s.n_heads):
                k = np.concatenate([lat[:t + 1] @ up[h, :dn].T, k_rope[:t + 1]], 1)
                v = lat[:t + 1] @ up[h, dn:].T
                qh = np.r_[q[t, h, :dn], rot(q[t, h, dn:], t)]
                e = k @ qh / np.sqrt(dn + dr)
                p = np.exp(e - e.max())
                heads.append(p @ v / p.sum())
            out[b, t] = np.concatenate(heads) @ W["wo.weight"].T
    return out


def run_cached(m, form, x):
    f = getattr(m, f"forward_{form}")
    cache = LatentCache(m.s, x.shape[0], T)
    with torch.no_grad():
        parts = [f(x[:, :PROMPT], torch.arange(PROMPT), cache)]
        parts += [f(x[:, p:p + 1], torch.arange(p, p + 1), cache) for p in range(PROMPT, T)]
    return torch.cat(parts, 1), cache


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    m = MLA(S).eval()
    with torch.no_grad():
        m.kv_norm.weight.add_(0.1 * torch.randn(S.kv_lora_rank))  # a real norm weight, not all ones
    x = torch.randn(2, T, S.d_model)
    return m, x, reference(m, x.double().numpy())


@pytest.mark.parametrize("form", ["unabsorbed", "absorbed"])
def test_both_forms_equal_the_float64_reference(setup, form):
    m, x, ref = setup
    got, cache = run_cached(m, form, x)
    assert np.ptp(ref) > 0.5 and np.abs(np.diff(ref, axis=1)).min() > 0  # outputs vary by position
    # longest reduction: the output projection over H * d_v; chained stages: projections, attention, output
    assert_close(got, ref, torch.float32, terms=S.n_heads * S.v_head_dim, depth=3)
    assert cache.length == T


def test_absorbed_equals_unabsorbed(setup):
    m, x, _ = setup
    a, _ = run_cached(m, "absorbed", x)
    u, _ = run_cached(m, "unabsorbed", x)
    assert_close(a, u, torch.float32, terms=S.n_heads * S.v_head_dim, depth=3)


def test_latent_cache_bytes():
    cache = LatentCache(S, 3, 20)
    assert cache.nbytes() == (32 + 8) * 20 * 3 * 4  # (r + d_rope) * positions * batch * fp32
    assert cache.nbytes() == mla_bytes_per_token(S, 1, 4) * 20 * 3
    v3 = MLAShape(7168, 128, 512, 128, 64, 128)
    assert mla_bytes_per_token(v3, 61, 2) == 61 * 576 * 2 == 70_272
