"""CUDA graphs for decode: the capture sizes and the padding rows are checked on a CPU; the replay on a GPU."""
import torch
from dlc_shared.testing import assert_close, gpu

from engine import LLMEngine
from model_runner import capture_sizes, graph_size_for
from sequence import SamplingParams
from tiny_model import random_prompts


def test_capture_sizes_follow_vllm():
    assert capture_sizes(64) == [1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64]
    assert capture_sizes(37) == [1, 2, 4, 8, 16, 24, 32, 37]  # the largest batch always has its own graph
    assert capture_sizes(3) == [1, 2, 3]


def test_a_batch_replays_the_smallest_graph_that_holds_it():
    sizes = capture_sizes(64)
    assert [graph_size_for(b, sizes) for b in (1, 3, 5, 37, 64, 65)] == [1, 4, 8, 40, 64, None]


def test_padding_rows_leave_the_real_rows_and_the_cache_alone(model_dir):
    # What a graph of size 8 computes for a batch of 3, run eagerly on the CPU with the same buffers.
    engine = LLMEngine(model_dir, max_num_seqs=8, block_size=4)
    runner = engine.model_runner
    for prompt in random_prompts(3, 3, 11, 512, seed=40):
        engine.add_request(prompt, SamplingParams(max_tokens=4))
    engine.step()  # prefill
    seqs = list(engine.scheduler.running)
    for seq in seqs:  # what the scheduler does before a decode step: room for the next token
        engine.block_manager.may_append(seq)
    inputs = runner.prepare_decode(seqs)
    with torch.inference_mode():
        eager = runner.run_decode(*inputs)
        before = runner.kv_cache.keys.clone()
        g = runner.allocate_graph_inputs(8)
        g["slot_mapping"].fill_(0)  # left over from an earlier, bigger batch
        g["context_lens"].fill_(7)
        g["block_tables"].fill_(1)
        runner.fill_graph_inputs(*inputs)
        assert (g["slot_mapping"][3:] == runner.kv_cache.scratch_slot).all() and (g["context_lens"][3:] == 1).all()
        assert not g["block_tables"][3:].any() and torch.equal(g["context_lens"][:3], inputs[3])
        ctx = runner.decode_attention(runner.kv_cache, g["slot_mapping"], g["context_lens"], g["block_tables"])
        padded = runner.model(g["input_ids"], g["positions"], ctx)
    # The same rows through a batch of 8 and a wider block table: rounding only (logits' rule, test_model.py)
    assert_close(padded[:3], eager, torch.float32, terms=128, depth=3)
    untouched = torch.ones(before.shape[1], dtype=torch.bool)
    untouched[inputs[2]] = False  # the 3 new tokens' slots were written again
    untouched[runner.kv_cache.scratch_slot] = False  # and the 5 padding rows wrote here
    assert torch.equal(runner.kv_cache.keys[:, untouched], before[:, untouched])


@gpu
def test_decode_graphs_with_the_triton_kernels_give_transformers_tokens(model_dir, hf_greedy):
    prompts = random_prompts(5, 2, 20, 512, seed=16)
    expected = [hf_greedy(p, 10) for p in prompts]
    engine = LLMEngine(model_dir, max_num_seqs=4, device="cuda")  # auto: Triton norms, SiLU, paged attention
    assert sorted(engine.model_runner.graphs) == capture_sizes(4) == [1, 2, 4]
    assert [o.token_ids for o in engine.generate(prompts, SamplingParams(max_tokens=10))] == expected
