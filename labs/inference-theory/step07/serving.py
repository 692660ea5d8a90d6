"""TTFT, TPOT and throughput: a two-number model of an engine step, checked against the engine.

When B requests of prompt length P and output length O arrive together and fit in
one batch, the engine runs one prefill step (all B*P prompt tokens) and then O-1
decode steps (B tokens each). So

    TTFT = t_prefill(B*P),  TPOT = t_decode(B),  throughput = B*O / (TTFT + (O-1)*TPOT).

Each step costs a fixed part (launching the pass, Python, reading the weights) plus
a part per token: t(n) = fixed + per_token * n. Fit the two numbers on the smallest
and the largest batch, predict the batches between, and compare with measurement.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from engine import LLMEngine
from sequence import SamplingParams
from tiny_model import make_tiny_qwen3, random_prompts

# A model big enough that a token's work shows beside the fixed cost of a step on a CPU.
BENCH_MODEL = dict(vocab_size=2048, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
                   num_attention_heads=8, num_key_value_heads=4, head_dim=32, max_position_embeddings=512)


@dataclass(frozen=True)
class StepModel:
    fixed: float      # seconds per step, whatever its size
    per_token: float  # seconds per token in the step

    @classmethod
    def fit(cls, n1: float, t1: float, n2: float, t2: float) -> "StepModel":
        """The line through two measured points (n tokens, t seconds)."""
        per_token = (t2 - t1) / (n2 - n1)
        return cls(t1 - per_token * n1, per_token)

    def __call__(self, tokens: float) -> float:
        return self.fixed + self.per_token * tokens


def predict(prefill: StepModel, decode: StepModel, batch: int, prompt: int, output: int) -> dict:
    ttft, tpot = prefill(batch * prompt), decode(batch)
    seconds = ttft + (output - 1) * tpot
    return dict(ttft=ttft, tpot=tpot, seconds=seconds, throughput=batch * output / seconds)


def make_engine(folder, max_batch: int, prompt: int, output: int) -> LLMEngine:
    blocks = max_batch * -(-(prompt + output) // 16) + 1
    return LLMEngine(folder, max_num_seqs=max_batch, max_num_batched_tokens=max_batch * prompt,
                     num_kv_blocks=blocks, block_size=16)


def measure(engine: LLMEngine, prompts: list[list[int]], output: int) -> dict:
    """Run the requests to the end; time to each one's first token and between its tokens, and steps taken."""
    seqs = [engine.add_request(p, SamplingParams(max_tokens=output, ignore_eos=True)) for p in prompts]
    first, finish, steps = {}, {}, []
    start = time.perf_counter()
    while not engine.scheduler.is_finished():
        prefill = bool(engine.scheduler.waiting)
        stepped = engine.step()
        now = time.perf_counter() - start
        steps.append(("prefill" if prefill else "decode", len(stepped)))
        for seq in stepped:
            first.setdefault(seq.seq_id, now)
            if seq.is_finished:
                finish[seq.seq_id] = now
    seconds = time.perf_counter() - start
    ttfts = [first[s.seq_id] for s in seqs]
    tpots = [(finish[s.seq_id] - first[s.seq_id]) / (output - 1) for s in seqs]
    return dict(batch=len(prompts), ttft=statistics.mean(ttfts), tpot=statistics.mean(tpots), seconds=seconds,
                last_token=max(finish.values()),
                throughput=len(prompts) * output / seconds, steps=steps,
                tokens=sum(len(s.completion_token_ids) for s in seqs))


def sweep(folder, batches: list[int], prompt: int, output: int, repeat: int = 1, seed: int = 0) -> list[dict]:
    """Measure every batch size (median of `repeat` runs, fresh prompts each run: no prefix-cache hits)."""
    engine = make_engine(folder, max(batches), prompt, output)
    engine.generate(random_prompts(2, prompt, prompt, BENCH_MODEL["vocab_size"], seed=10_000 + seed),
                    SamplingParams(max_tokens=2))  # warm-up
    rows, run = [], 0
    for b in batches:
        runs = []
        for _ in range(repeat):
            run += 1
            prompts = random_prompts(b, prompt, prompt, BENCH_MODEL["vocab_size"], seed=seed * 1000 + run)
            runs.append(measure(engine, prompts, output))
        rows.append(min(runs, key=lambda r: abs(r["seconds"] - statistics.median(x["seconds"] for x in runs))))
    return rows


def compare(rows: list[dict], prompt: int, output: int) -> tuple[StepModel, StepModel, list[dict]]:
    """Fit the step model on the first and last rows; the prediction and measured/predicted for every row."""
    lo, hi = rows[0], rows[-1]
    prefill = StepModel.fit(lo["batch"] * prompt, lo["ttft"], hi["batch"] * prompt, hi["ttft"])
    decode = StepModel.fit(lo["batch"], lo["tpot"], hi["batch"], hi["tpot"])
    out = []
    for r in rows:
        p = predict(prefill, decode, r["batch"], prompt, output)
        out.append({**{k: r[k] for k in ("batch", "ttft", "tpot", "seconds", "throughput")},
                    **{f"predicted_{k}": v for k, v in p.items()},
                    **{f"{k}_ratio": r[k] / p[k] for k in ("ttft", "tpot", "throughput")}})
    return prefill, decode, out


def bench_model(folder=None):
    """The bench model's folder (written once, seeded)."""
    import tempfile
    from pathlib import Path
    folder = folder or Path(tempfile.gettempdir()) / "inference-theory-bench-qwen3-seed0"
    return make_tiny_qwen3(folder, seed=0, **BENCH_MODEL)
