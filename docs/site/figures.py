"""Figures drawn from code at site build: an id -> a function that returns SVG text.

A card or step README places one with a line of its own

    <!-- figure: roofline -->

(an HTML comment, so GitHub shows nothing), and the site shows it as
<figure><img alt=…><figcaption>…</figcaption></figure>. Every figure comes from the formulas
or the recorded results the labs use: lab code is read from the lab's own files (`lab_defs`
takes the named functions, classes and constants out of a file without importing its torch
imports; `lab_modules` imports pure-Python modules), recorded numbers from the step's
`results/`. No picture is stored in the repository.

Figures whose `step_plot` is set are the plots a step's run draws: the step page shows them
by itself when the step's run.py calls that function, from what the step recorded.
Labels inside the pictures are English (like the labs' own plots, and no font is needed);
alt text and captions are Korean.
"""
from __future__ import annotations

import ast
import importlib
import io
import json
import shutil
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


class FigureError(Exception):
    """A figure cannot be drawn (its lab code or record is missing); the message says why."""


@dataclass
class Drawn:
    svg: str
    alt: str
    caption: str


@dataclass
class Figure:
    id: str
    draw: Callable[["Context"], Drawn]
    step_plot: str | None = None  # a run.py function that draws this plot: its steps show it
    per_step: bool = False        # drawn from the step folder it is shown in


@dataclass
class Context:
    root: Path
    step_dir: Path | None = None  # the step folder (READMEs and step pages); None on cards


FIGURES: dict[str, Figure] = {}


def figure(fid: str, step_plot: str | None = None):
    def register(fn):
        FIGURES[fid] = Figure(fid, fn, step_plot, per_step=step_plot is not None)
        return fn
    return register


# ---- reading the labs --------------------------------------------------------------------
def lab_defs(files: list[Path], names: set[str]) -> dict:
    """The named top-level functions, classes and assignments of these lab files, executed in
    one namespace in file order (so a later file may use an earlier file's names). Imports are
    skipped: only pure definitions are taken."""
    module = types.ModuleType("lab_defs")  # dataclasses look their module up in sys.modules
    ns, found = module.__dict__, set()
    exec("import math\nfrom dataclasses import dataclass\n", ns)
    sys.modules["lab_defs"] = module
    try:
        for file in files:
            if not file.is_file():
                raise FigureError(f"{file}: missing")
            tree = ast.parse(file.read_text(encoding="utf-8"), str(file))
            keep = []
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names:
                    keep.append(node)
                    found.add(node.name)
                elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    hit = {t.id for t in targets if isinstance(t, ast.Name)} & names
                    if hit:
                        keep.append(node)
                        found |= hit
            exec(compile(ast.Module(keep, []), str(file), "exec"), ns)
    finally:
        sys.modules.pop("lab_defs", None)
    if names - found:
        raise FigureError(f"{', '.join(sorted(names - found))} not found in {', '.join(map(str, files))}")
    return ns


def lab_modules(step_dir: Path, *names: str) -> list:
    """Import a step's pure-Python modules (their own imports resolved inside the step)."""
    saved_path = sys.path[:]
    clash = {n: sys.modules.pop(n) for n in list(sys.modules) if n in names}
    sys.path.insert(0, str(step_dir))
    try:
        return [importlib.import_module(n) for n in names]
    except Exception as e:
        raise FigureError(f"{step_dir}: cannot import {', '.join(names)}: {e}") from e
    finally:
        sys.path[:] = saved_path
        for n in names:
            sys.modules.pop(n, None)
        sys.modules.update(clash)


def steps_of(root: Path, path_id: str) -> list[Path]:
    return sorted(p for p in (root / "labs" / path_id).glob("step[0-9][0-9]") if p.is_dir())


def last_step_with(root: Path, path_id: str, *files: str) -> Path:
    hits = [s for s in steps_of(root, path_id) if all((s / f).is_file() for f in files)]
    if not hits:
        raise FigureError(f"no step of labs/{path_id} has {', '.join(files)}")
    return hits[-1]


def rel(root: Path, p: Path) -> str:
    return p.relative_to(root).as_posix()


