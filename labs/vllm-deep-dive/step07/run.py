"""Our server and vLLM's, side by side: the component map, then the same client with the same requests."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="a Hugging Face Qwen3 folder with a tokenizer (default: a tiny seeded one)")
    parser.add_argument("--no-vllm", action="store_true", help="only the map and our server (vLLM starts slowly)")
    args = parser.parse_args(argv)

    import os

    from tabulate import tabulate

    import same_requests
    import vllm_map
    from launch import server
    from tiny_model import default_model_dir, make_tiny_qwen3
    from vllm_server import vllm_env, vllm_installed, vllm_server_argv

    folder = str(args.model or make_tiny_qwen3(default_model_dir()))
    if not os.path.isfile(os.path.join(folder, "config.json")):
        sys.exit(f"error: cannot load a model from '{folder}': no config.json there")
    status = vllm_map.main()
    with server(["api_server.py", "--model", folder]) as url:
        ours = same_requests.ask(url)
    theirs = None
    if not args.no_vllm and vllm_installed():
        print("\nstarting vLLM's server (a minute or two on a CPU) ...", flush=True)
        with server(vllm_server_argv(folder), env=vllm_env(), timeout=600) as url:
            theirs = same_requests.ask(url)
    rows = []
    for i, a in enumerate(ours):
        b = theirs[i] if theirs else None
        rows.append([i, a["kind"], " ".join(map(str, a["token_ids"])), a["finish_reason"],
                     "-" if b is None else "yes" if a == b else f"NO: {b['token_ids']}"])
    print()
    print(tabulate(rows, headers=["#", "kind", "token ids (ours)", "finish", "vLLM identical (ids, text, stream)"]))
    if theirs is not None and ours != theirs:
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
