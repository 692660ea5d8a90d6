"""The same client and the same requests against the real vLLM server: identical greedy tokens and texts;
vLLM rejects the same bad requests; a small mixed load on vLLM loses nothing either."""
import subprocess
import sys

import httpx
import pytest

import same_requests
from launch import server
from vllm_server import vllm_env, vllm_installed, vllm_server_argv

pytestmark = pytest.mark.skipif(not vllm_installed(), reason="vLLM is not installed in this environment")


@pytest.fixture(scope="module")
def vllm_url(model_dir):
    with server(vllm_server_argv(model_dir), env=vllm_env(), timeout=600) as url:  # vLLM starts slowly on a CPU
        yield url


def test_same_client_same_requests_same_tokens(url, vllm_url, hf_greedy):
    ours, theirs = same_requests.ask(url), same_requests.ask(vllm_url)
    assert len({t for a in theirs for t in a["token_ids"]}) > 5  # varied, or the comparison proves nothing
    first = same_requests.requests()[0]
    prompt = [int(w[1:]) for w in first["prompt"].split()]
    assert theirs[0]["token_ids"] == hf_greedy(prompt, first["max_tokens"])  # and both are transformers' tokens
    assert ours == theirs
    assert all(a["streamed"] == a["text"] for a in theirs)


BAD = [
    (b'{"model": "tiny", "prompt": "w5", "max_tokens": ', "/v1/completions"),
    ({"model": "gpt-4", "prompt": "w5"}, "/v1/completions"),
    ({"model": "tiny", "prompt": " ".join(["w5"] * 300)}, "/v1/completions"),
    ({"model": "tiny", "prompt": "w5", "temperature": -1}, "/v1/completions"),
    ({"model": "tiny", "prompt": "w5", "top_p": 1.5}, "/v1/completions"),
    ({"model": "tiny", "prompt": "w5", "max_tokens": 300}, "/v1/completions"),
    ({"model": "tiny", "messages": "hello"}, "/v1/chat/completions"),
]


@pytest.mark.parametrize("body,path", BAD)
def test_vllm_rejects_the_same_bad_requests(url, vllm_url, body, path):
    answers = []
    for base in (url, vllm_url):
        kwargs = {"content": body, "headers": {"content-type": "application/json"}} if isinstance(body, bytes) \
            else {"json": body}
        r = httpx.post(base + path, timeout=60, **kwargs)
        answers.append((r.status_code, r.json()["error"]["message"]))
    (ours, _), (theirs, message) = answers
    assert 400 <= theirs < 500 and message
    assert ours == theirs  # the same status code (400 or 404) for the same mistake


def test_a_small_mixed_load_on_vllm_loses_nothing(vllm_url):
    result = subprocess.run([sys.executable, "load.py", "--url", vllm_url, "--num-requests", "40", "--concurrency",
                             "8", "--label", "vllm"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lost=0" in result.stdout and "health_after=200" in result.stdout
    assert "'running': 0.0" in result.stdout and "'kv_cache_usage': 0.0" in result.stdout


def test_where_the_two_differ_max_tokens_past_the_context(url, vllm_url):
    """Prompt 3 tokens + max_tokens 254 > max_model_len 256: we refuse up front; vLLM 0.32 accepts it (it only
    refuses max_tokens > max_model_len) and stops at the context's end with finish_reason "length"."""
    body = {"model": "tiny", "prompt": "w5 w6 w7", "max_tokens": 254, "temperature": 0, "ignore_eos": True}
    ours = httpx.post(url + "/v1/completions", json=body, timeout=60)
    theirs = httpx.post(vllm_url + "/v1/completions", json=body, timeout=120)
    assert ours.status_code == 400 and "at most 253 new tokens fit" in ours.json()["error"]["message"]
    assert theirs.status_code == 200
    choice, usage = theirs.json()["choices"][0], theirs.json()["usage"]
    assert choice["finish_reason"] == "length" and usage["total_tokens"] == 256
