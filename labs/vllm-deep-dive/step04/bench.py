"""Record the load table for this server: 200 mixed requests, 16 at a time (results/load_ours.json).

    python bench.py --json
"""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="write results/load_ours.json")
    parser.add_argument("--num-requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    if args.num_requests < 1 or args.concurrency < 1:
        parser.error("--num-requests and --concurrency must be at least 1")
    import load
    from launch import server
    from tiny_model import default_model_dir, make_tiny_qwen3

    folder = str(make_tiny_qwen3(default_model_dir()))
    with server(["api_server.py", "--model", folder]) as url:
        return load.main(["--url", url, "--num-requests", str(args.num_requests), "--concurrency",
                          str(args.concurrency), "--label", "ours", *(["--json", "load_ours"] if args.json else [])])


if __name__ == "__main__":
    sys.exit(main())