# ---- drawing helpers ---------------------------------------------------------------------
def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"svg.hashsalt": "dlc-figures", "svg.fonttype": "path", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None},
                facecolor="white")
    _plt().close(fig)
    return buf.getvalue()


def _dot_svg(source: str) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise FigureError("Graphviz `dot` not found")
    proc = subprocess.run([dot, "-Tsvg"], input=source, text=True, capture_output=True)
    if proc.returncode != 0:
        raise FigureError(f"dot failed: {proc.stderr.strip()}")
    return proc.stdout


def _si(x: float, unit: str) -> str:
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M")):
        if x >= scale:
            return f"{x / scale:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}"


# ---- the roofline ------------------------------------------------------------------------
def attainable(intensity: float, peak: float, bandwidth: float) -> float:
    """The roofline formula of labs/roofline (roofline.py): min(peak, bandwidth * intensity)."""
    return min(peak, bandwidth * intensity)


def cpu_ceilings(record: dict) -> dict:
    """This CPU's ceilings from a ceilings-*.json record (labs/roofline step 4's bench.py):
    peak = the best GEMM probe; DRAM bandwidth = the best probe at the largest arrays (past the
    caches, as measure_ceilings does); cache bandwidth = the best probe at the smallest arrays."""
    rows = record["results"]
    gemm = [r for r in rows if r["unit"] == "GFLOP/s"]
    stream = [r for r in rows if r["unit"] == "GB/s"]
    mib = lambda r: float(r["size"].split()[0])
    big, small = max(map(mib, stream)), min(map(mib, stream))
    return {"device": record.get("device", "CPU"),
            "peak": max(r["best"] for r in gemm) * 1e9,
            "dram": max(r["best"] for r in stream if mib(r) == big) * 1e9, "dram_mib": big,
            "cache": max(r["best"] for r in stream if mib(r) == small) * 1e9, "cache_mib": small}


def _roofline_axes(roofs, points, title, xmin=None, xmax=None):
    """roofs: (label, peak, bandwidth, style); points: (label, intensity, flops, marker)."""
    plt = _plt()
    ridges = [peak / bw for _, peak, bw, _ in roofs]
    xs = [i for _, i, _, _ in points] + ridges
    lo, hi = xmin or min(xs) / 4, xmax or max(xs) * 4
    grid = [lo * (hi / lo) ** (k / 400) for k in range(401)]
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    offsets = [(6, 6), (6, -14), (-96, 6), (-96, -14)]  # ridges of similar machines sit close together
    for k, ((label, peak, bw, style), ridge) in enumerate(zip(roofs, ridges)):
        (line,) = ax.plot(grid, [attainable(x, peak, bw) for x in grid], style, lw=2,
                          label=f"{label}: {_si(peak, 'FLOP/s')}, {_si(bw, 'B/s')}")
        ax.plot([ridge], [peak], "o", color=line.get_color(), mfc="white", ms=7)
        ax.annotate(f"ridge {ridge:.3g} FLOP/B", (ridge, peak), textcoords="offset points",
                    xytext=offsets[k % len(offsets)], fontsize=8, color=line.get_color())
    for i, (label, intensity, flops, marker) in enumerate(points):
        ax.plot([intensity], [flops], marker, color="black", mfc="white" if marker.endswith("o") else "black", ms=6)
        ax.annotate(label, (intensity, flops), textcoords="offset points", xytext=(5, -11 if i % 2 else 5),
                    fontsize=7.5)
    ax.set(xscale="log", yscale="log", xlabel="arithmetic intensity (FLOP/byte)",
           ylabel="attainable FLOP/s", title=title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7.5, loc="lower right")
    return fig


def _roofline_lab(root: Path, step: Path | None = None) -> tuple[Path, dict]:
    step = step or last_step_with(root, "roofline", "ceilings.py", "intensity.py")
    ns = lab_defs([step / "ceilings.py", step / "matmul.py", step / "intensity.py"],
                  {"DATASHEET", "matmul_flops", "matmul_bytes_ideal", "Op", "matmul_op", "add_op",
                   "softmax_op", "rmsnorm_op", "standard_ops"})
    return step, ns


