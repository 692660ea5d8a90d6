"""rank <-> coordinates and the groups, for every layout of 1..16 ranks, against an independent reference."""
import itertools

import pytest
import torch

from grid import AXES, Grid, layouts

ALL = [g for world in (1, 2, 4, 6, 8, 12, 16) for g in layouts(world)]


def test_layouts_are_all_factorizations():
    # 8 = 2^3 spread over 4 axes: C(3 + 3, 3) = 20 ways; 12 = 2^2 * 3: C(5, 3) * C(4, 3) = 40.
    assert len(layouts(8)) == 20 and len(layouts(12)) == 40 and len(layouts(1)) == 1
    assert len(ALL) == len(set(ALL))


def test_rank_and_coords_agree_with_a_reshaped_arange():
    for grid in ALL:
        # Reference: the rank numbers laid out as a (dp, pp, cp, tp) tensor, row-major (Picotron builds its grid so).
        table = torch.arange(grid.size).view(*grid.shape)
        for idx in itertools.product(*(range(n) for n in grid.shape)):
            r = int(table[idx])
            assert grid.coords(r) == dict(zip(AXES, idx)), grid
            assert grid.rank(**dict(zip(AXES, idx))) == r, grid


def test_groups_partition_the_ranks_along_their_axes():
    for grid in ALL:
        check_groups(grid)


def check_groups(grid):
    table = torch.arange(grid.size).view(*grid.shape)
    for k in range(1, 5):
        for axes in itertools.combinations(AXES, k):
            groups = grid.groups(*axes)
            assert sorted(r for g in groups for r in g) == list(range(grid.size))
            size = 1
            for a in axes:
                size *= getattr(grid, a)
            assert all(len(g) == size for g in groups)
            # Reference: move the group's axes last and flatten them: each row is one group.
            dims = [AXES.index(a) for a in AXES if a not in axes] + [AXES.index(a) for a in axes]
            rows = table.permute(*dims).reshape(-1, size)
            assert sorted(sorted(row.tolist()) for row in rows) == sorted(groups)


def test_bad_grids_are_refused():
    with pytest.raises(ValueError):
        Grid(dp=0)
    with pytest.raises(ValueError):
        Grid(2, 1, 1, 2).coords(4)
    with pytest.raises(ValueError):
        Grid(2, 1, 1, 2).rank(tp=2)
    with pytest.raises(ValueError):
        Grid(2).groups("ep")
