"""The numbers in the README's worked answers (풀이), computed with this step's code."""
import math

import torch

from dlc_shared.testing import assert_close


# step 1: loss.py, model.py

def test_answer_uniform_loss_is_ln_v():
    """Q1: all-zero logits give a uniform softmax, whose cross-entropy is ln V (10.8249 for GPT-2, 11.7618 for Llama 3)."""
    from loss import next_token_loss
    for vocab, quoted in ((2048, 7.6246), (50257, 10.8249), (128256, 11.7618)):
        logits = torch.zeros(1, 2, vocab, dtype=torch.float64)
        targets = torch.tensor([[0, vocab - 1]])
        loss = next_token_loss(logits, targets).item()
        # logsumexp over V equal terms, then a mean over 2 positions
        assert_close(loss, math.log(vocab), torch.float64, terms=vocab, depth=2)
        assert round(loss, 4) == quoted


def test_answer_init_std_one():
    """Q2: with std 1 instead of 0.02 the logits spread like sqrt(d) = 11.3 and the loss starts near 39, not ln V."""
    from loss import inputs_and_targets, next_token_loss
    from model import Llama, ModelConfig
    torch.manual_seed(0)
    cfg = ModelConfig()
    model = Llama(cfg)
    for p in model.parameters():
        if p.dim() >= 2:
            torch.nn.init.normal_(p, std=1.0)
    torch.manual_seed(1)
    x, y = inputs_and_targets(torch.randint(cfg.vocab_size, (4, cfg.block_size + 1)))
    with torch.no_grad():
        logits = model(x)
    # Statistical bounds, not rounding: 4*128*2048 logits, each a sum of d = 128 unit products after RMSNorm;
    # the spread of the sample std is far below 5%, and the loss is about the expected max of V normals (~3.4 sigma).
    assert abs(logits.std().item() / math.sqrt(cfg.d_model) - 1) < 0.05
    assert 35 < next_token_loss(logits, y).item() < 42


def test_answer_sum_loss_scales_gradient_by_bt():
    """Q3: a summed loss has a gradient B*T = 1024 times the mean's (B = 16, T = 64)."""
    from loss import next_token_loss
    torch.manual_seed(0)
    B, T, V = 16, 64, 32
    logits = torch.randn(B, T, V, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(V, (B, T))
    (g_mean,) = torch.autograd.grad(next_token_loss(logits, targets), logits)
    (g_sum,) = torch.autograd.grad(next_token_loss(logits, targets) * (B * T), logits)
    assert B * T == 1024
    assert_close(g_sum, g_mean * 1024, torch.float64, terms=V, depth=3)


# step 2: data.py, sample.py

def test_answer_embedding_size_by_vocab():
    """Q1: V x d embedding rows: 434,816 parameters at V = 512, 631,424 at 2048, 1,417,856 at 8192."""
    from model import Llama, ModelConfig
    for vocab, total in ((512, 434_816), (2048, 631_424), (8192, 1_417_856)):
        model = Llama(ModelConfig(vocab_size=vocab))
        assert model.embed_tokens.weight.numel() == vocab * 128
        assert model.num_params() == total
    assert round(8192 * 128 / 1_417_856, 2) == 0.74  # the embedding's share at V = 8192


def test_answer_unigram_gap():
    """Q2: unigram 6.1118 is 1.5128 nats below ln 2048; the train frequencies' own entropy is 6.1402 (KL 1.4845)."""
    from data import load_split, unigram_cross_entropy
    train, val = load_split("train", 2048), load_split("val", 2048)
    unigram = unigram_cross_entropy(train, val, 2048)
    assert round(unigram, 4) == 6.1118
    assert round(math.log(2048) - unigram, 4) == 1.5128
    counts = torch.bincount(train, minlength=2048).double() + 1  # the same add-one smoothing as data.py
    p = counts / counts.sum()
    entropy = -(p * p.log()).sum().item()
    kl_to_uniform = (p * (p * 2048).log()).sum().item()
    assert (round(entropy, 5), round(kl_to_uniform, 5)) == (6.14016, 1.48446)
    # H(p) = ln V - KL(p || uniform): a sum of 2048 float64 terms
    assert_close(entropy, math.log(2048) - kl_to_uniform, torch.float64, terms=2048, depth=2)


def test_answer_temperature_probabilities():
    """Q3: logits (2, 1, 0) give p_top = 0.9644 at tau 0.3, 0.6652 at 1.0, 0.5627 at 1.5."""
    logits = torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64)
    quoted = {0.3: (0.9644, 0.0344, 0.0012), 1.0: (0.6652, 0.2447, 0.0900), 1.5: (0.5627, 0.2889, 0.1483)}
    for tau, probs in quoted.items():
        p = torch.softmax(logits / tau, -1)
        assert tuple(round(x, 4) for x in p.tolist()) == probs


