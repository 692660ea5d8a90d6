"""Check the map's entries against the production source trees; record what was found.

    python verify_map.py --megatron DIR --nanotron DIR --picotron DIR

For megatron and nanotron, DIR is where the release wheel was unpacked (it contains megatron/ or
nanotron/), for example `pip download --no-deps megatron-core==0.16.1` then `unzip` the .whl.
For picotron (no releases), DIR is a checkout of its repository at the commit the map names.
Writes results/verified_names.json.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dlc_shared.bench import write_result
from mapping import check, entries, load


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megatron", required=True, help="unpacked megatron-core wheel")
    parser.add_argument("--nanotron", required=True, help="unpacked nanotron wheel")
    parser.add_argument("--picotron", required=True, help="picotron repository checked out at the map's commit")
    args = parser.parse_args(argv)
    table = load()
    found = {}
    for project, root in (("megatron", args.megatron), ("nanotron", args.nanotron), ("picotron", args.picotron)):
        if not (Path(root) / project).is_dir():
            parser.error(f"{root} has no {project}/ folder: unpack the wheel (or check out the repository) there first")
        found[project] = {e: check(e, root) for e in entries(table, project)}
        print(f"{project} {table['sources'][project]['version']}: "
              f"{sum(found[project].values())} of {len(found[project])} entries found")
        for e, ok in found[project].items():
            if not ok:
                print(f"  missing: {e}")
    write_result("verified_names", {"versions": {p: table["sources"][p]["version"] for p in found},
                                    "found": found}, packages=())
    return 0 if all(all(v.values()) for v in found.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
