"""The user API: LLM(model_dir).generate(prompts, SamplingParams), shaped like vLLM's."""
from engine import LLMEngine
from sequence import RequestOutput, SamplingParams

__all__ = ["LLM", "SamplingParams", "RequestOutput"]


class LLM(LLMEngine):
    """The engine under the name users know; prompts are lists of token ids (there is no tokenizer)."""
