"""The roofline model: attainable FLOP/s = min(peak, bandwidth * intensity), with measured ops under it.

An op of intensity I (FLOP/byte) cannot run faster than its bytes can arrive (bandwidth * I)
nor faster than the arithmetic units can go (peak). The two roofs meet at the ridge point
I = peak / bandwidth: ops to its left are memory-bound, ops to its right compute-bound.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from ceilings import Probe, time_calls
from intensity import Op


def attainable(intensity, peak: float, bandwidth: float):
    """The roofline: the highest FLOP/s an op of this intensity can reach."""
    return np.minimum(peak, bandwidth * np.asarray(intensity, dtype=float))


def ridge_point(peak: float, bandwidth: float) -> float:
    """The intensity where the slanted roof meets the flat one (FLOP/byte)."""
    return peak / bandwidth


def bound(op: Op, peak: float, bandwidth: float) -> str:
    return "memory" if op.intensity < ridge_point(peak, bandwidth) else "compute"


# The PyTorch call that runs each kind of op in intensity.py on the inputs op_inputs makes. They write
# into a buffer allocated once: on a CPU, a fresh 100 MB output costs page faults that can take longer
# than the op (a GPU's caching allocator hides that). F.rms_norm has no out= and runs as several passes.
OP_FUNCTIONS = {
    "add": lambda x, y, out: torch.add(x, y, out=out),
    "softmax": lambda x, out: torch.softmax(x, -1, out=out),
    "rmsnorm": lambda x, w, out: F.rms_norm(x, w.shape, w),
    "matmul": lambda a, b, out: torch.mm(a, b, out=out),
}


def op_inputs(op: Op, device: torch.device, dtype: torch.dtype, random: bool = False) -> list[torch.Tensor]:
    """The op's input tensors. Timing fills them with a constant: values do not change these ops'
    speed, and drawing hundreds of MB of random numbers takes longer than the op itself."""
    if op.kind == "matmul":
        m, n, k = op.shape
        shapes = [(m, k), (k, n)]
    else:
        rows, cols = op.shape
        shapes = {"add": [(rows, cols)] * 2, "softmax": [(rows, cols)], "rmsnorm": [(rows, cols), (cols,)]}[op.kind]
    if random:
        return [torch.randn(s, device=device, dtype=dtype) for s in shapes]
    return [torch.full(s, 0.5, device=device, dtype=dtype) for s in shapes]


def output_shape(op: Op) -> tuple:
    return op.shape[:2] if op.kind == "matmul" else op.shape


def measure_op(op: Op, device: torch.device, dtype: torch.dtype, repeat: int = 3) -> Probe:
    """Time one op; the Probe's rates are its achieved FLOP/s."""
    fn, inputs = OP_FUNCTIONS[op.kind], op_inputs(op, device, dtype)
    out = torch.empty(output_shape(op), device=device, dtype=dtype)
    return Probe(op.name, op.flops, time_calls(lambda: fn(*inputs, out), device, warmup=1, repeat=repeat))


def plot_roofline(path: str | Path, roofs: list[tuple[str, float, float]],
                  points: list[tuple[str, float, float]], title: str) -> Path:
    """Log-log roofline PNG. roofs: (label, peak FLOP/s, bandwidth B/s); points: (label, FLOP/byte, FLOP/s)."""
    ridges = [ridge_point(p, b) for _, p, b in roofs]
    xs = [i for _, i, _ in points] + ridges
    x = np.logspace(np.log10(min(xs) / 4), np.log10(max(xs) * 4), 200)
    fig, ax = plt.subplots(figsize=(9, 6))
    for (label, peak, bw), ridge in zip(roofs, ridges):
        (line,) = ax.plot(x, attainable(x, peak, bw), lw=2,
                          label=f"{label}: {peak / 1e12:.3g} TFLOP/s, {bw / 1e9:.4g} GB/s, ridge {ridge:.3g}")
        ax.plot([ridge], [peak], "o", color=line.get_color(), mfc="white")
    for i, (label, intensity, flops) in enumerate(points):
        ax.plot([intensity], [flops], "k^")
        ax.annotate(label, (intensity, flops), textcoords="offset points", xytext=(5, -12 if i % 2 else 6), fontsize=8)
    ax.set(xscale="log", yscale="log", xlabel="arithmetic intensity (FLOP/byte)", ylabel="FLOP/s", title=title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path
