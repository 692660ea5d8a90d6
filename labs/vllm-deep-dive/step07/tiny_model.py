"""Build a tiny Qwen3 model folder with seeded random weights and a word-level tokenizer, offline.

transformers writes the folder (config.json + model.safetensors + tokenizer files)
exactly as a downloaded checkpoint would look, so our loader and a real server
(vLLM) read the same real file formats. The tokenizer maps the word "w17" to
token 17: text in, text out, with no download. The weights are drawn with std 0.1
(transformers' default 0.02 makes every greedy token the same).
"""
from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

TINY = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, head_dim=32, max_position_embeddings=256)
SPECIAL = ["<pad>", "<s>", "</s>"]  # ids 0, 1, 2
# A chat is the messages' contents one after another: "w5 w9" + "w7" -> "w5 w9 w7".
CHAT_TEMPLATE = "{% for m in messages %}{{ m['content'] }}{% if not loop.last %} {% endif %}{% endfor %}"


def make_tokenizer(vocab_size: int):
    """A word-level tokenizer: "<pad>", "<s>", "</s>", then "w3" ... "w{vocab_size-1}", split on spaces."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    vocab = {word: i for i, word in enumerate(SPECIAL + [f"w{i}" for i in range(len(SPECIAL), vocab_size)])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces (no word carries the prefix)
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                   unk_token="<pad>", chat_template=CHAT_TEMPLATE)


def make_tiny_qwen3(folder: str | Path, seed: int = 0, **overrides) -> Path:
    """Write a seeded tiny Qwen3 and its tokenizer to `folder` (skipped if it is already there)."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM
    from transformers.utils import logging
    logging.disable_progress_bar()

    folder = Path(folder)
    if (folder / "config.json").exists():
        return folder
    config = Qwen3Config(**{**TINY, **overrides}, initializer_range=0.1, tie_word_embeddings=True,
                         rms_norm_eps=1e-6, eos_token_id=2, bos_token_id=1, pad_token_id=0)
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(config).float()
    with torch.no_grad():  # norms start at 1.0; jitter them so they are real weights too
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    # Write beside the target, then rename: a reader never sees a half-written folder.
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    model.save_pretrained(partial)
    make_tokenizer(config.vocab_size).save_pretrained(partial)
    try:
        partial.rename(folder)
    except OSError:  # another process finished first; its folder is just as good
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def random_prompts(num: int, min_len: int, max_len: int, vocab_size: int, seed: int = 0) -> list[list[int]]:
    """Prompts of random token ids with lengths in [min_len, max_len] (mixed on purpose)."""
    import random
    rng = random.Random(seed)
    # ids 0-2 are pad/bos/eos in our tiny config; keep prompts to ordinary tokens.
    return [[rng.randrange(3, vocab_size) for _ in range(rng.randint(min_len, max_len))] for _ in range(num)]


def to_text(token_ids: list[int]) -> str:
    """The text our tokenizer turns into exactly these ids (ordinary tokens only)."""
    return " ".join(f"w{t}" for t in token_ids)


def default_model_dir(seed: int = 0) -> Path:
    import tempfile
    return Path(tempfile.gettempdir()) / f"vllm-deep-dive-tiny-qwen3-seed{seed}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(make_tiny_qwen3(args.folder, args.seed))