# step 3: optim.py

def _one_adamw_step(grad: torch.Tensor, lr: float) -> torch.Tensor:
    """The update AdamW makes on its first step (t = 1) from zero state, weight decay off."""
    from optim import AdamW
    p = torch.zeros_like(grad, requires_grad=True)
    p.grad = grad.clone()
    AdamW([p], lr=lr, betas=(0.9, 0.95), weight_decay=0.0).step()
    return p.detach()


def test_answer_first_step_bias_correction():
    """Q1: at t = 1, m = 0.1 g and v = 0.05 g^2; uncorrected m/sqrt(v) = 0.4472 sign(g), corrected = sign(g)."""
    g = torch.tensor([3.0, -0.02, 1e-3], dtype=torch.float64)
    m, v = (1 - 0.9) * g, (1 - 0.95) * g * g
    assert round(0.1 / math.sqrt(0.05), 4) == 0.4472
    # the ratio without correction: a division and a square root on float64 values
    assert_close(m / v.sqrt(), (0.1 / math.sqrt(0.05)) * g.sign(), torch.float64, depth=4, scale=1.0)
    # the code's bias-corrected first update is -lr * sign(g), up to eps = 1e-8 against |g| >= 1e-3
    update = _one_adamw_step(g, lr=1.0)
    assert torch.allclose(update, -g.sign(), rtol=0, atol=1e-5)  # bound: eps/|g| = 1e-5 at the smallest g


def test_answer_warmup_values():
    """Q3: lr_at starts at eta_max/W = 1.5e-4 (step 0), reaches 3e-3 at step 19; with W = 0 step 0 already gets 3e-3."""
    from optim import lr_at
    schedule = [lr_at(s, 3e-3, 20, 300, 3e-4) for s in range(300)]
    assert_close(schedule[0], 1.5e-4, torch.float64, depth=2)
    assert_close(schedule[1], 3e-4, torch.float64, depth=2)
    assert_close(schedule[19], 3e-3, torch.float64, depth=2)
    assert_close(schedule[20], 3e-3, torch.float64, depth=4)
    assert f"{schedule[299]:.5g}" == "0.00030008"  # the last step ends just above eta_min
    assert lr_at(0, 3e-3, 0, 300, 3e-4) == 3e-3


# step 4: evaluation, checkpoint.py

def test_answer_resume_without_optimizer_state():
    """Q1: at step 150 of 300 the lr is 1.8012e-3; a fresh AdamW moves every weight by that full lr (t = 1)."""
    from optim import lr_at
    lr = lr_at(150, 3e-3, 20, 300, 3e-4)
    assert round(lr, 7) == 1.8012e-3
    torch.manual_seed(0)
    g = torch.randn(1000, dtype=torch.float64)
    update = _one_adamw_step(g, lr=lr)
    # |update| = lr * |g| / (|g| + eps): within lr * eps / min|g| of lr
    assert torch.allclose(update.abs(), torch.full_like(g, lr), rtol=0, atol=lr * 1e-8 / g.abs().min().item() * 2)


def test_answer_split_by_position():
    """Q3: the first 90% of 1,213,080 tokens are train (1,091,772), the last 121,308 are val."""
    from data import load_split
    train, val = load_split("train", 2048), load_split("val", 2048)
    assert (len(train), len(val)) == (1_091_772, 121_308)
    assert int(0.9 * (len(train) + len(val))) == len(train)


# step 5: mixed precision

