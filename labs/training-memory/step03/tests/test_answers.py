"""The numbers in this step's README answers (풀이), computed with the step's own code."""
import torch
from torch.utils.flop_counter import FlopCounterMode

from memory import SavedTensorMeter, unique_bytes
from mlp import (activation_bytes, backward_flops, forward_flops, init_mlp, layer_flops, mlp_backward, mlp_forward,
                 mse_loss_grad)

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


# ---- step 2 -------------------------------------------------------------------------------------
def test_answer_input_gradient_costs_the_skipped_layer():
    """Q2: with dL/dx too, backward is exactly 2x forward: the first layer's dh costs one more forward matmul."""
    assert backward_flops(B, MNIST) + layer_flops(B, MNIST)[0] == 2 * forward_flops(B, MNIST) == 1_906_311_168
    assert layer_flops(B, MNIST)[0] == 411_041_792
    # autograd agrees when the input needs a gradient (a small shape: the count, not the values, is checked)
    sizes = [12, 32, 24, 5]
    params = init_mlp(sizes)
    x = torch.randn(16, sizes[0], requires_grad=True)
    loss, _ = mse_loss_grad(mlp_forward(x, params), torch.randn(16, sizes[-1]))
    with FlopCounterMode(display=False) as counter:
        loss.backward()
    assert counter.get_total_flops() == 2 * forward_flops(16, sizes)


def test_answer_relu_mask_from_the_output_drops_z():
    """Q3: [z > 0] == [relu(z) > 0], so the next layer's input replaces z: same gradients, smaller cache."""
    params = init_mlp(MNIST)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(B, MNIST[0], generator=gen)
    cache = []
    with torch.no_grad():
        _, grad_out = mse_loss_grad(mlp_forward(x, params, cache), torch.randn(B, MNIST[-1], generator=gen))
    inputs = [h for h, _ in cache]
    # layer i's mask from layer i+1's input; the last layer has no ReLU, so its z is never read
    lean = [(h, nxt) for h, nxt in zip(inputs, inputs[1:])] + [(inputs[-1], None)]
    with torch.no_grad():
        full, from_output = mlp_backward(grad_out, params, cache), mlp_backward(grad_out, params, lean)
    assert all(torch.equal(a, b) for pa, pb in zip(full, from_output) for a, b in zip(pa, pb))  # same ops exactly

    def storage_bytes(tensors):
        return sum({t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors}.values())

    # float32: input + z of every layer, or the inputs only
    assert storage_bytes(t for pair in cache for t in pair) == 5_007_360
    assert storage_bytes(inputs) == 2_899_968


# ---- step 3 -------------------------------------------------------------------------------------
def gelu_mlp_forward(x, params):
    """step 3's MLP with GELU in place of ReLU; GELU keeps its input z, a buffer apart from its output."""
    h = x
    for i, (w, b) in enumerate(params):
        z = h @ w + b
        h = torch.nn.functional.gelu(z) if i < len(params) - 1 else z
    return h


def test_answer_gelu_keeps_the_pre_activation_too():
    """Q1: inputs of every layer plus every hidden pre-activation: 4 * 256 * (2832 + 2048) bytes."""
    params = init_mlp(MNIST)
    with SavedTensorMeter([p for wb in params for p in wb]) as meter:
        gelu_mlp_forward(torch.randn(B, MNIST[0]), params)
    assert meter.bytes == 4 * B * (sum(MNIST[:-1]) + sum(MNIST[1:-1])) == 4_997_120
    assert activation_bytes(B, MNIST) == 2_899_968  # ReLU: the inputs only


def test_answer_no_grad_keeps_nothing():
    """Q2: under torch.no_grad() no op saves anything for backward."""
    params = init_mlp(MNIST)
    with SavedTensorMeter([p for wb in params for p in wb]) as meter, torch.no_grad():
        mlp_forward(torch.randn(B, MNIST[0]), params)
    assert meter.bytes == 0


def test_answer_bfloat16_halves_activations_and_weights():
    """Q3: 2 bytes per element instead of 4, for the saved activations and for the weights themselves."""
    params = init_mlp(MNIST, dtype=torch.bfloat16)
    flat = [p for wb in params for p in wb]
    with SavedTensorMeter(flat) as meter:
        mlp_forward(torch.randn(B, MNIST[0]).bfloat16(), params)
    assert meter.bytes == activation_bytes(B, MNIST, itemsize=2) == 1_449_984
    assert unique_bytes(flat) == 3_727_380