def _ceilings_record(root: Path, upto: Path | None = None) -> tuple[Path, dict]:
    """The latest ceilings-cpu.json of labs/roofline at or before step `upto`."""
    steps = [s for s in steps_of(root, "roofline") if upto is None or s.name <= upto.name]
    for step in reversed(steps):
        f = step / "results" / "ceilings-cpu.json"
        if f.is_file():
            return f, json.loads(f.read_text(encoding="utf-8"))
    raise FigureError("no labs/roofline/stepNN/results/ceilings-cpu.json recorded")


@figure("roofline")
def roofline(ctx: Context) -> Drawn:
    _, ns = _roofline_lab(ctx.root)
    rec_file, record = _ceilings_record(ctx.root)
    cpu = cpu_ceilings(record)
    h100 = next((k, v) for k, v in ns["DATASHEET"].items() if k.startswith("H100"))
    ops = ns["standard_ops"](itemsize=2)
    h100_ridge = h100[1][0] / h100[1][1]
    memory = [op.name for op in ops if op.intensity < h100_ridge]
    compute = [op.name for op in ops if op.intensity >= h100_ridge]
    roofs = [(f"H100 SXM bf16 (datasheet)", *h100[1], "-"),
             (f"this CPU fp32, DRAM ({cpu['dram_mib']:g} MiB arrays)", cpu["peak"], cpu["dram"], "-"),
             (f"this CPU fp32, cache ({cpu['cache_mib']:g} MiB arrays)", cpu["peak"], cpu["cache"], "--")]
    points = [(op.name, op.intensity, attainable(op.intensity, *h100[1]), "o") for op in ops]
    fig = _roofline_axes(roofs, points, "Roofline: H100 (datasheet) and this lab's CPU (recorded)",
                         xmin=0.05, xmax=3000)
    return Drawn(
        _svg(fig),
        alt=(f"로그-로그 roofline 그림. H100 bf16 지붕은 대역폭 3.35 TB/s의 기울어진 선이 리지 {h100_ridge:.0f} FLOP/byte에서 "
             f"989 TFLOP/s 평평한 지붕과 만난다. 아래에 이 실습 CPU의 지붕(최대 {cpu['peak'] / 1e9:.0f} GFLOP/s, DRAM "
             f"{cpu['dram'] / 1e9:.1f} GB/s, 캐시 {cpu['cache'] / 1e9:.0f} GB/s)이 있다. H100 지붕 위의 점 가운데 "
             f"{', '.join(memory)}는 기울어진(memory-bound) 쪽, {', '.join(compute) or '없음'}은 평평한(compute-bound) 쪽에 놓인다."),
        caption=(f"attainable = min(peak, 대역폭 × 강도). H100 값은 NVIDIA 데이터시트(dense bf16), CPU 천장은 "
                 f"{rel(ctx.root, rec_file)}에 기록된 측정값(가장 좋은 GEMM, 가장 큰/작은 배열의 STREAM). "
                 "점은 roofline 실습의 연산들(bf16)을 H100 지붕 위에 놓은 모델 값이다."))


def _run_record(step: Path) -> tuple[Path, dict] | None:
    files = sorted((step / "results").glob("run-*.json"))
    if not files:
        return None
    return files[0], json.loads(files[0].read_text(encoding="utf-8"))


def _step_roofs(ctx: Context, ns: dict, record: dict | None) -> tuple[list, str, str]:
    """This machine's roof (the run's record, else the ceilings recorded at an earlier step) and
    the datasheet GPUs'. Returns roofs, the machine's description, where its numbers come from."""
    gpus = [(name.replace(" (datasheet, bf16)", " bf16 (datasheet)"), p, b, ":") for name, (p, b) in ns["DATASHEET"].items()]
    if record and "ceilings" in record:
        c = record["ceilings"]
        here = (f"{record.get('device', 'this machine')} (recorded run)", c["peak_flops"], c["bandwidth_bytes_per_s"], "-")
        return [here] + gpus, record.get("device", "이 기계"), "run"
    rec_file, rec = _ceilings_record(ctx.root, ctx.step_dir)
    cpu = cpu_ceilings(rec)
    here = (f"this CPU fp32 (ceilings recorded in {rec_file.parent.parent.name})", cpu["peak"], cpu["dram"], "-")
    return [here] + gpus, cpu["device"], rel(ctx.root, rec_file)


