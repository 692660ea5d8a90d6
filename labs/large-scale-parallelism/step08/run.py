"""Print the production map: each piece of this lab beside where Picotron, Nanotron and Megatron-LM keep it."""
from __future__ import annotations

import argparse
import sys
import textwrap

from tabulate import tabulate

from mapping import PROJECTS, check, load


def short(entry: str) -> str:
    path, name = entry.split("::")
    return f"{path.rsplit('/', 1)[-1]}::{name}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--piece", type=int, default=0, help="print only piece N (1-based); 0 prints all")
    args = parser.parse_args(argv)
    table = load()
    pieces = table["piece"]
    if not 0 <= args.piece <= len(pieces):
        parser.error(f"--piece must be between 0 and {len(pieces)}")
    chosen = pieces if args.piece == 0 else [pieces[args.piece - 1]]
    for p in PROJECTS:
        s = table["sources"][p]
        what = f"{s['package']} {s['version']}" if "package" in s else f"repository at commit {s['version'][:7]}"
        print(f"{p}: {s['repository']} ({what}; names checked: {s['verified']})")
    for n, piece in enumerate(chosen, start=args.piece or 1):
        print(f"\n[{n}] {piece['name']} (step {piece['step']:02d})")
        rows = [["ours", "\n".join(f"{short(e)} {'ok' if check(e, '.') else 'MISSING'}" for e in piece["ours"])]]
        rows += [[p, "\n".join(piece[p]) or "(none)"] for p in PROJECTS]
        print(tabulate(rows, tablefmt="plain"))
        print(textwrap.fill(piece["differs"], width=100))
    return 0


if __name__ == "__main__":
    sys.exit(main())
