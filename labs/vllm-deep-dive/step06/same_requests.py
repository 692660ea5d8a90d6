"""The same requests, through the official openai client, against any OpenAI-compatible server.

Greedy (temperature 0) completions and chats, streamed and not. Each answer is
reduced to what must be identical between two servers on the same weights: the
generated token ids (vLLM's return_token_ids extension) and the text.
"""
import openai

from tiny_model import random_prompts, to_text


def requests() -> list[dict]:
    prompts = random_prompts(4, 3, 24, 512, seed=3)
    out = []
    for i, p in enumerate(prompts):
        out.append(dict(kind="completion", prompt=to_text(p), max_tokens=6 + 2 * i))
        out.append(dict(kind="chat", messages=[{"role": "user", "content": to_text(p)}], max_tokens=5 + i))
    return out


def ask(base_url: str, model: str = "tiny") -> list[dict]:
    """For each request: token ids and text (non-streamed), and the text streamed."""
    client = openai.OpenAI(base_url=base_url + "/v1", api_key="none", max_retries=0, timeout=120)
    answers = []
    for r in requests():
        common = dict(model=model, max_tokens=r["max_tokens"], temperature=0)
        if r["kind"] == "completion":
            full = client.completions.create(prompt=r["prompt"], extra_body={"return_token_ids": True}, **common)
            choice = full.choices[0]
            text = choice.text
            streamed = "".join(c.choices[0].text for c in
                               client.completions.create(prompt=r["prompt"], stream=True, **common) if c.choices)
        else:
            full = client.chat.completions.create(messages=r["messages"], extra_body={"return_token_ids": True},
                                                  **common)
            choice = full.choices[0]
            text = choice.message.content
            streamed = "".join(c.choices[0].delta.content or "" for c in
                               client.chat.completions.create(messages=r["messages"], stream=True, **common)
                               if c.choices)
        answers.append(dict(kind=r["kind"], token_ids=choice.model_extra.get("token_ids"), text=text,
                            streamed=streamed, finish_reason=choice.finish_reason))
    return answers
