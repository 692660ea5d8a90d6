"""Read the collectives out of a compiled XLA program, and the bytes each one moves.

`jax.jit(f).lower(*args).compile().as_text()` is the program after XLA's SPMD
partitioner: the per-device code, with every collective it decided to insert.
Each collective line names its result shape, its operands and its groups, e.g.

    %all-gather = f32[64,32]{1,0} all-gather(%p), replica_groups={{0,2,4,6},{1,3,5,7}}, dimensions={0}

Shapes are per device. From them and the group size k, the bytes one device sends
follow from how the collective is done on a ring (each formula is in `bytes_sent`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

COLLECTIVES = ("all-gather", "reduce-scatter", "all-reduce", "all-to-all", "collective-permute")
DTYPE_BYTES = {"pred": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "f16": 2, "bf16": 2, "s32": 4, "u32": 4,
               "f32": 4, "s64": 8, "u64": 8, "f64": 8, "c64": 8, "c128": 16}

_INSTR = re.compile(r"^\s*(?:ROOT\s+)?%?(?P<name>[\w.\-]+)\s*=\s*(?P<shape>.+?)\s+(?P<op>[a-z][a-z0-9\-_]*)\((?P<args>[^)]*)\)(?P<attrs>.*)$")
_ARRAY = re.compile(r"\b([a-z]+\d*)\[([\d,]*)\]")
_LIST_GROUPS = re.compile(r"replica_groups=\{((?:\{[\d,]*\},?)*)\}")
_IOTA_GROUPS = re.compile(r"replica_groups=\[(\d+),(\d+)\]<=")
_MESH_GROUPS = re.compile(r"replica_groups=mesh\[([^\]]*)\]\s*\{([^}]*)\}")
_OPERAND = re.compile(r"(?:([a-z]+\d*\[[\d,]*\](?:\{[^}]*\})?)\s+)?%([\w.\-]+)")
_PAIRS = re.compile(r"source_target_pairs=\{((?:\{\d+,\d+\},?)*)\}")


def shape_bytes(shape: str) -> int:
    """Bytes of an HLO shape: 'f32[8,16]{1,0}' -> 512; a tuple '(f32[2], f32[2])' -> the sum."""
    total = 0
    for dtype, dims in _ARRAY.findall(shape):
        if dtype not in DTYPE_BYTES:
            raise ValueError(f"unknown HLO element type {dtype!r} in {shape!r}")
        total += DTYPE_BYTES[dtype] * math.prod(int(d) for d in dims.split(",") if d)
    return total


@dataclass(frozen=True)
class Collective:
    op: str              # one of COLLECTIVES
    operand_bytes: int   # per device: what goes in
    result_bytes: int    # per device: what comes out
    group_size: int      # k: devices that take part together
    n_groups: int        # independent groups running the same collective side by side
    line: str

    @property
    def bytes_sent(self) -> float:
        """Bytes one device sends, done on a ring of k devices (the scaling book's algorithms).

        all-gather:      k-1 steps, each forwards one shard          = (k-1)/k * result
        reduce-scatter:  k-1 steps, each forwards one partial shard  = (k-1)/k * operand
        all-reduce:      a reduce-scatter, then an all-gather        = 2(k-1)/k * operand
        all-to-all:      keeps 1/k of its data, sends the rest       = (k-1)/k * operand
        collective-permute: sends its whole operand to one peer      = operand
        """
        k = self.group_size
        if self.op == "all-gather":
            return (k - 1) * self.operand_bytes
        if self.op == "reduce-scatter":
            return (k - 1) * self.result_bytes
        if self.op == "all-reduce":
            return 2 * (k - 1) * self.operand_bytes / k
        if self.op == "all-to-all":
            return (k - 1) * self.operand_bytes / k
        return self.operand_bytes


def _groups(attrs: str, n_devices: int) -> tuple[int, int]:
    """(group size, number of groups) from any of the replica-group spellings XLA prints."""
    if m := _PAIRS.search(attrs):
        pairs = re.findall(r"\{(\d+),(\d+)\}", m.group(1))
        return len({int(s) for s, _ in pairs}), 1
    if m := _LIST_GROUPS.search(attrs):
        groups = [g for g in re.findall(r"\{([\d,]*)\}", m.group(1))]
        if not groups or groups == [""]:
            return n_devices, 1  # {} means every device in one group
        return len(groups[0].split(",")), len(groups)
    if m := _IOTA_GROUPS.search(attrs):
        return int(m.group(2)), int(m.group(1))
    if m := _MESH_GROUPS.search(attrs):
        sizes = {a: int(n) for a, n in re.findall(r"'(\w+)'=(\d+)", m.group(1))}
        k = math.prod(sizes[a] for a in re.findall(r"'(\w+)'", m.group(2)))
        return k, math.prod(sizes.values()) // k
    raise ValueError(f"cannot read the replica groups of: {attrs[:120]}")


def collectives(hlo_text: str, n_devices: int = 8) -> list[Collective]:
    """Every collective in a compiled program's text, in program order."""
    shapes, found = {}, []
    for line in hlo_text.splitlines():
        m = _INSTR.match(line)
        if not m:
            continue
        shapes[m.group("name")] = m.group("shape")
        op = m.group("op").removesuffix("-start")
        if op not in COLLECTIVES:
            continue
        # an operand is written '%name' (its shape was defined earlier) or 'f32[8,16]{1,0} %name'
        operand_bytes = sum(shape_bytes(inline or shapes[name]) for inline, name in _OPERAND.findall(m.group("args")))
        k, n_groups = _groups(m.group("attrs"), n_devices)
        found.append(Collective(op, operand_bytes, shape_bytes(m.group("shape")), k, n_groups, line.strip()))
    return found


def compiled_text(fn, *args) -> str:
    """The optimized, partitioned program XLA runs for fn(*args)."""
    return fn.lower(*args).compile().as_text()