@figure("roofline-run", step_plot="show_roofline")
def roofline_run(ctx: Context) -> Drawn:
    step = ctx.step_dir
    _, ns = _roofline_lab(ctx.root, step)
    run = _run_record(step)
    roofs, device, source = _step_roofs(ctx, ns, run[1] if run else None)
    if run and run[1].get("roofline"):
        points = [(r["op"], r["intensity"], r["measured_gflops"] * 1e9, "^") for r in run[1]["roofline"]]
        note = (f"{rel(ctx.root, run[0])}에 기록된 실행에서 그렸다({device}): 삼각형이 측정한 연산, "
                "선이 그 실행이 잰 이 기계의 지붕과 데이터시트의 H100/H200 지붕이다.")
        alt_pts = "측정한 연산들이 삼각형으로"
    else:
        here = roofs[0]
        points = [(op.name, op.intensity, attainable(op.intensity, here[1], here[2]), "o")
                  for op in ns["standard_ops"]()]
        note = (f"이 단계의 results/에는 연산별 측정값이 기록되어 있지 않아, 이 기계의 천장은 {source}의 기록에서, "
                "점(흰 원)은 연산들의 강도(공식, float32)를 이 기계의 지붕 위에 놓은 모델 값으로 그렸다. "
                "측정점은 `--json`으로 실행하면 results/run-cpu.json에 남는다.")
        alt_pts = "연산들이 흰 원(모델 값)으로"
    fig = _roofline_axes(roofs, points, "Roofline of this step's run")
    return Drawn(_svg(fig),
                 alt=(f"로그-로그 roofline 그림: 이 기계({device})의 지붕과 H100/H200 데이터시트 지붕, "
                      f"그 아래에 {alt_pts} 찍혀 있다."),
                 caption=f"이 단계의 실행이 그리는 그림(results/roofline.png)을 사이트에서 다시 그린 것. {note}")


@figure("prefill-decode-run", step_plot="show_prefill_decode")
def prefill_decode_run(ctx: Context) -> Drawn:
    step = ctx.step_dir
    _, ns = _roofline_lab(ctx.root, step)
    tns = lab_defs([step / "matmul.py", step / "intensity.py", step / "transformer_ops.py"],
                   {"matmul_flops", "matmul_bytes_ideal", "Op", "matmul_op", "rmsnorm_op", "LayerShape",
                    "LLAMA3_8B", "attention_op", "layer_ops", "total"})
    run = _run_record(step)
    roofs, device, source = _step_roofs(ctx, ns, run[1] if run else None)
    h100 = next(v for k, v in ns["DATASHEET"].items() if k.startswith("H100"))
    shape, points = tns["LLAMA3_8B"], []
    prompt = context = 2048
    if run:
        prompt = run[1].get("args", {}).get("prompt", prompt)
        context = run[1].get("args", {}).get("context", context)
    for label, batch, q, kv in [(f"prefill {prompt}", 1, prompt, prompt)] + [
            (f"decode B={b}", b, 1, context) for b in (1, 16, 256)]:
        layer = tns["total"](tns["layer_ops"](shape, batch, q, kv), label)
        points.append((f"{shape.name} {label} (H100 roof)", layer.intensity, attainable(layer.intensity, *h100), "o"))
    if run and run[1].get("decode_sweep"):
        points = [(f"B={r['tokens']} measured", r["intensity"], r["measured_gflops"] * 1e9, "^")
                  for r in run[1]["decode_sweep"]] + points
        note = f"삼각형은 {rel(ctx.root, run[0])}에 기록된 decode 모양 matmul 측정값({device})이다."
    else:
        note = (f"이 단계의 results/에는 decode 모양 matmul의 측정값이 기록되어 있지 않아, 이 기계의 지붕은 {source}의 "
                "기록에서 가져오고 측정점 없이 모델 값만 그렸다. `--json`으로 실행하면 results/run-cpu.json에 남는다.")
    fig = _roofline_axes(roofs, points, f"Prefill vs decode: one {shape.name} layer (bf16, model)")
    return Drawn(_svg(fig),
                 alt=(f"로그-로그 roofline 그림: {shape.name} 한 층의 prefill은 H100 지붕의 평평한(compute-bound) 쪽, "
                      "decode는 batch가 작을수록 기울어진(memory-bound) 쪽에 놓인다."),
                 caption=("이 단계의 실행이 그리는 그림(results/prefill_decode.png)을 사이트에서 다시 그린 것. 흰 원은 "
                          f"transformer_ops.py의 층 모델(context {context})을 H100 지붕 위에 놓은 값. {note}"))


