"""The engine: requests in, completions out. Each request carries its own state."""
import torch

from attention import FullRecompute
from model import Qwen3ForCausalLM
from sampler import Sampler
from sequence import RequestOutput, SamplingParams, Sequence, SequenceStatus


# A checkpoint's max_position_embeddings is what the model can address (40960 for Qwen3-0.6B), not what a
# request needs; whatever is sized per request follows max_model_len, so by default it is capped here.
DEFAULT_MAX_MODEL_LEN = 4096


def check_setting(name: str, value, low: int, high: int | None = None) -> int:
    """An integer engine setting in [low, high], or a ValueError that names it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        allowed = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be an integer {allowed}, got {value!r}")
    return value


class LLMEngine:
    def __init__(self, model_dir, max_model_len: int | None = None, seed: int = 0):
        check_setting("seed", seed, 0, 2**64 - 1)
        self.model = Qwen3ForCausalLM.from_pretrained(model_dir)
        self.config = self.model.config
        self.eos_token_id = self.config.eos_token_id
        # The longest request served, prompt and completion together (vLLM's max_model_len).
        limit = self.config.max_position_embeddings
        self.max_model_len = check_setting("max_model_len", min(limit, DEFAULT_MAX_MODEL_LEN)
                                           if max_model_len is None else max_model_len, 1, limit)
        self.sampler = Sampler(seed)

    def add_request(self, prompt_token_ids, params: SamplingParams) -> Sequence:
        """Wrap a prompt in a Sequence; a bad request is finished at once with an error, not raised."""
        seq = Sequence(prompt_token_ids if isinstance(prompt_token_ids, (list, tuple)) else [], params)
        error = self.check_request(prompt_token_ids, params)
        if error:
            seq.finish("error", error)
        return seq

    def check_request(self, prompt_token_ids, params) -> str | None:
        if not isinstance(params, SamplingParams):
            return f"expected SamplingParams, got {type(params).__name__}"
        if not isinstance(prompt_token_ids, (list, tuple)):
            return f"the prompt must be a list of token ids, got {type(prompt_token_ids).__name__}"
        if len(prompt_token_ids) == 0:
            return "the prompt is empty"
        vocab = self.config.vocab_size
        if any(isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < vocab for t in prompt_token_ids):
            return f"prompt token ids must be integers in [0, {vocab})"
        if len(prompt_token_ids) >= self.max_model_len:
            return (f"the prompt has {len(prompt_token_ids)} tokens; the limit (max_model_len) is "
                    f"{self.max_model_len} tokens, prompt and completion together")
        return params.check()

    @torch.inference_mode()
    def step(self, seq: Sequence) -> None:
        """One forward pass: one more token for one request."""
        seq.status = SequenceStatus.RUNNING
        input_ids = torch.tensor(seq.token_ids)
        positions = torch.arange(seq.num_tokens)
        hidden = self.model(input_ids, positions, FullRecompute())
        [next_token] = self.sample([seq], self.model.compute_logits(hidden[-1:]))
        seq.append_token(next_token, self.eos_token_id, self.max_model_len)

    def sample(self, seqs: list[Sequence], logits: torch.Tensor) -> list[int]:
        """One next token per request, each drawn with its own SamplingParams."""
        temperatures = torch.tensor([seq.params.temperature for seq in seqs], dtype=torch.float32)
        top_ks = torch.tensor([seq.params.top_k for seq in seqs])
        top_ps = torch.tensor([seq.params.top_p for seq in seqs], dtype=torch.float32)
        return self.sampler(logits, temperatures, top_ks, top_ps,
                            generators=[self.generator_of(seq) for seq in seqs]).tolist()

    @staticmethod
    def generator_of(seq: Sequence) -> torch.Generator | None:
        """A seeded request's own random stream. It lives on the request, so no other request ever
        draws from it: the same seed gives the same tokens whatever runs before or beside it."""
        if seq.params.seed is None:
            return None  # unseeded requests share the sampler's stream, as in vLLM
        if seq.generator is None:
            seq.generator = torch.Generator().manual_seed(seq.params.seed)
        return seq.generator

    def generate(self, prompts: list[list[int]], params: SamplingParams | list[SamplingParams]) -> list[RequestOutput]:
        """Complete every prompt; outputs come back in the order of the prompts."""
        if not isinstance(params, list):
            params = [params] * len(prompts)
        seqs = [self.add_request(p, sp) for p, sp in zip(prompts, params, strict=True)]
        for seq in seqs:  # one request at a time, each run to its end
            while not seq.is_finished:
                self.step(seq)
        return [seq.output() for seq in seqs]
