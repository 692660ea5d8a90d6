"""The OpenAI API's request bodies and error shape, and the checks that turn a body into engine input.

Every failure becomes an APIError that the server answers as
    {"error": {"message": ..., "type": ..., "param": ..., "code": status}}
with a 4xx status: the caller's mistake is reported, and the server keeps going.
"""
from pydantic import BaseModel, ConfigDict

from messages import SamplingParams


class APIError(Exception):
    def __init__(self, status: int, message: str, type_: str = "BadRequestError", param: str | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.param = status, message, type_, param

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.status}}


class Sampling(BaseModel):
    """The sampling fields both endpoints share (top_k, seed, ignore_eos, return_token_ids: vLLM's additions)."""
    model_config = ConfigDict(extra="ignore")  # fields we do not implement (user, logit_bias, ...) are ignored
    model: str
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    seed: int | None = None
    n: int = 1
    stream: bool = False
    ignore_eos: bool = False
    return_token_ids: bool = False


class CompletionRequest(Sampling):
    prompt: str | list[int]


class ChatMessage(BaseModel):
    role: str
    content: str


class ChatCompletionRequest(Sampling):
    messages: list[ChatMessage]
    max_completion_tokens: int | None = None  # the newer name of max_tokens


def sampling_params(body: Sampling, prompt_len: int, max_model_len: int) -> SamplingParams:
    """The engine's SamplingParams for this body, or an APIError naming what is wrong."""
    if body.n != 1:
        raise APIError(400, f"n must be 1 here (one completion per request), got {body.n}", param="n")
    max_tokens = getattr(body, "max_completion_tokens", None) or body.max_tokens
    room = max_model_len - prompt_len
    if max_tokens is None:
        max_tokens = room  # as many as fit
    elif max_tokens > room:
        raise APIError(400, f"max_tokens is too large: {max_tokens}. This model's maximum context length is "
                            f"{max_model_len} tokens and your prompt has {prompt_len} tokens, "
                            f"so at most {room} new tokens fit", param="max_tokens")
    top_k = 0 if body.top_k in (None, -1) else body.top_k  # vLLM and OpenAI spell "off" as -1 or leave it out
    try:
        return SamplingParams(max_tokens=max_tokens, temperature=1.0 if body.temperature is None else body.temperature,
                              top_p=1.0 if body.top_p is None else body.top_p, top_k=top_k, seed=body.seed,
                              ignore_eos=body.ignore_eos)
    except ValueError as e:
        raise APIError(400, str(e), param=str(e).split()[0]) from None


def check_prompt(prompt_ids: list[int], vocab_size: int, max_model_len: int) -> None:
    if not prompt_ids:
        raise APIError(400, "the prompt is empty", param="prompt")
    if any(not 0 <= t < vocab_size for t in prompt_ids):
        raise APIError(400, f"token ids in the prompt must be in [0, {vocab_size})", param="prompt")
    if len(prompt_ids) >= max_model_len:
        raise APIError(400, f"This model's maximum context length is {max_model_len} tokens. However, your prompt "
                            f"has {len(prompt_ids)} tokens (leaving no room for a completion)", param="prompt")


class Detokenizer:
    """Text for the generated tokens, grown one step at a time.

    Decoding each new token alone can be wrong (a word split into pieces, spaces a
    tokenizer adds between words), so it decodes prompt + completion and keeps
    what comes after the prompt's text, then hands out only the new part.
    """

    def __init__(self, tokenizer, prompt_ids: list[int]):
        self.tokenizer, self.prompt_ids = tokenizer, list(prompt_ids)
        self.prefix = tokenizer.decode(self.prompt_ids, skip_special_tokens=True)
        self.text = ""

    def step(self, token_ids: list[int]) -> str:
        full = self.tokenizer.decode(self.prompt_ids + list(token_ids), skip_special_tokens=True)
        text = full[len(self.prefix):]
        delta, self.text = text[len(self.text):], text
        return delta
