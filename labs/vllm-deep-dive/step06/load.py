"""A load tool for an OpenAI-compatible server: good requests, broken ones and clients that leave.

    python load.py --url http://127.0.0.1:8000 --num-requests 200 --concurrency 16 [--json NAME]

Runs in its own process (httpx, asyncio). The mix: completions and chat, streamed
and not; streams whose client disconnects after the first chunk; malformed JSON,
an unknown model, an over-long prompt, bad sampling parameters, max_tokens beyond
the context. Every request must end as expected: a good one completed, a bad one
rejected with a 4xx and an OpenAI error body, a disconnect just gone. Anything
else (a timeout, a 5xx, a good request refused, a bad one served) counts as lost.
Afterwards the server must answer /health and hold no running request or KV block.
"""
import argparse
import asyncio
import json
import random
import re
import sys
import time

import httpx

GOOD = ["completion", "completion-stream", "chat", "chat-stream"]
BAD = ["malformed-json", "unknown-model", "too-long", "bad-sampling", "max-tokens-over"]


def plan(num: int, seed: int) -> list[str]:
    """Which kind each request is: 60% good, 10% disconnects, 30% bad (in a fixed shuffled order)."""
    rng = random.Random(seed)
    kinds = [GOOD[i % 4] if i % 10 < 6 else "disconnect" if i % 10 == 6 else BAD[i % len(BAD)] for i in range(num)]
    rng.shuffle(kinds)
    return kinds


def body_for(kind: str, model: str, max_model_len: int, rng: random.Random) -> dict | bytes:
    words = " ".join(f"w{rng.randrange(3, 500)}" for _ in range(rng.randint(4, 24)))
    base = {"model": model, "max_tokens": rng.randint(4, 24), "temperature": 0}
    if kind in ("completion", "completion-stream"):
        return {**base, "prompt": words, "stream": kind.endswith("stream")}
    if kind in ("chat", "chat-stream"):
        return {**base, "messages": [{"role": "user", "content": words}], "stream": kind.endswith("stream")}
    if kind == "disconnect":  # long enough to still run when the client leaves
        return {**base, "prompt": words, "stream": True, "max_tokens": 128, "ignore_eos": True}
    if kind == "malformed-json":
        return b'{"model": "' + model.encode() + b'", "prompt": "w5 w6", "max_tokens": '
    if kind == "unknown-model":
        return {**base, "model": "no-such-model", "prompt": words}
    if kind == "too-long":
        return {**base, "prompt": " ".join(["w7"] * (max_model_len + 10))}
    if kind == "bad-sampling":
        return {**base, "prompt": words, **rng.choice([{"temperature": -1}, {"top_p": 1.5}, {"max_tokens": 0}])}
    if kind == "max-tokens-over":  # more new tokens than the whole context holds
        return {**base, "prompt": words, "max_tokens": max_model_len + 10}
    raise ValueError(kind)


async def one(client: httpx.AsyncClient, kind: str, body) -> tuple[str, float]:
    """('completed' | 'disconnected' | 'rejected' | 'lost: why', seconds)."""
    path = "/v1/chat/completions" if isinstance(body, dict) and "messages" in body else "/v1/completions"
    start = time.perf_counter()
    try:
        if isinstance(body, bytes):
            r = await client.post(path, content=body, headers={"content-type": "application/json"})
            return judge_rejection(r), time.perf_counter() - start
        if body.get("stream") and kind not in BAD:
            async with client.stream("POST", path, json=body) as r:
                if r.status_code != 200:
                    await r.aread()
                    return f"lost: HTTP {r.status_code} {r.text[:100]}", time.perf_counter() - start
                chunks = 0
                async for line in r.aiter_lines():
                    if line == "data: [DONE]":
                        return "completed", time.perf_counter() - start
                    if line.startswith("data: "):
                        if "error" in json.loads(line[6:]):
                            return f"lost: error event {line[:100]}", time.perf_counter() - start
                        chunks += 1
                        if kind == "disconnect":
                            return "disconnected", time.perf_counter() - start  # leaving the block closes it
                return "lost: the stream ended without [DONE]", time.perf_counter() - start
        r = await client.post(path, json=body)
        if kind in BAD:
            return judge_rejection(r), time.perf_counter() - start
        if r.status_code == 200 and r.json()["choices"][0]["finish_reason"] in ("stop", "length"):
            return "completed", time.perf_counter() - start
        return f"lost: HTTP {r.status_code} {r.text[:100]}", time.perf_counter() - start
    except (httpx.HTTPError, json.JSONDecodeError) as e:
        return f"lost: {type(e).__name__} {e}", time.perf_counter() - start


