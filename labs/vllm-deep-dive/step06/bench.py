"""Record the load table for our server and for vLLM's, one after the other in one run:
200 mixed requests, 16 at a time (results/load_ours.json, results/load_vllm.json).

    python bench.py --json
"""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="write results/load_ours.json and results/load_vllm.json")
    parser.add_argument("--num-requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    if args.num_requests < 1 or args.concurrency < 1:
        parser.error("--num-requests and --concurrency must be at least 1")
    import load
    from launch import server
    from tiny_model import default_model_dir, make_tiny_qwen3
    from vllm_server import vllm_env, vllm_installed, vllm_server_argv

    folder = str(make_tiny_qwen3(default_model_dir()))
    flags = ["--num-requests", str(args.num_requests), "--concurrency", str(args.concurrency)]
    status = 0
    with server(["api_server.py", "--model", folder]) as url:
        status |= load.main(["--url", url, *flags, "--label", "ours", *(["--json", "load_ours"] if args.json else [])])
    if not vllm_installed():
        print("vLLM is not installed here: its row is skipped")
        return status
    with server(vllm_server_argv(folder), env=vllm_env(), timeout=600) as url:
        status |= load.main(["--url", url, *flags, "--label", "vllm", *(["--json", "load_vllm"] if args.json else [])])
    return status


if __name__ == "__main__":
    sys.exit(main())
