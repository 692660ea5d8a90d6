"""The shared corpus (dlc_shared.data) is the same bytes on every Python: guarded by its sha256.

Every corpus-derived number the labs record (tokens, losses) depends on these
bytes. If this test fails, the corpus changed: re-record those numbers, then
update the hash here.
"""
import hashlib
import importlib.metadata
import sysconfig
import tomllib
from pathlib import Path

from conftest import ROOT
from dlc_shared import data

# sympy 1.14.0's non-test sources, sorted, up to 4,000,000 characters; the same on Python 3.11, 3.12, 3.13.
CORPUS_SHA256 = "6d63dfce2f03417d1e08bdc300c7e5666f3d7898c15dcc0f2dd3fdd786e79e64"


def test_corpus_bytes_are_the_recorded_ones():
    text = data.corpus_text()
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == CORPUS_SHA256
    assert 3_000_000 < len(text) <= data.MAX_CHARS + len(data.EOT) * len(data.corpus_files())


def test_corpus_package_is_pinned_exactly_in_every_env_that_builds_it():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    pin = f"{data.CORPUS_PACKAGE}=={data.CORPUS_VERSION}"
    for env in ("torch", "jax"):
        assert pin in extras[env], f"extra '{env}' must pin {pin}"
    assert importlib.metadata.version(data.CORPUS_PACKAGE) == data.CORPUS_VERSION


def test_corpus_is_the_package_sources_not_the_standard_library():
    files = data.corpus_files()
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert all(stdlib not in f.resolve().parents for f in files)
    assert all("tests" not in f.parts for f in files)
    names = [f.relative_to(files[0].parent.parent).as_posix() for f in files]
    assert names == sorted(names) and names[0] == "sympy/__init__.py"
    docs = data.corpus_text().split(data.EOT)
    assert len(docs) == len(files)
    assert docs[0] == files[0].read_bytes().decode("utf-8")
