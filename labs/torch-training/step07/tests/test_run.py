"""run.py end to end on tiny settings: its printed formula lines against numbers recomputed here,
and bad command-line input as one clear line on stderr with a non-zero exit, not a traceback."""
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from dlc_shared.data import CORPUS_PACKAGE, corpus_files, corpus_text, get_tokenizer, token_ids
from model import Llama, ModelConfig

TINY_RUN = ["--steps", "3", "--batch-size", "2", "--grad-accum", "2", "--block-size", "16", "--threads", "1",
            "--warmup-steps", "1"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "run.py", *args], capture_output=True, text=True, timeout=300)


def number_after(label: str, out: str) -> float:
    match = re.search(re.escape(label) + r"\s+(-?[\d,]+(?:\.\d+)?)", out)
    assert match, f"no '{label}' line in:\n{out}"
    return float(match.group(1).replace(",", ""))


@pytest.mark.parametrize("flag, value", [("--steps", "0"), ("--threads", "0")])
def test_bad_flag_value_is_one_line_error(flag, value, monkeypatch, capsys):
    import run as script  # in this process: no second start of torch; any other exception fails the test
    monkeypatch.setattr(sys, "argv", ["run.py", flag, value])
    with pytest.raises(SystemExit) as exit_:
        script.main()
    assert exit_.value.code != 0
    last = capsys.readouterr().err.strip().splitlines()[-1]  # argparse: the usage, then one line saying why
    assert last.startswith("run.py: error:") and flag in last


def test_tiny_run_prints_the_corpus_and_baseline_lines(tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    proc = run(*TINY_RUN, "--eval-interval", "2", "--ckpt", str(ckpt), "--sample-tokens", "4",
               "--temperature", "0", "--peak-tflops", "0.05")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # FLOPs per token = 6 N + 12 L T d, with N counted here from the model's own matrices (the tied
    # embedding once, the RMSNorm gains not) and T = --block-size 16.
    cfg = ModelConfig(vocab_size=2048, block_size=16)
    n = sum(p.numel() for p in Llama(cfg).parameters() if p.dim() == 2)
    per_token = 6 * n + 12 * cfg.n_layer * 16 * cfg.d_model
    assert f"FLOPs per token: 6 x {n:,} + 12 x L x T x d = {per_token:,}; peak 0.050 TFLOP/s (given)" in out
    log = re.search(r"step +3 \| loss .* \| ([\d,]+) tok/s \| MFU ([\d.]+)%", out)
    assert log, out
    tokens_per_s, mfu = float(log.group(1).replace(",", "")), float(log.group(2)) / 100
    # MFU = tokens/s x FLOPs per token / peak; a print-precision bound: tok/s is rounded to a whole
    # token, MFU to 0.1%.
    assert abs(mfu - tokens_per_s * per_token / 0.05e12) <= 0.0005 + 0.5 * per_token / 0.05e12
    train, val = token_ids("train"), token_ids("val")
    text = corpus_text()
    n_bytes, n_tokens = len(text.encode("utf-8")), len(train) + len(val)
    assert number_after(f"files ({CORPUS_PACKAGE} *.py, sorted)", out) == len(corpus_files())
    assert number_after("characters", out) == len(text)
    assert number_after("UTF-8 bytes", out) == n_bytes
    assert number_after("vocabulary", out) == 2048
    assert number_after("tokens", out) == n_tokens
    assert number_after("train tokens (first 90%)", out) == len(train)
    assert number_after("val tokens (last 10%)", out) == len(val)
    assert number_after("bytes per token", out) == round(n_bytes / n_tokens, 2)
    example = get_tokenizer(2048).encode("def forward(self, x):\n    return x").ids
    assert f"-> {len(example)} tokens\n  ids:    {example}" in out
    # The unigram baseline counted here with NumPy: add-one smoothed train frequencies, val's mean -log p.
    counts = np.bincount(train, minlength=2048) + 1.0
    unigram = -np.log(counts[val] / counts.sum()).mean()
    assert f"uniform ln V = {math.log(2048):.4f}, unigram (train frequencies) = {unigram:.4f}" in out
    assert "training 3 steps x 2 x 2 x 16 tokens (AdamW, lr 0.003 -> 0.0003, warmup 1, clip 1, fp32 on cpu)" in out
    clipped = re.search(r"gradient norm above 1 \(clipped\) in (\d+) of 3 steps", out)
    assert clipped and int(clipped.group(1)) <= 3
    assert re.search(rf"val loss \d+\.\d{{4}} vs unigram {unigram:.4f} ", out)
    assert re.findall(r"step +(\d+) \| val loss", out) == ["2", "3"]  # every 2 steps and at the end
    assert torch.load(ckpt, weights_only=True)["step"] == 3
    timing = re.search(r"first step ([\d.]+) s \(warm-up\), then ([\d.]+) ms per step \(median\); "
                       r"the first step costs (\d+) later steps", out)
    assert timing, out
    first, rest, ratio = float(timing.group(1)), float(timing.group(2)) / 1e3, int(timing.group(3))
    # ratio = first / rest; a print-precision bound: first is rounded to 0.01 s, rest to 0.1 ms, ratio to 1
    assert (first - 0.005) / (rest + 5e-5) - 0.5 <= ratio <= (first + 0.005) / (rest - 5e-5) + 0.5
    sample = out.split("sample (temperature 0, top-k 50):\n")[1]
    assert sample.startswith("def ")  # the prompt, then 4 greedy tokens
