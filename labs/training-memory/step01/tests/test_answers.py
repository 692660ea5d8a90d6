"""The numbers in this step's README answers (풀이), computed with the step's own code."""

from mlp import forward_flops, init_mlp, layer_flops

B, MNIST = 256, [784, 1024, 1024, 10]  # run.py's default batch and MLP


# ---- step 1 -------------------------------------------------------------------------------------
def test_answer_flops_scale_with_batch_and_width():
    """Q1: twice the batch doubles every layer; twice the hidden width doubles layers 1 and 3, quadruples layer 2."""
    assert forward_flops(B, MNIST) == 953_155_584
    assert forward_flops(2 * B, MNIST) == 2 * 953_155_584
    wide = [784, 2048, 2048, 10]
    assert layer_flops(B, wide) == [822_083_584, 2_147_483_648, 10_485_760]
    assert [w // n for w, n in zip(layer_flops(B, wide), layer_flops(B, MNIST))] == [2, 4, 2]
    assert forward_flops(B, wide) == 2_980_052_992
    assert f"{forward_flops(B, wide) / forward_flops(B, MNIST):.2f}" == "3.13"


def test_answer_bias_and_relu_are_a_tenth_of_a_percent():
    """Q2: the estimate sum_i 2*B*d_i, and the exact count (a bias add per output, a ReLU per hidden output)."""
    estimate = 2 * B * sum(MNIST[1:])
    exact = B * sum(MNIST[1:]) + B * sum(MNIST[1:-1])
    assert (estimate, exact) == (1_053_696, 1_051_136)
    assert f"{estimate / forward_flops(B, MNIST):.2%}" == f"{exact / forward_flops(B, MNIST):.2%}" == "0.11%"


def test_answer_batch_one_reads_every_weight_for_half_a_flop_per_byte():
    """Q3: FLOPs per byte of fp32 weights read once: B/2 (two FLOPs per weight per row, four bytes per weight)."""
    weights = sum(t.numel() * t.element_size() for wb in init_mlp(MNIST) for t in wb)
    assert weights == 7_454_760  # 1,863,690 parameters x 4 bytes
    assert forward_flops(1, MNIST) == 3_723_264
    assert f"{forward_flops(1, MNIST) / weights:.2f}" == "0.50"
    assert f"{forward_flops(B, MNIST) / weights:.1f}" == "127.9"
