"""run.py: every printed shape and count against an independent count of the same forward pass
(torch's own parameter count, FlopCounterMode per module, shapes worked out from the flags, the routing
redone from the router's logits); a bad flag gives one line on stderr and exit status 2."""
import math
import re

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from dlc_shared.testing import tolerance
import run
from model import TinyLM

RUNS = [[],  # the default: MoE with a capacity limit, RoPE, GQA
        ["--experts", "0", "--pos", "learned", "--ffn", "gelu", "--kv-heads", "1", "--layers", "3", "--tie",
         "--dtype", "bfloat16", "--batch", "3", "--seq", "5"],
        ["--experts", "8", "--top-k", "1", "--capacity-factor", "0", "--kv-heads", "4", "--seed", "3"]]


def line(out: str, start: str) -> str:
    (found,) = [l for l in out.splitlines() if l.startswith(start)]
    return found


def value(text: str, label: str) -> int:
    """The integer printed right after `label` (thousands separators allowed)."""
    m = re.search(re.escape(label) + r"([\d,]+)", text)
    assert m, f"{label!r} not in {text!r}"
    return int(m.group(1).replace(",", ""))


def result(text: str) -> int:
    """The last "= N" of a formula line: what the formula came to."""
    return int(re.findall(r"= ([\d,]+)", text)[-1].replace(",", ""))


def trace_table(out: str) -> dict:
    """{tensor: (shape, dtype, params, FLOPs)} read from the printed table, by the header's columns."""
    lines = out.splitlines()
    head = next(i for i, l in enumerate(lines) if l.startswith("tensor"))
    header = lines[head]
    shape_at, dtype_at = header.index("shape"), header.index("dtype")
    ends = [header.index(h) + len(h) for h in ("params", "FLOPs")]  # right-aligned number columns
    rows = {}
    for l in lines[head + 2:]:
        if not l.strip():
            break
        l = l.ljust(ends[1])
        shape = l[shape_at:dtype_at].strip()
        numbers = [int(l[:end].split()[-1].replace(",", "")) if l[end - 1].isdigit() else 0 for end in ends]
        rows[l[:shape_at].strip()] = (tuple(int(s) for s in re.findall(r"\d+", shape)), l[dtype_at:].split()[0]
                                      if shape else "", *numbers)
    return rows


@pytest.mark.parametrize("argv", RUNS, ids=lambda a: " ".join(a) or "default")
def test_printed_counts_match_an_independent_count(argv, capsys):
    run.main(argv)
    out = capsys.readouterr().out
    args, cfg = run.parse_args(argv)
    torch.manual_seed(args.seed)  # the same weights and token ids as run.py's
    model = TinyLM(cfg).to(run.DTYPES[args.dtype])
    ids = torch.randint(0, cfg.vocab_size, (args.batch, args.seq))
    router_logits = []
    for layer in model.layers if args.experts else []:
        layer.ffn.router.register_forward_hook(lambda m, i, o: router_logits.append(o.double()))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(ids)
    flops = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
    n_params = sum(p.numel() for p in model.parameters())  # a tied weight counts once
    B, T, D, V, L, H = args.batch, args.seq, args.dim, args.vocab, args.layers, args.heads
    H_kv, d, E, k = args.kv_heads, args.dim // args.heads, args.experts, args.top_k

    rows = trace_table(out)
    assert rows["embed.tok_emb = E[ids]"][:2] == ((B, T, D), args.dtype)
    assert rows["layers.0.attn.k = x Wk"][:2] == ((B, T, H_kv * d), args.dtype)
    assert rows[f"layers.{L - 1}.attn.scores = q kᵀ/√d"][0] == (B, H, T, T)
    assert rows["layers.0.attn.probs = softmax(scores)"][1] == "float32"  # softmax in fp32 even for bf16
    assert rows["logits = x W_headᵀ"][:2] == ((B, T, V), args.dtype)
    assert rows["total"][2:] == (n_params, flops["Global"])

    assert result(line(out, "parameters:")) == n_params
    module = "TinyLM.layers.0.attn"
    projections = sum(flops[f"{module}.{w}"] for w in ("wq", "wk", "wv", "wo"))
    assert value(line(out, "FLOPs:"), "= ") == projections
    assert value(line(out, "FLOPs:"), "T²·d = ") == flops[module] - projections  # q kᵀ and probs·v, per layer
    size = torch.finfo(run.DTYPES[args.dtype]).bits // 8
    wk, wv = model.layers[0].attn.wk, model.layers[0].attn.wv
    assert value(line(out, "KV cache"), " B = ") == (wk.out_features + wv.out_features) * size
    assert value(line(out, "KV cache"), f"H = {H}: ") == 2 * D * size
    one_ffn = model.layers[0].ffn.experts[0] if E else model.layers[0].ffn
    ffn_params = sum(p.numel() for p in one_ffn.parameters())
    ffn_line = line(out, "FFN (")
    assert value(ffn_line, "hidden ") == one_ffn.up.out_features
    assert value(ffn_line, "·D·hidden = ") == ffn_params
    assert value(ffn_line, "8·D² = ") == 8 * D * D
    # a dense FFN runs on every token; with experts this is what one expert would cost on all of them
    dense_flops = 2 * B * T * ffn_params if E else flops["TinyLM.layers.0.ffn"]
    assert value(ffn_line, "), ") == dense_flops
    assert value(ffn_line, "attention projections: ") == sum(p.numel() for p in model.layers[0].attn.parameters())
    assert value(line(out, "LM head:"), "= ") == flops["TinyLM.lm_head"]
    assert value(line(out, "LM head:"), "FLOPs, ") == V * D

    if not E:
        assert "MoE:" not in out
        return
    moe = model.layers[0].ffn
    expert_params = sum(p.numel() for p in moe.experts[0].parameters())
    assert value(line(out, "MoE:"), f"top-{k}: ") == sum(p.numel() for p in moe.parameters())
    assert value(line(out, "MoE:"), "per layer, ") == moe.router.weight.numel() + k * expert_params
    N = B * T
    capacity = math.ceil(args.capacity_factor * N * k / E) if args.capacity_factor else N
    for i, logits in enumerate(router_logits):
        printed = line(out, f"  layer {i}:")
        probs = torch.softmax(logits, dim=-1)
        top = probs.topk(k, dim=-1).indices
        routed = torch.bincount(top.flatten(), minlength=E).tolist()
        kept = [0] * E  # first choices claim slots before second choices, in token order
        for rank in range(k):
            for t in range(N):
                e = int(top[t, rank])
                kept[e] += kept[e] < capacity
        aux = E * sum(r / (N * k) * p for r, p in zip(routed, probs.mean(0).tolist()))
        assert value(printed, "capacity ") == capacity
        assert f"routed per expert {routed}, kept {kept}, dropped {N * k - sum(kept)} of {N * k}," in printed
        # printed to 4 decimals: half a unit of the last digit, plus float32 rounding of a mean over N tokens
        bound = 0.5e-4 + tolerance(torch.float32, aux, terms=N, depth=3)
        assert abs(float(printed.rsplit(" ", 1)[1]) - aux) <= bound


def test_bad_flag_is_one_clear_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run.main(["--seq", "64", "--max-seq", "32"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "--seq" in err.strip().splitlines()[-1]
