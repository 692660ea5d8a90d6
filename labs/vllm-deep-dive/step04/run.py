"""Start the OpenAI-compatible server, talk to it with the official openai client, and show its answers."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="a Hugging Face Qwen3 folder with a tokenizer (default: a tiny seeded one)")
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--load-requests", type=int, default=40, help="requests of the mixed load at the end (0: skip)")
    args = parser.parse_args(argv)
    if args.max_tokens < 1 or args.load_requests < 0:
        parser.error("--max-tokens must be at least 1 and --load-requests at least 0")

    import httpx
    import openai

    import load
    from launch import server
    from tiny_model import default_model_dir, make_tiny_qwen3

    folder = str(args.model or make_tiny_qwen3(default_model_dir()))
    with server(["api_server.py", "--model", folder]) as url:
        print(f"server: {url}")
        client = openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0)
        r = client.completions.create(model="tiny", prompt="w5 w17 w300", max_tokens=args.max_tokens, temperature=0)
        print(f"completion:      {r.choices[0].text!r}  ({r.choices[0].finish_reason}, {r.usage.completion_tokens} tokens)")
        pieces = [c.choices[0].text for c in client.completions.create(
            model="tiny", prompt="w5 w17 w300", max_tokens=args.max_tokens, temperature=0, stream=True)]
        print(f"streamed:        {pieces}")
        r = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "w5 w17 w300"}],
                                           max_tokens=args.max_tokens, temperature=0)
        print(f"chat:            {r.choices[0].message.content!r}")
        print("\nbad requests (each answered with a 4xx and an error body):")
        for name, body in [("unknown model", {"model": "gpt-4", "prompt": "w5"}),
                           ("prompt too long", {"model": "tiny", "prompt": " ".join(["w5"] * 300)}),
                           ("temperature -1", {"model": "tiny", "prompt": "w5", "temperature": -1}),
                           ("max_tokens 1000", {"model": "tiny", "prompt": "w5", "max_tokens": 1000})]:
            e = httpx.post(url + "/v1/completions", json=body)
            print(f"  {name:16} HTTP {e.status_code}  {e.json()['error']['message']}")
        e = httpx.post(url + "/v1/completions", content=b'{"model": "tiny", "prompt": ',
                       headers={"content-type": "application/json"})
        print(f"  {'malformed JSON':16} HTTP {e.status_code}  {e.json()['error']['message']}")
        status = 0
        if args.load_requests:
            print(f"\nmixed load ({args.load_requests} requests, 8 at a time):")
            status = load.main(["--url", url, "--num-requests", str(args.load_requests), "--concurrency", "8",
                                "--label", "ours"])
        print(f"\n/health: {httpx.get(url + '/health').status_code}; /stats: {httpx.get(url + '/stats').json()}")
    return status


if __name__ == "__main__":
    sys.exit(main())
