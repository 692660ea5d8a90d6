"""The calculator against values worked out by hand from the published configs and datasheets."""
import math

import pytest

import calc
from calc import CONFIGS, estimate


def test_llama_3_8b_by_hand():
    # per layer: q, o 4096*4096 each; k, v 4096*1024 each; MLP 3*4096*14336; two norms of 4096
    layer = 2 * 16_777_216 + 2 * 4_194_304 + 176_160_768 + 8_192
    assert layer == 218_112_000
    params = 32 * layer + 4_096 + 2 * 128_256 * 4_096  # + final norm + embedding and lm_head (untied)
    assert params == 8_030_261_248 == CONFIGS["llama-3-8b"].num_params()
    e = estimate(CONFIGS["llama-3-8b"], "h100", context=8192)
    assert e["kv_bytes_per_token"] == 2 * 32 * 8 * 128 * 2 == 131_072
    assert e["weight_bytes"] == 16_060_522_496
    # free 80e9 - 16,060,522,496 = 63,939,477,504; a sequence of 8192 positions holds 1,073,741,824 bytes
    assert e["max_batch"] == 59  # 63,939,477,504 / 1,073,741,824 = 59.55
    # batch 1: 16,060,522,496 + 1,073,741,824 = 17,134,264,320 bytes per step, 3.35e12 B/s
    assert e["step_bytes"] == 17_134_264_320
    assert math.isclose(e["tokens_per_s"], 3.35e12 / 17_134_264_320) and round(e["tokens_per_s"], 1) == 195.5


def test_qwen3_models_by_hand():
    q = CONFIGS["qwen3-0.6b"]  # tied: one 151936 x 1024 matrix; q/k norms of 128 per layer
    layer = 2 * 1024 * 2048 + 2 * 1024 * 1024 + 3 * 1024 * 3072 + 2 * 1024 + 2 * 128
    assert q.num_params() == 28 * layer + 1024 + 151_936 * 1024 == 596_049_920
    assert estimate(q, "h200", 4096)["kv_bytes_per_token"] == 2 * 28 * 8 * 128 * 2 == 114_688
    q8 = CONFIGS["qwen3-8b"]
    assert q8.num_params() == 36 * (2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 12288 + 2 * 4096 + 256) \
        + 4096 + 2 * 151_936 * 4096 == 8_190_735_360


def test_llama_3_70b_does_not_fit_one_h100_but_fits_two_h200():
    cfg = CONFIGS["llama-3-70b"]
    assert cfg.num_params() == 70_553_706_496
    assert estimate(cfg, "h100", 8192)["max_batch"] == 0  # 141.1 GB of bf16 weights > 80 GB
    e = estimate(cfg, "h200", 8192, num_gpus=2)
    # 282e9 - 141,107,412,992 = 140,892,587,008 free; 327,680 * 8192 = 2,684,354,560 per sequence -> 52.49
    assert e["kv_bytes_per_token"] == 327_680 and e["max_batch"] == 52


def test_deepseek_v3_mla_and_moe_by_hand():
    cfg = CONFIGS["deepseek-v3"]
    e = estimate(cfg, "h200", 8192, batch=1, num_gpus=8, weight_dtype="fp8")
    assert e["kv_bytes_per_token"] == 61 * (512 + 64) * 2 == 70_272
    # 8 * 141e9 - 671e9 = 457e9 free; 70,272 * 8192 = 575,668,224 per sequence -> 793.8
    assert e["max_batch"] == 793
    # batch 1 reads the shared part and 8 experts per MoE layer: 671e9 - 58*256*44,040,192 + 58*8*44,040,192
    expert = 3 * 7168 * 2048
    assert expert == 44_040_192
    read = 671_000_000_000 - 58 * 248 * expert
    assert math.isclose(cfg.params_read(1), read) and round(read / 1e9, 1) == 37.5  # the report's "37B activated"
    assert math.isclose(e["tokens_per_s"], 8 * 4.8e12 / (read + 575_668_224))
    assert math.isclose(cfg.params_read(10_000), 671e9)  # a large batch touches every expert


def test_cli_prints_every_model_and_flags_what_does_not_fit(capsys):
    assert calc.main(["--all", "--gpu", "h100", "--context", "8192"]) == 0
    out = capsys.readouterr().out
    assert "llama-3-8b" in out and " 59 " in out and "196" in out and "does not fit" in out
    assert calc.main(["--model", "llama-3-70b"]) == 1
    assert "error: llama-3-70b" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--model", "gpt-5"], ["--model", "qwen3-8b", "--context", "0"],
                                  ["--model", "qwen3-8b", "--gpu", "a100"], ["--all", "--batch", "-2"],
                                  ["--model", "qwen3-8b", "--memory-gb", "-1"], ["--gpu", "h100"],
                                  ["--model", "qwen3-8b", "--context", "8k"]])
def test_bad_input_is_one_clear_error(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        calc.main(args)
    assert exit_.value.code == 2 and "error:" in capsys.readouterr().err