def test_answer_smallest_normals():
    """Q1: smallest positive normal: bf16 2^-126 = 1.1755e-38 (as fp32), fp16 2^-14 = 6.1035e-5; fp16 subnormals reach 2^-24."""
    assert torch.finfo(torch.bfloat16).smallest_normal == 2.0 ** -126 == torch.finfo(torch.float32).smallest_normal
    assert torch.finfo(torch.float16).smallest_normal == 2.0 ** -14
    assert f"{2.0 ** -126:.4e}" == "1.1755e-38" and f"{2.0 ** -14:.4e}" == "6.1035e-05"
    tiny = torch.tensor(2.0 ** -24, dtype=torch.float16)
    assert tiny.item() == 2.0 ** -24 and (tiny / 2).item() == 0.0  # half the smallest subnormal rounds to 0 (ties to even)
    # 7 stored fraction bits (8 bits of precision) vs 10 (11): eps = 2^-7 and 2^-10
    assert torch.finfo(torch.bfloat16).eps == 2.0 ** -7 and torch.finfo(torch.float16).eps == 2.0 ** -10


def test_answer_bf16_update_lost():
    """Lesson text: 1 + 1e-3 rounds back to 1 in bf16 (spacing 2^-7 near 1), but not in fp32."""
    one = torch.tensor(1.0)
    assert (one.bfloat16() + 1e-3).item() == 1.0
    assert (one + 1e-3).item() != 1.0


def test_answer_clipping_scaled_gradients():
    """Q2: the scaler starts at S = 65536; a true norm 0.8 reads as 52428.8 before unscale_."""
    scaler = torch.amp.GradScaler("cpu", enabled=True)
    assert scaler.get_scale() == 65536.0
    assert 0.8 * scaler.get_scale() == 52428.8


def test_answer_bytes_per_parameter():
    """Q3: fp32 weight, grad, m, v = 16 bytes per parameter: 10,102,784 bytes (9.63 MiB) for 631,424 parameters."""
    from model import Llama, ModelConfig
    from optim import AdamW, param_groups
    torch.manual_seed(0)
    model = Llama(ModelConfig())
    optimizer = AdamW(param_groups(model, 0.1), lr=1e-3)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    params = list(model.parameters())
    weights = sum(p.numel() * p.element_size() for p in params)
    grads = sum(p.grad.numel() * p.grad.element_size() for p in params)
    state = sum(t.numel() * t.element_size() for s in optimizer.state.values() for t in s.values()
                if torch.is_tensor(t))
    total = weights + grads + state
    assert sum(p.numel() for p in params) == 631_424
    assert total == 16 * 631_424 == 10_102_784
    assert round(total / 2 ** 20, 2) == 9.63


# step 6: flops.py

def test_answer_llama3_8b_training_days():
    """Q1: 6 x 8e9 x 15e12 = 7.2e23 FLOPs; 1000 H100 at 989 TFLOP/s and 40% MFU take 21.1 days.
    With the code's count (tied matmul weights N = 7,504,658,432, attention at T = 8192): 8.687e23, 25.4 days."""
    from flops import flops_per_token, matmul_params
    from model import ModelConfig
    total = 6 * 8e9 * 15e12
    assert total == 7.2e23
    assert round(total / (1000 * 989e12 * 0.4) / 86400, 1) == 21.1
    llama3_8b = ModelConfig(vocab_size=128256, block_size=8192, n_layer=32, n_head=32, n_kv_head=8,
                            d_model=4096, d_ff=14336)
    assert matmul_params(llama3_8b) == 7_504_658_432
    per_token = flops_per_token(llama3_8b, 8192)
    assert per_token == 6 * 7_504_658_432 + 12 * 32 * 8192 * 4096 == 57_912_852_480
    assert f"{per_token * 15e12:.4g}" == "8.687e+23"
    assert round(per_token * 15e12 / (1000 * 989e12 * 0.4) / 86400, 1) == 25.4
    assert round(12 * 32 * 8192 * 4096 / per_token, 2) == 0.22  # attention's share at T = 8192


def test_answer_attention_term_block_size():
    """Q2: T = 64 -> 128 doubles 12LTd (196,608 -> 393,216); F_token 3,981,312 -> 4,177,920 (+4.9%)."""
    from flops import flops_per_token, matmul_params
    from model import ModelConfig
    cfg = ModelConfig()
    assert matmul_params(cfg) == 630_784
    assert flops_per_token(cfg, 64) - 6 * 630_784 == 196_608
    assert flops_per_token(cfg, 128) - 6 * 630_784 == 393_216
    assert (flops_per_token(cfg, 64), flops_per_token(cfg, 128)) == (3_981_312, 4_177_920)
    assert round(flops_per_token(cfg, 128) / flops_per_token(cfg, 64) - 1, 3) == 0.049
