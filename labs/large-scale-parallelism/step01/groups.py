"""Process groups for a Grid: every rank creates every group (dist.new_group is collective), keeps its own."""
from __future__ import annotations

import torch
import torch.distributed as dist

from grid import Grid

# The groups a 4D run needs: one per axis, plus the data-parallel group widened by cp
# (gradients of weights that every dp and cp rank holds are averaged over both).
KINDS = (("dp",), ("pp",), ("cp",), ("tp",), ("dp", "cp"))


class Groups:
    """This rank's groups along each axis: .group[name], .ranks[name] and .index[name] (its place in the group)."""

    def __init__(self, grid: Grid, rank: int):
        self.grid, self.rank = grid, rank
        self.coords = grid.coords(rank)
        self.group, self.ranks, self.index = {}, {}, {}
        for axes in KINDS:
            name = "_".join(axes)
            for ranks in grid.groups(*axes):
                g = dist.new_group(ranks)    # every rank calls new_group for every group, in the same order
                if rank in ranks:
                    self.group[name], self.ranks[name] = g, ranks
                    self.index[name] = ranks.index(rank)

    def size(self, name: str) -> int:
        return len(self.ranks[name])

    def axis(self, name: str) -> "Axis":
        return Axis(self.group[name], len(self.ranks[name]), self.index[name], self.ranks[name])


class Axis:
    """One of this rank's groups: the gloo group, its size, this rank's index in it, and the global ranks."""

    def __init__(self, group, size: int, index: int, ranks: list[int]):
        self.group, self.size, self.index, self.ranks = group, size, index, ranks


def group_sums(rank: int, world: int, grid: Grid) -> dict:
    """all_reduce(rank) over each of this rank's groups: the sum of the group's ranks if the groups are right."""
    g = Groups(grid, rank)
    out = {}
    for axes in KINDS:
        name = "_".join(axes)
        t = torch.tensor([float(rank)])
        dist.all_reduce(t, group=g.group[name])
        out[name] = int(t.item())
    return out
