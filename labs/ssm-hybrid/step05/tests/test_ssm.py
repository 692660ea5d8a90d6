"""The discretized SSM against an ODE solver, the scan against a float64 NumPy loop and, when nothing is
selective, against the convolution it then is."""
import numpy as np
import pytest
import torch
from dlc_shared.testing import assert_close

from ssm import discretize_mamba, discretize_zoh, lti_kernel, selective_scan

G = torch.Generator().manual_seed(0)


def inputs(batch=2, T=16, d=6, N=4, dtype=torch.float32):
    A = -torch.rand(d, N, generator=G, dtype=torch.float64).add(0.5).to(dtype)
    x = torch.randn(batch, T, d, generator=G, dtype=torch.float64).to(dtype)
    delta = torch.rand(batch, T, d, generator=G, dtype=torch.float64).mul(0.5).add(0.01).to(dtype)
    B = torch.randn(batch, T, N, generator=G, dtype=torch.float64).to(dtype)
    C = torch.randn(batch, T, N, generator=G, dtype=torch.float64).to(dtype)
    D = torch.randn(d, generator=G, dtype=torch.float64).to(dtype)
    return x, delta, A, B, C, D


def scan_ref(x, delta, A, B, C, D):
    """The recurrence channel by channel, state entry by state entry, in float64."""
    x, delta, A, B, C, D = (t.double().numpy() for t in (x, delta, A, B, C, D))
    batch, T, d = x.shape
    y = np.zeros_like(x)
    h = np.zeros((batch, d, A.shape[1]))
    for i in range(batch):
        for c in range(d):
            for t in range(T):
                h[i, c] = np.exp(delta[i, t, c] * A[c]) * h[i, c] + delta[i, t, c] * B[i, t] * x[i, t, c]
                y[i, t, c] = h[i, c] @ C[i, t] + D[c] * x[i, t, c]
    return y, h


def rk4(A, B, x, dt, h0, substeps=2000):
    """Integrate h' = A h + B x with x held fixed over dt (float64, diagonal A)."""
    h, s = h0.copy(), dt / substeps
    f = lambda h: A * h + B * x  # noqa: E731
    for _ in range(substeps):
        k1 = f(h); k2 = f(h + s / 2 * k1); k3 = f(h + s / 2 * k2); k4 = f(h + s * k3)  # noqa: E702
        h = h + s / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return h


def test_zero_order_hold_is_exact_for_piecewise_constant_input():
    A = np.array([-0.5, -1.0, -3.0]); B = np.array([1.0, -2.0, 0.5])  # noqa: E702
    xs, dts = [0.7, -1.2, 2.0, 0.3], [0.1, 0.5, 1.0, 0.05]
    h_ode, h = np.zeros(3), torch.zeros(3, dtype=torch.float64)
    for x, dt in zip(xs, dts):
        h_ode = rk4(A, B, x, dt, h_ode)
        Abar, Bbar = discretize_zoh(torch.tensor(A), torch.tensor(dt, dtype=torch.float64), torch.tensor(B))
        h = Abar * h + Bbar * x
    # RK4's truncation error per substep is about (|A| dt / 2000)^5 / 120 <= 7e-17 here (|A| dt <= 3), 1e-13 over
    # 2000 substeps, far below the bound below: the float64 rounding of 4 steps of 2000 substeps
    assert_close(h, h_ode, torch.float64, terms=3, depth=4 * 2000)


def test_mamba_discretization_is_zoh_to_first_order():
    A, B = torch.tensor(-2.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
    for dt in (1e-3, 1e-2, 1e-1):
        Abar_z, Bbar_z = discretize_zoh(A, torch.tensor(dt, dtype=torch.float64), B)
        Abar_m, Bbar_m = discretize_mamba(A, torch.tensor(dt, dtype=torch.float64), B)
        assert Abar_z == Abar_m
        # (e^{a dt} - 1)/a = dt + a dt^2/2 + ...: the gap is a dt^2 / 2 to leading order
        gap = (Bbar_m - Bbar_z).item()
        assert abs(gap - (-A.item()) * dt**2 / 2) <= abs(A.item()) ** 2 * dt**3


def test_selective_scan_matches_float64_loop():
    x, delta, A, B, C, D = inputs()
    y, h = selective_scan(x, delta, A, B, C, D)
    y_ref, h_ref = scan_ref(x, delta, A, B, C, D)
    # each output sums N products of a state that carried T steps of rounding
    assert_close(y, y_ref, torch.float32, terms=A.shape[1], depth=x.shape[1])
    assert_close(h, h_ref, torch.float32, depth=x.shape[1])


def test_scan_continues_from_a_state():
    x, delta, A, B, C, D = inputs(T=12)
    y_ref, _ = scan_ref(x, delta, A, B, C, D)
    y1, h = selective_scan(x[:, :7], delta[:, :7], A, B[:, :7], C[:, :7], D)
    y2, _ = selective_scan(x[:, 7:], delta[:, 7:], A, B[:, 7:], C[:, 7:], D, h0=h)
    assert_close(torch.cat([y1, y2], 1), y_ref, torch.float32, terms=A.shape[1], depth=12)


def test_without_selection_the_scan_is_a_convolution():
    d, N, T = 5, 4, 20
    x, _, A, B, C, _ = inputs(batch=1, T=T, d=d, N=N, dtype=torch.float64)
    delta = torch.rand(d, generator=G, dtype=torch.float64) * 0.3 + 0.05
    y, _ = selective_scan(x, delta.expand(1, T, d), A, B[:, :1].expand(1, T, N), C[:, :1].expand(1, T, N))
    K = lti_kernel(A, delta, B[0, 0], C[0, 0], T).numpy()  # (d, T)
    xs = x[0].numpy()
    conv = np.array([[sum(K[c, k] * xs[t - k, c] for k in range(t + 1)) for c in range(d)] for t in range(T)])
    assert_close(y[0], conv, torch.float64, terms=T * N, depth=T)


def test_a_large_delta_forgets_everything_before_it():
    x, delta, A, B, C, D = inputs(batch=1, T=10)
    x2 = x.clone()
    x2[:, :5] += 1.0
    delta = delta.clone()
    delta[:, 5] = 1e4  # exp(-0.5e4) is exactly 0 in float32
    y1, _ = selective_scan(x, delta, A, B, C, D)
    y2, _ = selective_scan(x2, delta, A, B, C, D)
    assert not torch.equal(y1[:, :5], y2[:, :5])
    assert torch.equal(y1[:, 5:], y2[:, 5:])


@pytest.mark.parametrize("wrong", ["no_decay", "late_input"])
def test_the_reference_catches_a_plausible_bug(wrong):
    x, delta, A, B, C, D = inputs(T=8)
    y_ref, _ = scan_ref(x, delta, A, B, C, D)
    h, ys = torch.zeros(2, 6, 4), []
    for t in range(8):
        Abar, Bbar = discretize_mamba(A, delta[:, t, :, None], B[:, t, None, :])
        if wrong == "no_decay":
            h = h + Bbar * x[:, t, :, None]
        else:  # the output read before the new input is added
            ys.append((h * C[:, t, None, :]).sum(-1))
            h = Abar * h + Bbar * x[:, t, :, None]
            continue
        ys.append((h * C[:, t, None, :]).sum(-1))
    with pytest.raises(AssertionError):
        assert_close(torch.stack(ys, 1) + D * x, y_ref, torch.float32, terms=4, depth=8)
