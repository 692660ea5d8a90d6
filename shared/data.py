"""The project's own corpus and tokenizer: built offline, the same on every machine.

The corpus is real Python source that every project environment already has and
that is the same bytes on every Python: the `.py` files of SymPy (a pure-Python
package that torch depends on, pinned exactly in pyproject.toml's torch and jax
extras), its test folders left out, in sorted path order, up to ~4 MB, with
documents separated by the special token `<|endoftext|>`. (The standard library,
used before, differs between Python releases: 3.12 and 3.13 removed modules.) A byte-level BPE
tokenizer (Hugging Face `tokenizers`) is trained on it once and cached, and so
are the token ids of the train split (the first 90% of the tokens) and of the
validation split (the last 10%).

    corpus_text() -> str
    get_tokenizer(vocab_size=2048) -> tokenizers.Tokenizer
    token_ids(split="train", vocab_size=2048) -> numpy.ndarray (uint16)

The cache lives in $DLC_CACHE_DIR, else ~/.cache/dlc (never in the repository).
Its file names carry a hash of the corpus text, so an environment with another
SymPy release builds its own files instead of reading stale ones (and warns: its
numbers will not match the recorded ones). Writes are atomic: parallel test processes can share it.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

EOT = "<|endoftext|>"          # document separator, a special token of the tokenizer
MAX_CHARS = 4_000_000          # keeps the first build (read + train + encode) to seconds
VAL_FRACTION = 0.1             # the last 10% of the token stream is the validation split
SPLITS = ("train", "val")
CORPUS_PACKAGE = "sympy"       # pure Python (one py3-none-any wheel): identical sources on every Python
CORPUS_VERSION = "1.14.0"      # keep equal to the exact pin in pyproject.toml (torch and jax extras)


def cache_dir() -> Path:
    d = Path(os.environ.get("DLC_CACHE_DIR") or Path.home() / ".cache" / "dlc")
    d.mkdir(parents=True, exist_ok=True)
    return d


def _package_dir() -> Path:
    spec = importlib.util.find_spec(CORPUS_PACKAGE)  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the corpus is built from the {CORPUS_PACKAGE} package's sources, "
                           f"but {CORPUS_PACKAGE} is not installed (pip install {CORPUS_PACKAGE}=={CORPUS_VERSION})")
    version = importlib.metadata.version(CORPUS_PACKAGE)
    if version != CORPUS_VERSION:
        warnings.warn(f"the corpus is defined on {CORPUS_PACKAGE}=={CORPUS_VERSION}, this environment has "
                      f"{version}: corpus-derived numbers will differ from the recorded ones", stacklevel=3)
    return Path(list(spec.submodule_search_locations)[0])


def corpus_files() -> list[Path]:
    """The package's .py files outside tests/ folders, in sorted path order, as many as fit MAX_CHARS."""
    pkg = _package_dir()
    # Sort by the relative path as a string ("/" separators): the same order on every OS and Python.
    rel = sorted(p.relative_to(pkg.parent).as_posix() for p in pkg.rglob("*.py")
                 if "tests" not in p.relative_to(pkg).parts)
    chosen, total = [], 0
    for name in rel:
        f = pkg.parent / name
        n = len(_read(f))
        if total + n > MAX_CHARS:
            break
        chosen.append(f)
        total += n
    if not chosen:
        raise RuntimeError(f"no Python sources found under {pkg}; the corpus needs its .py files")
    return chosen


def _read(f: Path) -> str:
    return f.read_bytes().decode("utf-8")  # bytes as stored: no newline translation


@lru_cache(maxsize=1)
def corpus_text() -> str:
    """The whole corpus: one document per file, joined by the EOT token."""
    return EOT.join(_read(f) for f in corpus_files())


@lru_cache(maxsize=1)
def corpus_hash() -> str:
    return hashlib.sha256(corpus_text().encode("utf-8")).hexdigest()[:12]


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file and rename, so a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _save_npy(path: str, array: np.ndarray) -> None:
    with open(path, "wb") as f:  # a file object: np.save would append ".npy" to a bare name
        np.save(f, array)


def _check_vocab(vocab_size: int) -> None:
    # 256 byte symbols + EOT is the smallest vocabulary; uint16 ids cap it at 65536.
    if not 257 <= vocab_size <= 65536:
        raise ValueError(f"vocab_size must be between 257 and 65536, got {vocab_size}")


def train_tokenizer(text: str, vocab_size: int):
    """Train a byte-level BPE tokenizer (GPT-2 style) on `text`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # every byte has a token: no <unk>
        show_progress=False,
    )
    # Train on the documents between separators: the EOT string itself is not text to learn merges from.
    tok.train_from_iterator(text.split(EOT), trainer=trainer)
    return tok


@lru_cache(maxsize=8)
def get_tokenizer(vocab_size: int = 2048):
    """The corpus's byte-level BPE tokenizer with `vocab_size` tokens (trained once, then cached)."""
    from tokenizers import Tokenizer

    _check_vocab(vocab_size)
    path = cache_dir() / f"tokenizer-{corpus_hash()}-v{vocab_size}.json"
    if not path.exists():
        tok = train_tokenizer(corpus_text(), vocab_size)
        _atomic_write(path, lambda tmp: tok.save(tmp))
    return Tokenizer.from_file(str(path))


def encode_corpus(vocab_size: int = 2048) -> np.ndarray:
    """All corpus tokens as uint16; documents are encoded in parallel and joined by EOT.

    Equal to tokenizer.encode(corpus_text()).ids: special tokens split the text
    before pre-tokenization, so encoding the documents one by one changes nothing.
    """
    tok = get_tokenizer(vocab_size)
    eot = tok.token_to_id(EOT)
    ids: list[int] = []
    for i, enc in enumerate(tok.encode_batch(corpus_text().split(EOT))):
        if i:
            ids.append(eot)
        ids.extend(enc.ids)
    return np.asarray(ids, dtype=np.uint16)


def token_ids(split: str = "train", vocab_size: int = 2048) -> np.ndarray:
    """Token ids of one split: "train" is the first 90% of the corpus tokens, "val" the last 10%."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    _check_vocab(vocab_size)
    paths = {s: cache_dir() / f"tokens-{corpus_hash()}-v{vocab_size}-{s}.npy" for s in SPLITS}
    if not paths[split].exists():
        ids = encode_corpus(vocab_size)
        cut = int(len(ids) * (1 - VAL_FRACTION))
        for s, part in (("train", ids[:cut]), ("val", ids[cut:])):
            _atomic_write(paths[s], lambda tmp, part=part: _save_npy(tmp, part))
    return np.load(paths[split])