# ---- training memory ---------------------------------------------------------------------
@figure("training-memory")
def training_memory(ctx: Context) -> Drawn:
    step = last_step_with(ctx.root, "training-memory", "calc.py", "configs.py", "block.py", "optim_state.py")
    ns = lab_defs([step / "configs.py", step / "optim_state.py", step / "block.py", step / "calc.py"],
                  {"MODELS", "BYTES_PER_PARAM", "Config", "block_activation_bytes", "model_activation_bytes",
                   "peak_activation_bytes", "GIB", "param_count", "block_config"})
    model_name, batch, seq = "llama-3.2-1b", 4, 2048
    model = ns["MODELS"][model_name]
    n = ns["param_count"](model)
    weights, grads, state = ns["BYTES_PER_PARAM"]["mixed-adam"]
    rows = []
    for label, attention, ckpt in (("eager attention", "eager", False), ("SDPA", "sdpa", False),
                                   ("SDPA + checkpointing", "sdpa", True)):
        act = ns["peak_activation_bytes"](ns["block_config"](model, attention, ckpt), batch, seq, 2)
        rows.append((label, [weights * n, grads * n, state * n, act]))
    gib = ns["GIB"]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 2.9))
    parts = ["weights (bf16, 2 B/param)", "gradients (bf16, 2 B/param)",
             "Adam state (fp32 master + m + v, 12 B/param)", "activations (peak, bf16)"]
    colors = ["#4e79a7", "#59a14f", "#f28e2b", "#e15759"]
    for y, (label, values) in enumerate(rows):
        left = 0.0
        for part, value, color in zip(parts, values, colors):
            ax.barh(y, value / gib, left=left, color=color, label=part if y == 0 else None)
            if value / gib > 2.5:
                ax.text(left + value / gib / 2, y, f"{value / gib:.1f}", ha="center", va="center", fontsize=8, color="white")
            left += value / gib
        ax.text(left + 0.5, y, f"{left:.1f} GiB", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel("GiB")
    ax.set_title(f"Training memory of {model_name} ({n / 1e9:.2f} B params), micro-batch {batch} x {seq} tokens, "
                 "mixed-precision Adam", fontsize=9)
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2, frameon=False)
    act = [r[1][3] / gib for r in rows]
    fixed = sum(rows[0][1][:3]) / gib
    return Drawn(
        _svg(fig),
        alt=(f"가로 막대 세 개: {model_name}를 micro-batch {batch}×{seq} 토큰으로 학습할 때의 메모리. 가중치·gradient·Adam "
             f"상태는 세 막대 모두 {fixed:.1f} GiB로 같고, activation은 eager attention {act[0]:.1f} GiB, SDPA {act[1]:.1f} GiB, "
             f"SDPA와 checkpointing {act[2]:.1f} GiB로 줄어든다."),
        caption=(f"{rel(ctx.root, step)}의 calc.py와 같은 공식(파라미터 수 × 바이트, block.py의 activation 식)으로 계산했다. "
                 "Adam 상태(fp32 master 사본과 두 moment)가 가중치보다 여섯 배 크고, activation은 attention 구현과 "
                 "checkpointing에 따라 크게 달라진다."))


