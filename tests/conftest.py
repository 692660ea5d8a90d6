"""Repo-level test helpers: the catalog, the labs and the tooling module."""
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_labtool():
    spec = importlib.util.spec_from_file_location("labtool", ROOT / "shared" / "labtool.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("labtool", mod)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def labtool():
    return load_labtool()


@pytest.fixture(scope="session")
def repo(labtool):
    return labtool.Repo(ROOT)
