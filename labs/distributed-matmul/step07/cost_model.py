"""Predicted time of a sharded matmul on real hardware: FLOPs / peak beside bytes per link / link bandwidth.

The collectives and their shapes come from the compiled program (hlo.py); the hardware
numbers are published figures, each with its source. Two kinds of network:

  ring:   a TPU ICI axis with its wraparound link. Each device has a link to each neighbour,
          and a collective sends half its bytes each way round (the scaling book's model).
  switch: NVLink through NVSwitch, or InfiniBand: each device has one port of the given
          bandwidth into a switch that never limits; what a device sends goes through its port.

The CPU compiler computes a bf16 matmul in float32 and communicates float32, so we compile
in float32, read element counts from the HLO, and price each element at `itemsize` bytes.
"""
from __future__ import annotations

from dataclasses import dataclass

from hlo import Collective, collectives


@dataclass(frozen=True)
class Hardware:
    name: str
    peak_flops: float      # dense bf16 FLOP/s per chip
    link_bandwidth: float  # bytes/s, one direction: per ICI link (ring) or per device port (switch)
    topology: str          # "ring" or "switch"
    sources: tuple[str, ...]


HARDWARE = [
    Hardware("TPU v5e, ICI", 1.97e14, 4.5e10, "ring",
             ("https://cloud.google.com/tpu/docs/v5e", "https://jax-ml.github.io/scaling-book/tpus/")),
    Hardware("H100 SXM, NVLink", 9.89e14, 4.5e11, "switch",  # 900 GB/s both directions together
             ("https://www.nvidia.com/en-us/data-center/h100/", "https://jax-ml.github.io/scaling-book/gpus/")),
    Hardware("H100 SXM, InfiniBand NDR", 9.89e14, 5.0e10, "switch",  # one 400 Gb/s ConnectX-7 port per GPU
             ("https://docs.nvidia.com/dgx/dgxh100-user-guide/introduction-to-dgxh100.html",
              "https://jax-ml.github.io/scaling-book/gpus/")),
]


def link_bytes(c: Collective, topology: str, scale: float = 1.0) -> float:
    """Bytes over the busiest link in one direction (scale: bytes per element / the HLO's bytes per element)."""
    k = c.group_size
    if topology == "switch":
        return c.bytes_sent * scale  # all of it through the device's own port
    if c.op == "collective-permute":
        return c.operand_bytes * scale  # a shift to one neighbour: one direction carries it all
    if c.op == "all-to-all":
        # piece p travels |p - me| hops, half the pieces each way: k^2/8 pieces of operand/k per link (k even)
        pieces = k * k / 8 if k % 2 == 0 else (k * k - 1) / 8
        return pieces * c.operand_bytes / k * scale
    return c.bytes_sent / 2 * scale  # ring all-gather / reduce-scatter / all-reduce: half each way


def predict(flops: float, found: list[Collective], hw: Hardware, scale: float = 1.0) -> dict:
    """Compute time, communication time and their bound, one device's view."""
    per_link = sum(link_bytes(c, hw.topology, scale) for c in found)
    t_compute = flops / hw.peak_flops
    t_comm = per_link / hw.link_bandwidth
    return {"flops": flops, "link_bytes": per_link, "t_compute": t_compute, "t_comm": t_comm,
            "t_serial": t_compute + t_comm, "t_overlapped": max(t_compute, t_comm),
            "bound": "compute" if t_compute >= t_comm else "comm"}


def analyse(fn, *avals) -> tuple[float, list[Collective]]:
    """One device's FLOPs (XLA's cost analysis) and the collectives, from the compiled program."""
    compiled = fn.lower(*avals).compile()
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    return float(cost["flops"]), collectives(compiled.as_text())
