"""The four sharded-matmul cases: results against float64 NumPy, the collectives XLA chose, their bytes.

--earlier prints the earlier steps' tables (notation; AllGather; ReduceScatter and AllReduce; AllToAll).
"""
from __future__ import annotations

import argparse
import sys

from mesh import make_mesh  # first: sets XLA_FLAGS before jax starts

import jax  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import NamedSharding, PartitionSpec as P  # noqa: E402
from tabulate import tabulate  # noqa: E402

from collectives import all_gather, all_reduce, all_to_all, all_reduce_in_two_steps, book_bytes, reduce_scatter  # noqa: E402
from hlo import collectives, compiled_text  # noqa: E402
from notation import copies, local_shape, parse, shard  # noqa: E402
from sharded_matmul import CASES, CPU_CHOICES, book_comms, matmul_reduce_scatter, sharded_matmul  # noqa: E402

DEFAULT = ["A[I, J]", "A[I_X, J]", "A[I_X, J_Y]", "A[I_XY, J]", "A[I_Y, J_X]"]
TRANSPOSES = [("A[I_X, J]", "X", 1), ("A[I, J_X]", "X", 0), ("A[I_XY, J]", "XY", 1), ("A[I, J_YX]", "X", 0)]
GATHERS = [("A[I_X, J]", "X"), ("A[I_X, J_Y]", "Y"), ("A[I_XY, J]", "Y"), ("A[I_XY, J]", "XY")]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shape", type=int, nargs=2, default=[8, 16], metavar=("I", "J"))
    ap.add_argument("--mesh", type=int, nargs=2, default=[4, 2], metavar=("X", "Y"), help="mesh axis sizes, product <= 8")
    ap.add_argument("--notation", nargs="+", default=DEFAULT, help="arrays to place, e.g. 'A[I_X, J]'")
    ap.add_argument("--no-draw", action="store_true", help="skip jax.debug.visualize_array_sharding")
    ap.add_argument("--ijk", type=int, nargs=3, default=[16, 32, 24], metavar=("I", "J", "K"),
                    help="matmul sizes, each divisible by 8")
    ap.add_argument("--earlier", action="store_true", help="step 1's notation table instead")
    return ap.parse_args()


def report_notation(args, mesh) -> None:
    """Step 1: each notation's PartitionSpec, local shape, bytes per device and copies."""
    specs = [(n, parse(n, mesh)[2]) for n in args.notation]
    x = np.arange(np.prod(args.shape), dtype=np.float32).reshape(args.shape)
    print(f"mesh {dict(mesh.shape)} over {mesh.size} of {len(jax.devices())} devices; "
          f"A is float32 {tuple(args.shape)}, {x.nbytes} bytes")
    rows = []
    for n, spec in specs:
        loc = local_shape(x.shape, spec, mesh)
        c = copies(spec, mesh, x.ndim)
        per_device = int(np.prod(loc)) * x.itemsize
        rows.append([n, str(spec), loc, per_device, c, per_device * mesh.size])
    print(tabulate(rows, headers=["notation", "PartitionSpec", "local shape", "bytes/device", "copies", "bytes, all devices"]))
    if not args.no_draw:
        for n, _ in specs:
            print(f"\n{n}")
            jax.debug.visualize_array_sharding(shard(x, n, mesh))


def collective_row(label, fn, x, expected, out_notation, mesh, v, op):
    """Run fn(x), compare with the NumPy result, read the compiled collectives and their bytes."""
    got = np.asarray(fn(x))
    found = collectives(compiled_text(fn, x), mesh.size)
    ops = ", ".join(c.op for c in found) or "-"
    k = found[0].group_size if found else 1
    sent = sum(c.bytes_sent for c in found)
    return [label, out_notation, ops, k, f"{sent:g}", f"{book_bytes(op, v, k):g}", f"{np.abs(got - expected).max():g}"]


HEADERS = ["collective", "result", "ops in compiled HLO", "k", "bytes sent/device (HLO)", "book formula", "max |diff|"]


def report_all_gather(args, mesh) -> None:
    """Step 2: AllGather over one axis, the other, and both."""
    x = np.arange(np.prod(args.shape), dtype=np.float32).reshape(args.shape)
    rows = []
    for n, axes in GATHERS:
        fn, out = all_gather(mesh, n, axes)
        v = int(np.prod(local_shape(x.shape, parse(out, mesh)[2], mesh))) * x.itemsize  # the gathered block
        rows.append(collective_row(f"AllGather_{axes} {n}", fn, shard(x, n, mesh), x, out, mesh, v, "all-gather"))
    print(f"A is float32 {tuple(args.shape)} on mesh {dict(mesh.shape)}; book: (k-1)/k * V, V = the gathered block")
    print(tabulate(rows, headers=HEADERS))


