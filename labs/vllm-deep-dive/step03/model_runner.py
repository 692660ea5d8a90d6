"""The model runner: everything that touches the model and its KV cache, split from the engine.

The engine decides *what* runs (requests, queues, blocks); the runner decides *how*:
it lays the scheduled requests out as tensors, runs the forward pass and samples.
On CUDA it records the decode step once per batch size as a CUDA graph and then
only replays it: one launch instead of hundreds of small kernel launches.
"""
import torch

from attention import PagedAttention, PagedDecodeAttention, PagedKVCache, token_slots
from model import Qwen3ForCausalLM
from sampler import Sampler
from sequence import Sequence


class ModelRunner:
    def __init__(self, model_dir, num_kv_blocks: int, block_size: int, max_num_seqs: int, max_model_len: int,
                 device: str = "cpu", enforce_eager: bool = False, seed: int = 0):
        if device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
        if device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device is 'cuda' but this machine has no CUDA GPU")
        if not isinstance(enforce_eager, bool):
            raise ValueError(f"enforce_eager must be True or False, got {enforce_eager!r}")
        self.device = torch.device(device)
        self.model = Qwen3ForCausalLM.from_pretrained(model_dir, device=self.device)
        self.config = c = self.model.config
        self.block_size = block_size
        self.max_model_len = max_model_len  # no request grows past it: it bounds every per-request buffer
        self.kv_cache = PagedKVCache(c.num_hidden_layers, num_kv_blocks, block_size, c.num_key_value_heads,
                                     c.head_dim, device=self.device)
        self.sampler = Sampler(seed)
        self.graphs: dict[int, torch.cuda.CUDAGraph] = {}
        if self.device.type == "cuda" and not enforce_eager:
            self.capture_cuda_graphs(max_num_seqs)

    def prepare_prefill(self, seqs: list[Sequence]):
        # Only the tokens after the cached prefix go in; attention still sees every token's key.
        query_lens = [seq.num_tokens - seq.num_cached_tokens for seq in seqs]
        input_ids = torch.tensor([t for seq in seqs for t in seq.token_ids[seq.num_cached_tokens:]])
        positions = torch.cat([torch.arange(seq.num_cached_tokens, seq.num_tokens) for seq in seqs])
        slot_mapping = torch.cat([token_slots(seq.block_table, self.block_size, seq.num_cached_tokens, seq.num_tokens)
                                  for seq in seqs])
        ctx = PagedAttention(self.kv_cache, query_lens, [seq.num_tokens for seq in seqs], slot_mapping.to(self.device),
                             [seq.block_table for seq in seqs])
        last = torch.tensor(query_lens).cumsum(0) - 1  # each request's last token predicts its next
        return input_ids.to(self.device), positions.to(self.device), ctx, last.to(self.device)

    def prepare_decode(self, seqs: list[Sequence]):
        input_ids = torch.tensor([seq.last_token for seq in seqs])
        positions = torch.tensor([seq.num_tokens - 1 for seq in seqs])
        bs = self.block_size  # the newest token's slot, as in token_slots() but for a single position
        slot_mapping = torch.tensor([seq.block_table[(seq.num_tokens - 1) // bs] * bs + (seq.num_tokens - 1) % bs
                                     for seq in seqs])
        context_lens = torch.tensor([seq.num_tokens for seq in seqs])
        width = max(len(seq.block_table) for seq in seqs)
        block_tables = torch.tensor([seq.block_table + [0] * (width - len(seq.block_table)) for seq in seqs])
        return [t.to(self.device) for t in (input_ids, positions, slot_mapping, context_lens, block_tables)]

    @torch.inference_mode()
    def run(self, seqs: list[Sequence], is_prefill: bool) -> list[int]:
        """One forward pass over the scheduled requests; returns one new token per request."""
        if is_prefill:
            input_ids, positions, ctx, last = self.prepare_prefill(seqs)
            hidden = self.model(input_ids, positions, ctx)[last]
        else:
            hidden = self.run_decode(*self.prepare_decode(seqs))
        logits = self.model.compute_logits(hidden)
        temperatures = torch.tensor([seq.params.temperature for seq in seqs], dtype=torch.float32)
        top_ks = torch.tensor([seq.params.top_k for seq in seqs])
        top_ps = torch.tensor([seq.params.top_p for seq in seqs], dtype=torch.float32)
        return self.sampler(logits, temperatures, top_ks, top_ps,
                            generators=[self.generator_of(seq) for seq in seqs]).tolist()

    @staticmethod
    def generator_of(seq: Sequence) -> torch.Generator | None:
        """A seeded request's own random stream. It lives on the request, so after a preemption the
        recomputed request draws on where it stopped, and no batch mate ever draws from it."""
        if seq.params.seed is None:
            return None  # unseeded requests share the sampler's stream, as in vLLM
        if seq.generator is None:
            seq.generator = torch.Generator().manual_seed(seq.params.seed)
        return seq.generator

    def run_decode(self, input_ids, positions, slot_mapping, context_lens, block_tables):
        batch = input_ids.shape[0]
        size = next((s for s in sorted(self.graphs) if s >= batch), None)
        if size is None:  # CPU, enforce_eager, or a batch bigger than any graph: run eagerly
            ctx = PagedDecodeAttention(self.kv_cache, slot_mapping, context_lens, block_tables)
            return self.model(input_ids, positions, ctx)
        # A graph replays fixed addresses: copy this step's inputs into the captured buffers.
        g = self.graph_inputs
        g["input_ids"][:batch] = input_ids
        g["positions"][:batch] = positions
        g["slot_mapping"].fill_(self.kv_cache.scratch_slot)  # padding rows write to scratch
        g["slot_mapping"][:batch] = slot_mapping
        g["context_lens"].fill_(1)
        g["context_lens"][:batch] = context_lens
        g["block_tables"].zero_()
        g["block_tables"][:batch, :block_tables.shape[1]] = block_tables
        self.graphs[size].replay()
        return g["hidden"][:batch]

    def allocate_graph_inputs(self, max_num_seqs: int) -> dict[str, torch.Tensor]:
        """The fixed buffers a decode graph reads and writes, one row per request slot.

        Every decode step gathers each row's whole block table, so its width is set by max_model_len,
        not by the checkpoint's max_position_embeddings (40960 for Qwen3-0.6B: 10x the work at 4096).
        """
        max_blocks = -(-self.max_model_len // self.block_size)
        zeros = lambda *shape: torch.zeros(shape, dtype=torch.long, device=self.device)  # noqa: E731
        g = self.graph_inputs = dict(input_ids=zeros(max_num_seqs), positions=zeros(max_num_seqs),
                                     slot_mapping=zeros(max_num_seqs).fill_(self.kv_cache.scratch_slot),
                                     context_lens=zeros(max_num_seqs) + 1, block_tables=zeros(max_num_seqs, max_blocks))
        g["hidden"] = torch.zeros(max_num_seqs, self.config.hidden_size, device=self.device,
                                  dtype=self.model.lm_head.weight.dtype)
        return g

    def capture_cuda_graphs(self, max_num_seqs: int):
        g = self.allocate_graph_inputs(max_num_seqs)
        sizes = sorted({s for s in (1, 2, 4, 8, *range(16, max_num_seqs + 1, 16)) if s <= max_num_seqs} | {max_num_seqs})
        pool = None
        with torch.inference_mode():
            for size in reversed(sizes):  # biggest first, so smaller graphs reuse its memory pool
                ctx = PagedDecodeAttention(self.kv_cache, g["slot_mapping"][:size], g["context_lens"][:size],
                                           g["block_tables"][:size])
                args = (g["input_ids"][:size], g["positions"][:size], ctx)
                g["hidden"][:size] = self.model(*args)  # warm up outside the capture
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph, pool):
                    g["hidden"][:size] = self.model(*args)
                pool = graph.pool()
                self.graphs[size] = graph
        torch.cuda.synchronize()
