"""The engine: requests in, completions out. A scheduler picks which requests run together.

Each request keeps a KV cache: its prompt is computed once (prefill), then every
step feeds only its newest token (decode). The caches share one pool of blocks.
The engine only decides what runs; the model runner runs it.
"""
from block_manager import BlockManager
from model import Qwen3Config
from model_runner import ModelRunner
from scheduler import Scheduler
from sequence import RequestOutput, SamplingParams, Sequence


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
    def __init__(self, model_dir, max_model_len: int | None = None, max_num_seqs: int = 8,
                 max_num_batched_tokens: int = 1024, num_kv_blocks: int = 256, block_size: int = 16,
                 device: str = "cpu", enforce_eager: bool = False, seed: int = 0, load_model: bool = True):
        check_setting("max_num_seqs", max_num_seqs, 1)  # 0 would admit no request, ever
        check_setting("max_num_batched_tokens", max_num_batched_tokens, 1)
        check_setting("num_kv_blocks", num_kv_blocks, 1)
        check_setting("block_size", block_size, 1)
        check_setting("seed", seed, 0, 2**64 - 1)
        self.config = Qwen3Config.from_folder(model_dir)  # config.json only: settings are checked before any weight
        self.eos_token_id = self.config.eos_token_id
        # The longest request served, prompt and completion together (vLLM's max_model_len).
        limit = self.config.max_position_embeddings
        self.max_model_len = check_setting("max_model_len", min(limit, DEFAULT_MAX_MODEL_LEN)
                                           if max_model_len is None else max_model_len, 1, limit)
        # load_model=False: the model and its KV cache live in a worker instead (the engine core's executor)
        self.model_runner = ModelRunner(model_dir, num_kv_blocks, block_size, max_num_seqs, self.max_model_len, device,
                                        enforce_eager, seed) if load_model else None
        self.block_manager = BlockManager(num_kv_blocks, block_size)
        self.scheduler = Scheduler(max_num_seqs, max_num_batched_tokens, self.block_manager)

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
            return (f"the prompt has {len(prompt_token_ids)} tokens; the limit (max_model_len) is "
                    f"{self.max_model_len} tokens, prompt and completion together")
        error = params.check()
        if error:
            return error
        # A request that could not finish even alone in the cache would wait forever.
        most_tokens = min(len(prompt_token_ids) + params.max_tokens, self.max_model_len)
        need, have = self.block_manager.num_blocks_for(most_tokens), len(self.block_manager.blocks)
        if need > have:
            return f"the request may need {need} KV blocks; the cache has only {have}"
        return None

    def step(self) -> list[Sequence]:
        """One forward pass: one more token for every scheduled request."""
        seqs, is_prefill = self.scheduler.schedule()
        if not seqs:  # every running request was preempted; the next step prefills again
            return []
        next_tokens = self.model_runner.run(seqs, is_prefill)
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
