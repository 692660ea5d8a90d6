"""The shared corpus/tokenizer (dlc_shared.data) and this step's batching, checked independently."""
import importlib.util
import math
from pathlib import Path

import numpy as np
import torch

from data import eval_batches, get_batch, load_split, unigram_cross_entropy
from dlc_shared.data import CORPUS_PACKAGE, EOT, corpus_text, get_tokenizer, token_ids
from dlc_shared.testing import assert_close


def test_corpus_is_the_pinned_package_sources_in_sorted_order():
    text = corpus_text()
    docs = text.split(EOT)
    package = Path(importlib.util.find_spec(CORPUS_PACKAGE).origin).parent
    assert docs[0] == (package / "__init__.py").read_bytes().decode("utf-8")  # "sympy/__init__.py" sorts first
    assert docs[1] == (package / "abc.py").read_bytes().decode("utf-8")       # then "sympy/abc.py"
    assert 1_000_000 < len(text) <= 4_000_000 + len(EOT) * len(docs)


def test_tokenizer_round_trips_text_and_has_every_byte():
    tok = get_tokenizer(2048)
    assert tok.get_vocab_size() == 2048
    sample = "def f(x):\n    return x ** 2  # ünïcode → ok\n"
    ids = tok.encode(sample).ids
    assert tok.decode(ids) == sample
    assert len(ids) < len(sample.encode())  # BPE merges: fewer tokens than bytes


def test_token_ids_are_the_encoded_corpus_split_90_10():
    train, val = token_ids("train"), token_ids("val")
    assert train.dtype == val.dtype == np.uint16
    assert 0 <= len(val) - 0.1 * (len(train) + len(val)) < 1  # the last 10%, cut at a whole token
    tok = get_tokenizer(2048)
    # Independent check: decode the stored ids back to text and compare with the corpus.
    text = tok.decode(np.concatenate([train, val]).tolist(), skip_special_tokens=False)
    assert text == corpus_text()


def test_batch_targets_are_inputs_shifted_by_one():
    data = torch.arange(1000)
    x, y = get_batch(data, 4, 16, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (4, 16) and x.dtype == torch.int64
    assert torch.equal(y, x + 1)  # consecutive ids: y is x one position later
    assert len(set(x[:, 0].tolist())) > 1  # different random offsets


def test_batches_are_reproducible_from_the_generator_seed():
    data = load_split("train", 2048)
    a = get_batch(data, 4, 32, torch.Generator().manual_seed(5))
    b = get_batch(data, 4, 32, torch.Generator().manual_seed(5))
    c = get_batch(data, 4, 32, torch.Generator().manual_seed(6))
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])


def test_eval_batches_cover_fixed_non_overlapping_windows():
    data = torch.arange(200)
    batches = list(eval_batches(data, batch_size=3, block_size=10, max_batches=4))
    xs = torch.cat([x for x, _ in batches])
    assert xs.shape == (12, 10)
    assert torch.equal(xs.flatten(), torch.arange(120))  # window i starts at 10*i


def test_unigram_cross_entropy_matches_a_counter():
    train = torch.tensor([0, 0, 1, 2, 2, 2])
    val = torch.tensor([0, 2, 3])
    counts = {0: 2 + 1, 1: 1 + 1, 2: 3 + 1, 3: 0 + 1}  # add-one smoothing by hand
    total = sum(counts.values())
    expected = -sum(math.log(counts[t] / total) for t in val.tolist()) / 3
    assert_close(unigram_cross_entropy(train, val, 4), expected, torch.float64, terms=4, depth=2)  # counts, mean
