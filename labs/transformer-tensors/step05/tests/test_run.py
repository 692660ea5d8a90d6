"""run.py: every printed shape and count against an independent count of the same forward pass
(torch's own parameter count, FlopCounterMode per module, shapes worked out from the flags); a bad flag
gives one line on stderr and exit status 2."""
import re

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import run
from attention import SelfAttention
from embedding import Embedding

RUNS = [[], ["--pos", "learned", "--kv-heads", "1", "--dtype", "bfloat16", "--batch", "3", "--seq", "5"],
        ["--kv-heads", "4"]]


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
    embed = Embedding(cfg).to(run.DTYPES[args.dtype])
    attn = SelfAttention(cfg).to(run.DTYPES[args.dtype])
    ids = torch.randint(0, cfg.vocab_size, (args.batch, args.seq))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        attn(embed(ids))
    flops = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
    n_params = sum(p.numel() for p in [*embed.parameters(), *attn.parameters()])
    B, T, D, H = args.batch, args.seq, args.dim, args.heads
    H_kv, d = args.kv_heads, args.dim // args.heads

    rows = trace_table(out)
    assert rows["embed.tok_emb = E[ids]"][:2] == ((B, T, D), args.dtype)
    assert rows["attn.k = x Wk"][:2] == ((B, T, H_kv * d), args.dtype)
    assert rows["attn.scores = q kᵀ/√d"][0] == (B, H, T, T)
    assert rows["attn.probs = softmax(scores)"][1] == "float32"  # softmax in fp32 even for bf16
    assert rows["total"][2:] == (n_params, flops["Global"])

    assert result(line(out, "parameters:")) == n_params
    module = "SelfAttention"
    projections = sum(flops[f"{module}.{w}"] for w in ("wq", "wk", "wv", "wo"))
    assert value(line(out, "FLOPs:"), "= ") == projections
    assert value(line(out, "FLOPs:"), "T²·d = ") == flops[module] - projections  # q kᵀ and probs·v
    size = torch.finfo(run.DTYPES[args.dtype]).bits // 8
    wk, wv = attn.wk, attn.wv
    assert value(line(out, "KV cache"), " B = ") == (wk.out_features + wv.out_features) * size
    assert value(line(out, "KV cache"), f"H = {H}: ") == 2 * D * size


def test_bad_flag_is_one_clear_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run.main(["--seq", "64", "--max-seq", "32"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "--seq" in err.strip().splitlines()[-1]