# ---- paged KV cache ----------------------------------------------------------------------
@figure("paged-kv")
def paged_kv(ctx: Context) -> Drawn:
    hits = [s for s in steps_of(ctx.root, "nano-vllm")
            if (s / "block_manager.py").is_file() and "chain_hash" in (s / "block_manager.py").read_text(encoding="utf-8")]
    if not hits:
        raise FigureError("no labs/nano-vllm step has a block_manager.py with prefix caching (chain_hash)")
    step = hits[-1]
    bm_mod, seq_mod = lab_modules(step, "block_manager", "sequence")
    prompts = {"A": "The cat sat on the mat . It was warm".split(),
               "B": "The cat sat on the mat . It wore a red hat".split()}
    vocab = {w: i for i, w in enumerate(dict.fromkeys(prompts["A"] + prompts["B"]))}
    name = {i: w for w, i in vocab.items()}
    block_size, num_blocks = 4, 8
    bm = bm_mod.BlockManager(num_blocks, block_size)
    seqs = {}
    for req, prompt in prompts.items():
        seq = seq_mod.Sequence([vocab[w] for w in prompt], seq_mod.SamplingParams())
        bm.allocate(seq)
        seqs[req] = seq
    owners: dict[int, list[str]] = {}
    for req, seq in seqs.items():
        for b in seq.block_table:
            owners.setdefault(b, []).append(req)
    colors = {"A": "#4e79a7", "B": "#e15759"}
    esc = lambda t: t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    lines = ['digraph paged {', '  rankdir=TB; ranksep=0.9; bgcolor="white";',
             '  node [shape=plaintext fontname="Helvetica" fontsize=10];', '  edge [arrowsize=0.6 penwidth=1.4];']
    # HTML-like tables keep each row in order: a request's logical blocks, the pool's physical blocks
    for req, seq in seqs.items():
        cells = "".join(
            f'<TD PORT="l{i}" COLOR="{colors[req]}" STYLE="rounded">logical {i}<BR/>'
            f'{esc(" ".join(name[t] for t in seq.token_ids[i * block_size:(i + 1) * block_size]))}</TD>'
            for i in range(len(seq.block_table)))
        lines.append(f'  {req} [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="6" CELLPADDING="5"><TR>'
                     f'<TD BORDER="0" COLSPAN="{len(seq.block_table)}"><FONT COLOR="{colors[req]}">request {req}: block table</FONT></TD></TR>'
                     f'<TR>{cells}</TR></TABLE>>];')
    cells = ""
    for b in range(num_blocks):
        users = owners.get(b, [])
        fill = "#f4e3c1" if len(users) > 1 else ("#eeeeee" if not users else "white")
        state = f"ref_count {bm.blocks[b].ref_count}" if users else "free"
        cells += f'<TD PORT="p{b}" BGCOLOR="{fill}" STYLE="rounded">block {b}<BR/>{state}</TD>'
    lines.append(f'  pool [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="6" CELLPADDING="5"><TR>{cells}</TR>'
                 f'<TR><TD BORDER="0" COLSPAN="{num_blocks}">physical KV blocks (GPU memory)</TD></TR></TABLE>>];')
    for req, seq in seqs.items():
        for i, b in enumerate(seq.block_table):
            lines.append(f'  {req}:l{i}:s -> pool:p{b}:n [color="{colors[req]}"];')
    lines.append("}")
    shared = [b for b, users in owners.items() if len(users) > 1]
    cached = seqs["B"].num_cached_tokens
    return Drawn(
        _dot_svg("\n".join(lines)),
        alt=(f"두 요청의 block table이 물리 KV 블록을 가리키는 그림. 블록 크기 {block_size} 토큰. 요청 A와 B는 앞 "
             f"{cached}토큰이 같아서 B의 앞 논리 블록들이 A와 같은 물리 블록 {', '.join(map(str, shared))}(ref_count 2)을 가리키고, "
             "나머지 블록은 각자 따로 받는다. 쓰이지 않는 블록은 free다."),
        caption=(f"{rel(ctx.root, step)}의 BlockManager를 그대로 실행해 얻은 block table(블록 {num_blocks}개, 블록당 "
                 f"{block_size} 토큰). B는 prefix cache에서 앞 {cached}토큰의 블록을 찾아 공유한다(음영: 두 요청이 함께 쓰는 블록). "
                 "마지막 토큰이 든 블록은 logits를 얻으려고 언제나 새로 계산한다."))


