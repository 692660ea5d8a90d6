"""Checks the numbers in this step's README worked answers (풀이) with the step's own code."""
from costs import forward_matmul_flops, matmul_flops
from model import Config


def test_answer_forward_matmul_flops():
    # 풀이 1: run.py's settings: batch 8, seq 64, vocab 512, the rest Config's defaults
    cfg = Config(vocab_size=512)
    assert matmul_flops(512, 64, 64) == 4_194_304  # the q (and o) projection
    assert forward_matmul_flops(cfg, 8, 64) == 144_703_488


def test_answer_donated_bytes():
    # 풀이 1 of step 05: run.py's model (vocab 512); shapes only, via eval_shape (no memory used)
    import jax

    from memory import tree_bytes
    from train import init_state, make_optimizer
    optimizer = make_optimizer()
    params, opt_state = jax.eval_shape(lambda k: init_state(k, Config(vocab_size=512), optimizer), jax.random.key(0))
    assert sum(p.size for p in jax.tree_util.tree_leaves(params)) == 158_016
    assert tree_bytes(params) == 632_064
    assert tree_bytes(opt_state) == 1_264_132
    assert tree_bytes(params) + tree_bytes(opt_state) == 1_896_196


def test_answer_causal_block_pairs():
    # 풀이 1 of step 07: the kernel's loop length for each query block
    from flash_attention import key_blocks
    t, bq, bk = 64, 16, 16
    loops = [key_blocks(i, bq, bk) for i in range(t // bq)]
    assert loops == [1, 2, 3, 4]
    assert sum(loops) == 10
    assert sum(loops) / (t // bq) ** 2 == 0.625
