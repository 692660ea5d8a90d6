"""The numbers in the README's worked answers (풀이), computed with this step's code."""
import torch
import transformers
from dlc_shared.testing import assert_close

from attention import CachedAttention, KVCache, causal_attention
from engine import LLMEngine
from model import Qwen3Config, Qwen3ForCausalLM
from sampler import keep_top_k_top_p
from sequence import SamplingParams
from tiny_model import make_tiny_qwen3, random_prompts

# Qwen3-0.6B's config.json, as numbers; the model is built on the meta device (shapes, no weights).
QWEN3_0_6B = Qwen3Config(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28,
                         num_attention_heads=16, num_key_value_heads=8, head_dim=128, max_position_embeddings=40960,
                         rms_norm_eps=1e-6, rope_theta=1e6, tie_word_embeddings=True, eos_token_id=151645)


def qwen3_0_6b(dtype=torch.float32):
    with torch.device("meta"):
        return Qwen3ForCausalLM(QWEN3_0_6B).to(dtype)


def test_answer_logits_bytes():
    model = qwen3_0_6b()
    hidden = torch.empty(1000, QWEN3_0_6B.hidden_size, device="meta")
    assert model.compute_logits(hidden).nbytes == 1000 * 151936 * 4 == 607_744_000  # about 608 MB
    assert model.compute_logits(hidden[-1]).nbytes == 607_744  # the last row alone: about 0.6 MB


def test_answer_fewer_queries_than_keys_are_the_last_rows():
    torch.manual_seed(0)
    q, k, v = torch.randn(6, 4, 8), torch.randn(6, 2, 8), torch.randn(6, 2, 8)
    # 2 new queries over all 6 keys = the last 2 rows of the full causal attention
    # (float32 both ways: dot products of 8 terms, then averages of at most 6 values)
    assert_close(causal_attention(q[-2:], k, v), causal_attention(q, k, v)[-2:], torch.float32, terms=8, depth=2)


def test_answer_small_init_repeats_one_token(model_dir, tmp_path, monkeypatch):
    prompts = random_prompts(4, 1, 30, 512, seed=3)  # as in test_greedy_matches_transformers_for_mixed_lengths
    real_init = transformers.Qwen3Config.__init__

    def init_with(self, *args, **kwargs):  # tiny_model.py with initializer_range 0.02 instead of 0.1
        real_init(self, *args, **{**kwargs, "initializer_range": 0.02})
    monkeypatch.setattr(transformers.Qwen3Config, "__init__", init_with)
    small = make_tiny_qwen3(tmp_path / "tiny-qwen3-init0.02", seed=0)
    monkeypatch.undo()
    outputs = {folder: greedy(folder, prompts) for folder in (model_dir, small)}
    assert len({t for out in outputs[model_dir] for t in out}) == 14  # std 0.1: varied tokens
    # std 0.02: every prompt repeats one token, 4 distinct in all; the "varied" check (> 5) would fail
    assert all(len(set(out)) == 1 for out in outputs[small])
    assert len({t for out in outputs[small] for t in out}) == 4


def greedy(folder, prompts):
    return [out.token_ids for out in LLMEngine(folder).generate(prompts, SamplingParams(max_tokens=12))]


def test_answer_prompt_one_short_of_the_limit(model_dir):
    engine = LLMEngine(model_dir, max_model_len=20)
    short, full = engine.generate([[7] * 19, [7] * 20], SamplingParams(max_tokens=10))
    assert (len(short.token_ids), short.finish_reason) == (1, "length")
    assert (full.token_ids, full.finish_reason) == ([], "error")


def first_step(engine, prompts):
    """The hidden rows of the first forward pass and the rows that went on to the logits."""
    model, seen = engine.model, {}
    forward, compute_logits = model.forward, model.compute_logits

    def forward_spy(*args):
        return seen.setdefault("hidden", forward(*args))

    def compute_logits_spy(hidden):
        seen.setdefault("last", hidden)
        return compute_logits(hidden)
    model.forward, model.compute_logits = forward_spy, compute_logits_spy
    engine.generate(prompts, SamplingParams(max_tokens=1))  # one step: the prefill
    return seen["hidden"], seen["last"]


def test_answer_packing_has_no_padding(model_dir):
    hidden, _ = first_step(LLMEngine(model_dir), [[7] * 5, [8] * 50])
    assert hidden.shape[0] == 5 + 50 == 55  # padded to [2, 50] it would be 100 rows, 45 of them padding


def test_answer_last_token_rows(model_dir):
    hidden, last = first_step(LLMEngine(model_dir), [[5, 6, 7], [8, 9], [10, 11, 12, 13]])
    assert torch.equal(last, hidden[[2, 4, 8]])  # cumsum([3, 2, 4]) - 1


def test_answer_kv_bytes_per_token(model_dir):
    caches = []
    for model in (Qwen3ForCausalLM.from_pretrained(model_dir), qwen3_0_6b(torch.bfloat16)):
        cache = KVCache(model.config.num_hidden_layers)
        ids = torch.zeros(1, dtype=torch.long, device=model.lm_head.weight.device)
        with torch.inference_mode():
            model(ids, ids, CachedAttention([1], [cache]))  # one token through every layer
        caches.append(sum(k.nbytes + v.nbytes for k, v in zip(cache.keys, cache.values)))
    assert caches == [1024, 114688]  # the tiny model: 1 KiB a token; Qwen3-0.6B in bf16: 112 KiB
    assert 114688 * 4096 * 64 == 28 * 2**30  # 64 requests of 4096 tokens: 28 GiB


def test_answer_cat_copies_the_whole_cache(model_dir, monkeypatch):
    import engine as engine_module
    copied = []

    class CountingKVCache(KVCache):
        def append(self, layer_idx, k, v):
            grows = self.keys[layer_idx] is not None
            keys, values = super().append(layer_idx, k, v)
            if grows and layer_idx == 0:
                copied.append(keys.shape[0])  # torch.cat wrote a new tensor of this many tokens
            return keys, values
    monkeypatch.setattr(engine_module, "KVCache", CountingKVCache)
    LLMEngine(model_dir).generate([[7] * 8], SamplingParams(max_tokens=5, ignore_eos=True))
    assert copied == [9, 10, 11, 12] and sum(copied) == 42  # prompt 8, 5 new tokens: 4 decode steps


def test_answer_top_k_and_top_p_candidates():
    logits = torch.tensor([[0.4, 0.3, 0.2, 0.1]]).log()
    top_p = keep_top_k_top_p(logits, torch.tensor([0]), torch.tensor([0.5]))
    assert torch.isfinite(top_p).tolist() == [[True, True, False, False]]  # 0.4 < 0.5, then 0.4 + 0.3 >= 0.5
    # renormalized: 4/7 and 3/7 (a softmax over 2 finite logits, float32)
    assert_close(torch.softmax(top_p, -1), torch.tensor([[4 / 7, 3 / 7, 0, 0]]), torch.float32, terms=2)
    top_1 = keep_top_k_top_p(logits * 10, torch.tensor([1]), torch.tensor([1.0]))
    assert torch.isfinite(top_1).tolist() == [[True, False, False, False]]  # only the argmax, at any temperature
