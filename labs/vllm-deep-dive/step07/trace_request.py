"""Send one request to our server and to vLLM's, each started with a print at every hop, and show both paths.

    python trace_request.py [--no-vllm]

The servers run with trace_hooks/ on PYTHONPATH: its sitecustomize.py wraps the
methods hops.py names in every process the server starts. Each printed hop
carries its process id, so the process boundaries show in the trace.
"""
import argparse
import os
import sys
import tempfile
import time

import httpx

import hops
from launch import server
from vllm_server import vllm_env, vllm_installed, vllm_server_argv


def traced(which: str, argv: list[str], env: dict, body: dict, timeout: float = 600) -> list[tuple]:
    """Start a server with the hops of `which` traced, send `body` once, return the hops it printed."""
    out = tempfile.mktemp(prefix=f"hops-{which}-")
    path = os.pathsep.join(p for p in (os.path.abspath("trace_hooks"), env.get("PYTHONPATH")) if p)
    env = dict(env, PYTHONPATH=path, HOP_TRACE=which, HOP_TRACE_FILE=out)
    try:
        with server(argv, env=env, timeout=timeout) as url:
            open(out, "w").close()  # start-up calls (warm-up runs) are not part of the request
            r = httpx.post(url + "/v1/completions", json=body, timeout=120)
            r.raise_for_status()
            time.sleep(0.3)  # the last hops of the core's loop may trail the HTTP answer
            return hops.read(out)
    finally:
        if os.path.exists(out):
            os.unlink(out)


def roles(trace: list[tuple]) -> dict[int, str]:
    """Name each process by the first hop it printed."""
    names = {}
    for pid, label, _, _ in trace:
        names.setdefault(pid, "API server" if label.startswith("API server") or label.startswith("ZMQ")
                         or label in ("output processor", "detokenizer") else "engine core" if label in
                         ("engine core", "scheduler", "executor") else "worker")
    return names


def show(title: str, trace: list[tuple]) -> None:
    from tabulate import tabulate
    names, rows = roles(trace), []
    for pid, label, qualname, detail in trace:
        if rows and rows[-1][1:4] == [label, qualname, detail]:
            rows[-1][4] += 1  # the same hop again (one per step): count it
            continue
        rows.append([f"{pid} ({names[pid]})", label, qualname, detail, 1])
    print(f"\n{title}: {len(set(p for p, *_ in trace))} processes")
    print(tabulate(rows, headers=["pid (process)", "hop", "method", "argument", "times"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a Hugging Face Qwen3 folder with a tokenizer (default: a tiny seeded one)")
    parser.add_argument("--max-tokens", type=int, default=3)
    parser.add_argument("--no-vllm", action="store_true", help="trace only our server (vLLM starts slowly)")
    parser.add_argument("--worker-process", action="store_true",
                        help="workers in their own processes: our --executor mp, vLLM's multiprocessing default")
    args = parser.parse_args(argv)
    if args.max_tokens < 1:
        parser.error("--max-tokens must be at least 1")
    from tiny_model import default_model_dir, make_tiny_qwen3
    folder = str(args.model or make_tiny_qwen3(default_model_dir()))
    if not os.path.isfile(os.path.join(folder, "config.json")):
        sys.exit(f"error: cannot load a model from '{folder}': no config.json there")
    body = {"model": "tiny", "prompt": "w5 w17 w300", "max_tokens": args.max_tokens, "temperature": 0,
            "ignore_eos": True}
    executor = ["--executor", "mp"] if args.worker_process else []
    show("ours", traced("ours", ["api_server.py", "--model", folder, *executor], dict(os.environ), body))
    if not args.no_vllm and vllm_installed():
        print("\nstarting vLLM's server (a minute or two on a CPU) ...", flush=True)
        show("vLLM", traced("vllm", vllm_server_argv(folder), vllm_env(not args.worker_process), body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
