"""With a KV cache, each token passes through the model once: prefill the prompt, then one per step."""
from engine import LLMEngine
from sequence import SamplingParams
from tiny_model import random_prompts


def test_each_token_is_computed_once(model_dir, hf_greedy):
    engine = LLMEngine(model_dir, max_num_seqs=4)
    fed = []
    forward = engine.model.forward
    engine.model.forward = lambda input_ids, positions, ctx: fed.append(len(input_ids)) or forward(input_ids, positions, ctx)
    prompts = random_prompts(3, 4, 20, engine.config.vocab_size, seed=12)
    outputs = engine.generate(prompts, SamplingParams(max_tokens=6, ignore_eos=True))
    assert [o.token_ids for o in outputs] == [hf_greedy(p, 6, eos_token_id=None) for p in prompts]
    # one prefill with every prompt token, then 5 decode steps of one token per request
    assert fed == [sum(map(len, prompts))] + [3] * 5
    assert engine.kv_caches == {}  # finished requests gave their caches back
