"""The engine: requests in, completions out. A scheduler picks which requests run together."""
import torch

from attention import FullRecompute
from model import Qwen3ForCausalLM
from scheduler import Scheduler
from sequence import RequestOutput, SamplingParams, Sequence


class LLMEngine:
    def __init__(self, model_dir, max_num_seqs: int = 8):
        self.model = Qwen3ForCausalLM.from_pretrained(model_dir)
        self.config = self.model.config
        self.eos_token_id = self.config.eos_token_id
        self.max_model_len = self.config.max_position_embeddings
        self.scheduler = Scheduler(max_num_seqs)

    def add_request(self, prompt_token_ids, params: SamplingParams) -> Sequence:
        """Wrap a prompt in a Sequence; a bad request is finished at once with an error, not raised."""
        seq = Sequence(prompt_token_ids if isinstance(prompt_token_ids, (list, tuple)) else [], params)
        error = self.check_request(prompt_token_ids, params)
        if error:
            seq.finish("error", error)
        else:
            self.scheduler.add(seq)
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
            return (f"the prompt has {len(prompt_token_ids)} tokens; the model's limit is "
                    f"{self.max_model_len} tokens, prompt and completion together")
        return params.check()

    @torch.inference_mode()
    def step(self) -> list[Sequence]:
        """One forward pass: one more token for every scheduled request."""
        seqs = self.scheduler.schedule()
        seq_lens = [seq.num_tokens for seq in seqs]
        input_ids = torch.tensor([t for seq in seqs for t in seq.token_ids])  # requests packed flat
        positions = torch.cat([torch.arange(n) for n in seq_lens])
        hidden = self.model(input_ids, positions, FullRecompute(seq_lens))
        last = torch.tensor(seq_lens).cumsum(0) - 1  # each request's last token predicts its next
        next_tokens = self.model.compute_logits(hidden[last]).argmax(-1).tolist()
        self.scheduler.postprocess(seqs, next_tokens, self.eos_token_id, self.max_model_len)
        return seqs

    def generate(self, prompts: list[list[int]], params: SamplingParams | list[SamplingParams]) -> list[RequestOutput]:
        """Complete every prompt; outputs come back in the order of the prompts."""
        if not isinstance(params, list):
            params = [params] * len(prompts)
        seqs = [self.add_request(p, sp) for p, sp in zip(prompts, params, strict=True)]
        while not self.scheduler.is_finished():
            self.step()
        return [seq.output() for seq in seqs]
