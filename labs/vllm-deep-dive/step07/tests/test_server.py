"""The OpenAI-compatible server, driven by the official openai client: the same greedy tokens as transformers,
streamed or not; bad requests get a 4xx with an error body and the server stays up; a client that leaves
mid-stream frees its KV blocks; a small mixed load loses nothing."""
import json
import subprocess
import sys
import time

import httpx
import openai
import pytest

from tiny_model import random_prompts, to_text


@pytest.fixture(scope="module")
def client(url):
    return openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0, timeout=60)


def test_completions_equal_transformers_streamed_or_not(client, hf_greedy):
    prompts = random_prompts(3, 3, 20, 512, seed=3)
    expected = [hf_greedy(p, 8) for p in prompts]
    assert len({t for out in expected for t in out}) > 5  # varied, or the comparison proves nothing
    for prompt, tokens in zip(prompts, expected):
        r = client.completions.create(model="tiny", prompt=to_text(prompt), max_tokens=8, temperature=0,
                                      extra_body={"return_token_ids": True})
        assert r.choices[0].model_extra["token_ids"] == tokens
        assert r.choices[0].text == " " + to_text(tokens)
        assert r.usage.prompt_tokens == len(prompt) and r.usage.completion_tokens == len(tokens)
        chunks = list(client.completions.create(model="tiny", prompt=to_text(prompt), max_tokens=8, temperature=0,
                                                stream=True))
        assert "".join(c.choices[0].text for c in chunks) == r.choices[0].text
        assert len(chunks) == len(tokens) and chunks[-1].choices[0].finish_reason == r.choices[0].finish_reason


def test_chat_equals_transformers_streamed_or_not(client, hf_greedy):
    messages = [{"role": "user", "content": "w11 w12 w13"}, {"role": "user", "content": "w14"}]
    expected = " " + to_text(hf_greedy([11, 12, 13, 14], 6))  # the template joins the contents with spaces
    r = client.chat.completions.create(model="tiny", messages=messages, max_tokens=6, temperature=0)
    assert r.choices[0].message.content == expected and r.choices[0].message.role == "assistant"
    stream = client.chat.completions.create(model="tiny", messages=messages, max_tokens=6, temperature=0, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == expected


def test_models_and_health(client, url):
    assert [m.id for m in client.models.list()] == ["tiny"]
    assert httpx.get(url + "/health").status_code == 200


@pytest.mark.parametrize("body,status,words", [
    (b'{"model": "tiny", "prompt": "w5", "max_tokens": ', 400, "malformed JSON"),
    ({"model": "gpt-4", "prompt": "w5"}, 404, "does not exist"),
    ({"model": "tiny", "prompt": " ".join(["w5"] * 300)}, 400, "maximum context length is 256"),
    ({"model": "tiny", "prompt": "w5", "temperature": -1}, 400, "temperature must be"),
    ({"model": "tiny", "prompt": "w5", "top_p": 1.5}, 400, "top_p must be"),
    ({"model": "tiny", "prompt": "w5", "max_tokens": 0}, 400, "max_tokens must be"),
    ({"model": "tiny", "prompt": "w5", "max_tokens": 300}, 400, "max_tokens is too large"),
    ({"model": "tiny", "prompt": "w5", "max_tokens": "many"}, 400, "max_tokens"),
    ({"model": "tiny", "prompt": [600]}, 400, "[0, 512)"),
    ({"model": "tiny", "messages": "hello"}, 400, "messages"),
])
def test_bad_requests_get_an_openai_error_and_the_server_stays_up(url, body, status, words):
    path = "/v1/chat/completions" if isinstance(body, dict) and "messages" in body else "/v1/completions"
    r = httpx.post(url + path, **({"content": body, "headers": {"content-type": "application/json"}}
                                  if isinstance(body, bytes) else {"json": body}))
    assert r.status_code == status
    error = r.json()["error"]
    assert words in error["message"] and error["code"] == status and error["type"]
    assert httpx.get(url + "/health").status_code == 200


def test_the_openai_client_sees_typed_errors(client):
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model="gpt-4", prompt="w5", max_tokens=2)
    with pytest.raises(openai.BadRequestError, match="maximum context length"):
        client.completions.create(model="tiny", prompt=" ".join(["w5"] * 300), max_tokens=2)


def wait_idle(url: str) -> dict:
    deadline = time.monotonic() + 10
    while (s := httpx.get(url + "/stats").json())["num_running"] + s["num_waiting"] and time.monotonic() < deadline:
        time.sleep(0.05)
    return s


def test_a_client_that_leaves_mid_stream_frees_its_blocks(url):
    before = wait_idle(url)
    body = {"model": "tiny", "prompt": "w5 w6 w7", "max_tokens": 200, "ignore_eos": True, "stream": True}
    with httpx.stream("POST", url + "/v1/completions", json=body, timeout=30) as r:
        lines = (line for line in r.iter_lines() if line.startswith("data: "))
        assert "text" in json.loads(next(lines)[6:])["choices"][0]
        running = httpx.get(url + "/stats").json()
        assert running["num_free_blocks"] < running["num_blocks"]  # it holds blocks while it streams
    after = wait_idle(url)  # leaving the block closed the connection
    assert after["num_aborted"] == before["num_aborted"] + 1
    assert after["num_free_blocks"] == after["num_blocks"] == 128


def test_a_small_mixed_load_loses_nothing(url):
    result = subprocess.run([sys.executable, "load.py", "--url", url, "--num-requests", "40", "--concurrency", "8"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lost=0" in result.stdout and "health_after=200" in result.stdout
    assert "'running': 0" in result.stdout and "'kv_blocks_in_use': 0" in result.stdout
