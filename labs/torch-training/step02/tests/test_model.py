"""The lab's model against Hugging Face's LlamaForCausalLM with the same weights."""
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from dlc_shared.testing import assert_close, tolerance
from model import Llama, ModelConfig


def small_config() -> ModelConfig:
    return ModelConfig(vocab_size=97, block_size=16, n_layer=2, n_head=4, n_kv_head=2, d_model=32, d_ff=48)


def hf_llama(cfg: ModelConfig) -> LlamaForCausalLM:
    hf_cfg = LlamaConfig(vocab_size=cfg.vocab_size, hidden_size=cfg.d_model, intermediate_size=cfg.d_ff,
                         num_hidden_layers=cfg.n_layer, num_attention_heads=cfg.n_head,
                         num_key_value_heads=cfg.n_kv_head, max_position_embeddings=cfg.block_size,
                         rms_norm_eps=cfg.norm_eps, rope_theta=cfg.rope_theta, tie_word_embeddings=True,
                         attention_bias=False, mlp_bias=False)
    return LlamaForCausalLM(hf_cfg).eval()


def logits_tolerance_args(cfg: ModelConfig) -> dict:
    """fp32 logits: the longest reduction is d_ff (or d_model, or T); each attention and MLP
    sublayer is a rounding stage, and so is the output head."""
    return dict(terms=max(cfg.d_model, cfg.d_ff, cfg.block_size), depth=2 * cfg.n_layer + 1)


def test_logits_match_hugging_face_llama():
    torch.manual_seed(0)
    cfg = small_config()
    ours = Llama(cfg).eval()
    with torch.no_grad():  # larger weights than the init, so the logits differ clearly per token
        for p in ours.parameters():
            p.normal_(0, 0.3) if p.dim() > 1 else p.uniform_(0.5, 1.5)
    ref = hf_llama(cfg)
    missing, unexpected = ref.model.load_state_dict(
        {k: v for k, v in ours.state_dict().items() if not k.startswith("lm_head")}, strict=False)
    assert not unexpected and not missing
    ref.tie_weights()
    idx = torch.randint(cfg.vocab_size, (2, cfg.block_size))
    with torch.no_grad():
        expected = ref(idx).logits
        got = ours(idx)
    assert len(set(expected.argmax(-1).flatten().tolist())) > 5  # varied predictions, not one token
    assert_close(got, expected, torch.float32, **logits_tolerance_args(cfg))


def test_future_tokens_do_not_change_past_logits():
    torch.manual_seed(1)
    cfg = small_config()
    model = Llama(cfg).eval()
    idx = torch.randint(97, (1, 12))
    changed = idx.clone()
    changed[0, 8:] = (changed[0, 8:] + 1) % 97
    with torch.no_grad():
        a, b = model(idx), model(changed)
    assert_close(a[:, :8], b[:, :8], torch.float32, **logits_tolerance_args(cfg))
    # ...while the changed positions move by far more than rounding could.
    tol = tolerance(torch.float32, a.abs().max().item(), **logits_tolerance_args(cfg))
    assert (a[:, 8:] - b[:, 8:]).abs().max() > 100 * tol
