"""Print a 4D grid (rank -> coordinates, the groups of every axis), then check it with gloo collectives."""
from __future__ import annotations

import argparse
import sys

from tabulate import tabulate

from grid import AXES, Grid
from groups import KINDS, group_sums
from launch import launch


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    for axis, default in zip(AXES, (2, 2, 1, 2)):
        parser.add_argument(f"--{axis}", type=positive_int, default=default, help=f"{axis} size (default {default})")
    args = parser.parse_args(argv)
    grid = Grid(args.dp, args.pp, args.cp, args.tp)
    if grid.size > 16:
        parser.error(f"dp*pp*cp*tp = {grid.size}; this demo starts at most 16 processes")
    print(f"[1] grid dp={grid.dp} pp={grid.pp} cp={grid.cp} tp={grid.tp}: {grid.size} ranks, tp fastest")
    print(tabulate([[r, *grid.coords(r).values()] for r in range(grid.size)], headers=["rank", *AXES]))
    print("\n[2] groups along each axis (other coordinates fixed)")
    print(tabulate([["_".join(axes), len(grid.groups(*axes)), " ".join(map(str, grid.groups(*axes)))]
                    for axes in KINDS], headers=["axes", "groups", "ranks"]))
    sums = launch(group_sums, grid.size, grid)
    ok = all(sums[r][name] == sum(grid.group_of(r, *name.split("_"))) for r in range(grid.size) for name in sums[r])
    print(f"\n[3] gloo all_reduce(rank) in every group of every rank equals the sum of the group's ranks: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