def judge_rejection(r: httpx.Response) -> str:
    try:
        message = r.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = None
    if 400 <= r.status_code < 500 and message:
        return "rejected"
    return f"lost: a bad request got HTTP {r.status_code} {r.text[:100]}"


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


async def server_state(client: httpx.AsyncClient) -> dict:
    """Requests still running/waiting and KV use: our /stats, or vLLM's Prometheus /metrics."""
    r = await client.get("/stats")
    if r.status_code == 200:
        s = r.json()
        return dict(running=s["num_running"], waiting=s["num_waiting"],
                    kv_blocks_in_use=s["num_blocks"] - s["num_free_blocks"], aborted=s["num_aborted"])
    text = (await client.get("/metrics")).text
    def metric(name):
        found = re.findall(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+-]+)$", text, re.M)
        return sum(float(x) for x in found) if found else None
    return dict(running=metric("vllm:num_requests_running"), waiting=metric("vllm:num_requests_waiting"),
                kv_cache_usage=metric("vllm:kv_cache_usage_perc"))


async def run(args) -> dict:
    rng = random.Random(args.seed)
    timeout = httpx.Timeout(args.timeout)
    limits = httpx.Limits(max_connections=args.concurrency + 4)
    async with httpx.AsyncClient(base_url=args.url, timeout=timeout, limits=limits) as client:
        models = (await client.get("/v1/models")).json()["data"]
        model, max_model_len = models[0]["id"], models[0].get("max_model_len", 256)
        kinds = plan(args.num_requests, args.seed)
        bodies = [body_for(k, model, max_model_len, rng) for k in kinds]
        results: list[tuple[str, float]] = [None] * len(kinds)
        todo = iter(range(len(kinds)))

        async def worker():
            for i in todo:
                results[i] = await one(client, kinds[i], bodies[i])

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        wall = time.perf_counter() - start
        deadline = time.monotonic() + 15
        while True:  # aborts reach the engine within a step or two
            state = await server_state(client)
            if (not state["running"] and not state["waiting"]) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        health = (await client.get("/health")).status_code
    latencies = [s for (r, s) in results if r == "completed"]
    count = lambda what: sum(r == what for r, _ in results)  # noqa: E731
    lost = [r for r, _ in results if r.startswith("lost")]
    return dict(target=args.label, sent=len(results), completed=count("completed"), disconnected=count("disconnected"),
                rejected=count("rejected"), lost=len(lost), lost_reasons=sorted(set(lost))[:5],
                concurrency=args.concurrency, p50_s=round(percentile(latencies, 0.5), 4),
                p99_s=round(percentile(latencies, 0.99), 4), wall_s=round(wall, 3), health_after=health,
                after=state)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--num-requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight at once")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a request may take")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", default="server", help="a name for the server in the table")
    parser.add_argument("--json", metavar="NAME", help="record results/NAME.json")
    args = parser.parse_args(argv)
    if args.num_requests < 1 or args.concurrency < 1 or args.timeout <= 0:
        parser.error("--num-requests and --concurrency must be at least 1, --timeout above 0")
    try:
        result = asyncio.run(run(args))
    except (httpx.HTTPError, KeyError, ValueError) as e:
        sys.exit(f"error: cannot load-test {args.url}: {type(e).__name__}: {e}")
    print(" ".join(f"{k}={result[k]}" for k in ("target", "sent", "completed", "disconnected", "rejected", "lost",
                                               "concurrency", "p50_s", "p99_s", "wall_s", "health_after")))
    print("after the load:", result["after"], *(["lost:", result["lost_reasons"]] if result["lost"] else []))
    if args.json:
        from dlc_shared.bench import write_result
        print("wrote", write_result(args.json, result, packages=("torch", "httpx", "fastapi", "uvicorn", "vllm")))
    clean = result["after"]["running"] == 0 and result["after"]["waiting"] == 0 and \
        result["after"].get("kv_blocks_in_use", 0) == 0 and (result["after"].get("kv_cache_usage") or 0) == 0
    return 0 if result["lost"] == 0 and result["health_after"] == 200 and clean else 1


if __name__ == "__main__":
    sys.exit(main())
