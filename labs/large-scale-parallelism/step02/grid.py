"""A 4D process grid: rank <-> (dp, pp, cp, tp) coordinates, and the rank lists of every process group.

The layout is row-major over (dp, pp, cp, tp): tp varies fastest, so the ranks of one TP group are
neighbours (on a real cluster: the GPUs of one node, joined by the fastest links), and dp varies slowest.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

AXES = ("dp", "pp", "cp", "tp")   # slowest to fastest


@dataclass(frozen=True)
class Grid:
    dp: int = 1
    pp: int = 1
    cp: int = 1
    tp: int = 1

    def __post_init__(self):
        for axis in AXES:
            if not isinstance(getattr(self, axis), int) or getattr(self, axis) < 1:
                raise ValueError(f"{axis} must be a positive integer, got {getattr(self, axis)!r}")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(getattr(self, axis) for axis in AXES)

    @property
    def size(self) -> int:
        return self.dp * self.pp * self.cp * self.tp

    def coords(self, rank: int) -> dict[str, int]:
        """rank -> {"dp": i, "pp": j, "cp": k, "tp": l}: peel off the fastest axis first."""
        if not 0 <= rank < self.size:
            raise ValueError(f"rank {rank} is outside a grid of {self.size}")
        out = {}
        for axis in reversed(AXES):
            out[axis] = rank % getattr(self, axis)
            rank //= getattr(self, axis)
        return {axis: out[axis] for axis in AXES}

    def rank(self, **coords: int) -> int:
        """The inverse of coords(): ((dp * PP + pp) * CP + cp) * TP + tp; missing axes are 0."""
        r = 0
        for axis in AXES:
            c = coords.get(axis, 0)
            if not 0 <= c < getattr(self, axis):
                raise ValueError(f"{axis} = {c} is outside 0..{getattr(self, axis) - 1}")
            r = r * getattr(self, axis) + c
        return r

    def groups(self, *axes: str) -> list[list[int]]:
        """Every group that varies along `axes` (the other coordinates fixed): a partition of the ranks.

        groups("tp") are the TP groups; groups("dp", "cp") are the groups that average gradients
        when both data and context are split (every rank there holds the same weights).
        """
        for axis in axes:
            if axis not in AXES:
                raise ValueError(f"unknown axis {axis!r}; axes are {AXES}")
        fixed = [a for a in AXES if a not in axes]
        out = []
        for f in itertools.product(*(range(getattr(self, a)) for a in fixed)):
            base = dict(zip(fixed, f))
            out.append(sorted(self.rank(**base, **dict(zip(axes, v)))
                              for v in itertools.product(*(range(getattr(self, a)) for a in axes))))
        return out

    def group_of(self, rank: int, *axes: str) -> list[int]:
        """The ranks of the group along `axes` that contains `rank`."""
        return next(g for g in self.groups(*axes) if rank in g)


def layouts(world: int) -> list[Grid]:
    """Every grid of `world` ranks: all ways to write world = dp * pp * cp * tp."""
    divisors = [d for d in range(1, world + 1) if world % d == 0]
    return [Grid(dp, pp, cp, world // (dp * pp * cp))
            for dp in divisors for pp in divisors for cp in divisors
            if world % (dp * pp * cp) == 0]