# ---- attention head shapes (MHA, GQA, MQA) -----------------------------------------------
@figure("gqa")
def gqa(ctx: Context) -> Drawn:
    plt = _plt()
    from matplotlib.patches import Rectangle
    n_heads, head_dim = 8, 128
    variants = [("MHA", 8), ("GQA", 2), ("MQA", 1)]
    palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"]
    fig, axes = plt.subplots(1, 3, figsize=(7.6, 2.8))
    for ax, (name, n_kv) in zip(axes, variants):
        group = n_heads // n_kv  # query head h reads K/V head h // group (repeat_interleave)
        for h in range(n_heads):
            ax.add_patch(Rectangle((h, 2.0), 0.8, 0.6, color=palette[h // group]))
        for k in range(n_kv):
            x = (k + 0.5) * n_heads / n_kv - 0.4
            ax.add_patch(Rectangle((x, 0.0), 0.8, 0.6, color=palette[k], ec="black", lw=0.6))
            for h in range(k * group, (k + 1) * group):
                ax.plot([h + 0.4, x + 0.4], [2.0, 0.6], color=palette[k], lw=0.8)
        ax.text(n_heads / 2 - 0.1, 2.75, f"Q: [B, T, {n_heads}, {head_dim}]", ha="center", fontsize=7.5)
        ax.text(n_heads / 2 - 0.1, -0.45, f"K, V: [B, T, {n_kv}, {head_dim}]", ha="center", fontsize=7.5)
        ax.set_title(f"{name}: {n_heads} query heads, {n_kv} K/V head{'s' if n_kv > 1 else ''}", fontsize=8.5)
        ax.set_xlim(-0.5, n_heads + 0.2)
        ax.set_ylim(-0.8, 3.2)
        ax.axis("off")
        ax.text(n_heads / 2 - 0.1, -0.9, f"KV cache: 2 x {n_kv} x {head_dim} per token",
                ha="center", fontsize=7)
    return Drawn(
        _svg(fig),
        alt=("세 그림: MHA는 query head 8개가 각자 K/V head 8개를, GQA는 query head 4개씩이 K/V head 2개 중 하나를, "
             "MQA는 query head 8개가 K/V head 1개를 함께 쓴다. 텐서 모양은 Q [B, T, 8, 128], K와 V [B, T, H_kv, 128]."),
        caption=("Query head h는 K/V head h // (H / H_kv)를 읽는다(Hugging Face의 repeat_interleave와 같은 묶음). "
                 "KV cache는 토큰·층마다 2 × H_kv × head_dim 값이므로 GQA(H_kv=2)는 MHA의 1/4, MQA는 1/8이다."))


# ---- the reduction tree ------------------------------------------------------------------
def _reduction_levels(values: list[int], interleaved: bool) -> list[tuple[list[int], list[tuple[int, int]]]]:
    """Each tree step of one block, as labs/cuda-kernel-basics reduction.py's block_tree pairs
    them: interleaved s_data[2st] += s_data[2st + s] (s = 1, 2, 4, ...), sequential
    s_data[t] += s_data[t + s] (s = n/2, ..., 1). Returns (values after the step, (dst, src) pairs)."""
    n, v, out = len(values), list(values), []
    strides = [1 << k for k in range(n.bit_length() - 1)]
    for s in (strides if interleaved else [n >> k for k in range(1, n.bit_length())]):
        pairs = [(i, i + s) for i in range(0, n, 2 * s)] if interleaved else [(t, t + s) for t in range(s)]
        for dst, src in pairs:
            v[dst] += v[src]
        out.append((list(v), pairs))
    return out


@figure("reduction-tree")
def reduction_tree(ctx: Context) -> Drawn:
    plt = _plt()
    from matplotlib.patches import Rectangle
    values = [3, 1, 7, 0, 4, 1, 6, 3, 2, 5, 1, 4, 0, 2, 3, 1]
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.6))
    for ax, interleaved, title in ((axes[0], True, "interleaved (v1, v2): s = 1, 2, 4, 8"),
                                   (axes[1], False, "sequential (v3+): s = 8, 4, 2, 1")):
        levels = [(values, [])] + _reduction_levels(values, interleaved)
        for row, (vals, pairs) in enumerate(levels):
            y = -row * 1.3
            live = {d for d, _ in pairs} if row else set(range(len(vals)))
            for i, x in enumerate(vals):
                active = i in live
                ax.add_patch(Rectangle((i, y), 0.86, 0.7, fc="#4e79a7" if active and row else ("white" if row else "#dde6f0"),
                                       ec="#333" if active or not row else "#bbb", lw=0.6))
                ax.text(i + 0.43, y + 0.35, str(x), ha="center", va="center", fontsize=7,
                        color="white" if active and row else ("#999" if row else "black"))
            for dst, src in pairs:
                for s in (dst, src):
                    ax.annotate("", xy=(dst + 0.43, y + 0.72), xytext=(s + 0.43, y + 1.3),
                                arrowprops={"arrowstyle": "->", "lw": 0.6, "color": "#e15759" if s == src else "#666"})
        ax.set_title(title, fontsize=8.5)
        ax.set_xlim(-0.2, len(values) + 0.1)
        ax.set_ylim(-len(levels) * 1.3 + 0.9, 0.9)
        ax.axis("off")
    fig.suptitle(f"Tree reduction of 16 values in one block: 4 steps, sum = {sum(values)}", fontsize=9)
    return Drawn(
        _svg(fig),
        alt=(f"16개 값의 트리 reduction 두 가지. 단계마다 일하는 스레드가 절반으로 줄어 4단계 뒤 맨 앞 칸에 합 {sum(values)}이 남는다. "
             "왼쪽 interleaved는 짝이 1, 2, 4, 8칸씩 떨어져 일하는 스레드가 흩어지고, 오른쪽 sequential은 앞쪽 절반의 스레드가 "
             "8, 4, 2, 1칸 뒤의 값을 더해 일하는 스레드가 앞쪽에 모인다."),
        caption=("labs/cuda-kernel-basics의 reduction.py(block_tree)와 같은 짝짓기를 16개 값에 적용했다. 파란 칸이 그 단계에 "
                 "더하는 스레드, 빨간 화살표가 더해지는 값이다. sequential 주소 지정에서는 일하는 스레드가 연속이라 warp가 통째로 "
                 "쉬고 shared memory bank conflict가 없다."))



@figure("dllm-steps-vs-quality", step_plot="plot_steps_vs_quality")
def dllm_steps_vs_quality(ctx: Context) -> Drawn:
    rec_file = ctx.step_dir / "results" / "steps_vs_quality.json"
    if not rec_file.exists():
        raise FigureError(f"{rec_file} is not recorded: run `python bench.py --json` in that step")
    rec = json.loads(rec_file.read_text(encoding="utf-8"))
    rows, ar = rec["diffusion"], rec["ar"]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.2))
    steps = [r["steps"] for r in rows]
    ax.plot(steps, [r["exact_match"] for r in rows], "o-", color="tab:blue", label="diffusion: exact match")
    ax.axhline(ar["exact_match"], color="tab:blue", ls=":", lw=1, label="AR + KV cache: exact match")
    ax.set_xscale("log", base=2)
    ax.set_xticks(steps, [str(s) for s in steps])
    ax.set_xlabel("denoising steps per answer")
    ax.set_ylabel("exact match", color="tab:blue")
    ax.set_ylim(0, 1)
    speed = ax.twinx()
    speed.plot(steps, [r["tokens_per_s"] for r in rows], "s--", color="tab:orange")
    speed.set_ylabel("tokens/s (recorded run)", color="tab:orange")
    ax.legend(loc="center right", fontsize=7)
    ax.set_title("Fewer steps: faster, and more mixed answers")
    pts = ", ".join(f"{r['steps']}단계 {r['exact_match']:.2f}" for r in rows)
    return Drawn(_svg(fig),
                 alt=(f"denoising 단계 수(가로, 로그 눈금)에 따른 정확히 맞춘 비율(파란 선: {pts})과 초당 토큰 수(주황 점선). "
                      f"단계가 적을수록 빠르지만 정답률이 떨어지고, 점선 가로줄은 AR 기준선의 {ar['exact_match']:.3f}이다."),
                 caption=(f"이 단계의 run.py가 그리는 곡선을 {rel(ctx.root, rec_file)}의 기록({rec['problems']}문제, "
                          f"{rec['hardware']['cpu']})에서 다시 그렸다."))

def draw(fid: str, ctx: Context) -> Drawn:
    """Draw one figure; any failure becomes a FigureError naming the figure."""
    try:
        return FIGURES[fid].draw(ctx)
    except FigureError as e:
        raise FigureError(f"figure '{fid}': {e}") from None
    except Exception as e:  # a lab changed shape under the figure code
        raise FigureError(f"figure '{fid}': {type(e).__name__}: {e}") from None