def report_reductions(args, mesh) -> None:
    """Step 3: ReduceScatter, AllReduce, and AllReduce as ReduceScatter + AllGather, over X and over XY."""
    rows = []
    for axes in ("X", "XY"):
        k = int(np.prod([mesh.shape[a] for a in axes]))
        terms = np.random.default_rng(0).standard_normal((k, *args.shape)).astype(np.float32)
        s = jax.device_put(terms, NamedSharding(mesh, P(tuple(axes), None, None)))
        expected = terms.astype(np.float64).sum(0)
        v = terms[0].nbytes  # one device's unreduced array
        for label, fn, op in ((f"ReduceScatter_{axes}", reduce_scatter(mesh, axes), "reduce-scatter"),
                              (f"AllReduce_{axes}", all_reduce(mesh, axes), "all-reduce"),
                              (f"ReduceScatter+AllGather_{axes}", all_reduce_in_two_steps(mesh, axes), "all-reduce")):
            out = f"A[I_{axes}, J]" if op == "reduce-scatter" else "A[I, J]"
            rows.append(collective_row(f"{label} A[I, J]{{U_{axes}}}", fn, s, expected, out, mesh, v, op))
    print(f"each device holds a float32 {tuple(args.shape)} term; book: RS (k-1)/k * V, AR 2(k-1)/k * V, "
          f"V = one device's unreduced array")
    print(tabulate(rows, headers=HEADERS))


def report_all_to_all(args, mesh) -> None:
    """Step 4: AllToAll moves a subscript from one dimension to the other."""
    x = np.arange(np.prod(args.shape), dtype=np.float32).reshape(args.shape)
    rows = []
    for n, axes, to_dim in TRANSPOSES:
        fn, out = all_to_all(mesh, n, axes, to_dim)
        v = int(np.prod(local_shape(x.shape, parse(n, mesh)[2], mesh))) * x.itemsize  # one device's block
        rows.append(collective_row(f"AllToAll_{axes} {n}", fn, shard(x, n, mesh), x, out, mesh, v, "all-to-all"))
    print(f"A is float32 {tuple(args.shape)} on mesh {dict(mesh.shape)}; book: (k-1)/k * V, V = one device's block")
    print(tabulate(rows, headers=HEADERS))


def report_matmul(args, mesh) -> None:
    """Step 5: each case's collectives as XLA compiled them, beside the book's prediction."""
    sizes = dict(zip("IJK", args.ijk))
    rng = np.random.default_rng(0)
    a = rng.standard_normal((sizes["I"], sizes["J"])).astype(np.float32)
    b = rng.standard_normal((sizes["J"], sizes["K"])).astype(np.float32)
    ref = a.astype(np.float64) @ b
    fmt = lambda comms: ", ".join(f"{op}({k}) {sent:g}" for op, k, sent in comms) or "-"
    rows = []
    for c in CASES:
        fn, xa, xb = sharded_matmul(mesh, c), shard(a, c.a, mesh), shard(b, c.b, mesh)
        found = collectives(compiled_text(fn, xa, xb), mesh.size)
        hlo = fmt([(f.op, f.group_size, f.bytes_sent) for f in found])
        rows.append([c.case, f"{c.a} · {c.b} -> {c.c}", fmt(book_comms(mesh, c.comms, sizes)), hlo,
                     f"{np.abs(np.asarray(fn(xa, xb)) - ref).max():.2g}"])
    fn, xa, xb = matmul_reduce_scatter(mesh), shard(a, "A[I, J_X]", mesh), shard(b, "B[J_X, K]", mesh)
    found = collectives(compiled_text(fn, xa, xb), mesh.size)
    rows.append(["3 (shard_map)", "A[I, J_X] · B[J_X, K] -> C[I_X, K]",
                 fmt(book_comms(mesh, (("reduce-scatter", "C[I, K]", "X"),), sizes)),
                 fmt([(f.op, f.group_size, f.bytes_sent) for f in found]), f"{np.abs(np.asarray(fn(xa, xb)) - ref).max():.2g}"])
    print(f"float32, I, J, K = {args.ijk} on mesh {dict(mesh.shape)}; entries: collective(k) bytes sent per device")
    print(tabulate(rows, headers=["case", "matmul", "book predicts", "compiled HLO", "max |diff|"]))
    print(f"on this backend XLA departs from the book for: {', '.join(' · '.join(k) for k in CPU_CHOICES)}")


def main() -> None:
    args = parse_args()
    try:
        if min(args.shape) < 1:
            raise ValueError(f"--shape {args.shape}: sizes must be >= 1")
        mesh = make_mesh(tuple(args.mesh), ("X", "Y"))
        for n in args.notation:
            local_shape(tuple(args.shape), parse(n, mesh)[2], mesh)
        if any(n < 1 or n % mesh.size for n in args.ijk):
            raise ValueError(f"--ijk {args.ijk}: each size must be a positive multiple of {mesh.size}")
    except ValueError as e:
        sys.exit(f"error: {e}")
    if args.earlier:
        report_notation(args, mesh)
        report_all_gather(args, mesh)
        report_reductions(args, mesh)
        report_all_to_all(args, mesh)
        return
    try:
        report_matmul(args, mesh)
    except ValueError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
