"""The whole lab's before/after table from one recorded bench.py run, placed on the roofline.

    python lab_table.py                          # reads results/bench-cpu.json, draws results/roofline.png
    python lab_table.py --results other.json     # another record (a GPU run: results/bench-cuda.json)

Every point sits at its counted intensity (FLOPs / bytes) and its measured FLOP/s; the roof is
min(peak, bandwidth x intensity) with both ceilings measured in the same run. A fused variant
moves fewer bytes for the same FLOPs, so its point moves right (and, if it is faster, up).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from tabulate import tabulate


def load(path: Path) -> dict:
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise SystemExit(f"error: cannot read the bench record {path}: {e}") from None
    if "results" not in record or "ceilings" not in record:
        raise SystemExit(f"error: {path} is not a bench.py record (no results/ceilings)")
    return record


def table(record: dict) -> list[list]:
    """op, variant, ms, speedup over the op's first variant, FLOP/byte, GFLOP/s, % of the roof at that intensity."""
    return [[r["op"], r["name"], r["ms"], r["speedup"], r["intensity"], r["GFLOP_s"],
             100 * r["GFLOP_s"] / r["roofline_GFLOP_s"]] for r in record["results"]]


def plot(record: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    roof = record["ceilings"]
    rows = record["results"]
    xs = np.logspace(np.log10(min(r["intensity"] for r in rows) / 4), np.log10(max(r["intensity"] for r in rows) * 8))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.loglog(xs, np.minimum(roof["peak_GFLOP_s"], roof["bandwidth_GB_s"] * xs), "k-", label="roofline (measured)")
    ops = sorted({r["op"] for r in rows})
    for i, op in enumerate(ops):
        pts = [r for r in rows if r["op"] == op]
        color = f"C{i}"
        ax.plot([p["intensity"] for p in pts], [p["GFLOP_s"] for p in pts], "--", color=color, alpha=0.5)
        for p, marker in zip(pts, "os^"):
            ax.plot(p["intensity"], p["GFLOP_s"], marker, color=color, label=f"{op}: {p['name']}")
    ax.set_xlabel("arithmetic intensity (FLOP/byte, counted)")
    ax.set_ylabel("GFLOP/s (measured)")
    ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None) -> list[list]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=Path("results/bench-cpu.json"), help="a bench.py --json record")
    ap.add_argument("--png", type=Path, default=Path("results/roofline.png"), help="where to draw the plot")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    record = load(args.results)
    roof = record["ceilings"]
    print(f"{args.results}: {record['hardware']['cpu']}, load average {record['load_average_1_5_15min']}; "
          f"roofs {roof['bandwidth_GB_s']:.1f} GB/s and {roof['peak_GFLOP_s']:.1f} GFLOP/s "
          f"(ridge {roof['peak_GFLOP_s'] / roof['bandwidth_GB_s']:.1f} FLOP/byte)")
    rows = table(record)
    print(tabulate(rows, headers=["op", "variant", "ms", "speedup", "FLOP/byte", "GFLOP/s", "% of roof"],
                   floatfmt=".3g"))
    for r in record["results"]:
        if "compile_s" in r:
            print(f"{r['op']}, torch.compile: {r['compile_s']:.1f} s of compiling before the first step")
    if not args.no_plot:
        plot(record, args.png)
        print(f"wrote {args.png}")
    return rows


if __name__ == "__main__":
    main()
