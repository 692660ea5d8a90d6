"""Thin nox sessions over shared/labtool.py (the lab tooling).

Every session is a dispatcher (venv_backend="none"): labtool builds one reusable
virtualenv per environment (.nox/env-torch, .nox/env-jax, ...) and runs each step
in the environment its step.toml names.
"""
import importlib.util
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("labtool", ROOT / "shared" / "labtool.py")
labtool = importlib.util.module_from_spec(_spec)
sys.modules["labtool"] = labtool
_spec.loader.exec_module(labtool)

nox.options.sessions = ["list"]
nox.options.default_venv_backend = "none"


def _tool(session, *args):
    rc = labtool.main([*args, *session.posargs])
    if rc:
        session.error(f"exit status {rc}")


@nox.session(name="list")
def list_(session):
    """Paths with their steps and status."""
    _tool(session, "list")


@nox.session
def run(session):
    """nox -s run -- PATH N [args...]: run step N's demonstration."""
    _tool(session, "run")


@nox.session
def bench(session):
    """nox -s bench -- PATH N [args...]: run step N's bench.py."""
    _tool(session, "bench")


@nox.session
def diff(session):
    """nox -s diff -- PATH N [--stat]: what step N adds over step N-1."""
    _tool(session, "diff")


@nox.session(name="test-step")
def test_step(session):
    """nox -s test-step -- PATH N [--against DIR]: one step's tests in a fresh process."""
    _tool(session, "test-step")


@nox.session(name="test-path")
def test_path(session):
    """nox -s test-path -- PATH: every step of one path, each in isolation."""
    _tool(session, "test-path")


@nox.session
def checkout(session):
    """nox -s checkout -- PATH N DIR: copy a step out to work on."""
    _tool(session, "checkout")


@nox.session
def carry(session):
    """nox -s carry -- PATH N: apply step N's uncommitted change to every later step."""
    _tool(session, "carry")


@nox.session
def test(session):
    """Everything a CPU machine can test: repo tests, the site in Chromium, every step of every lab."""
    repo = labtool.Repo()
    failed = []

    def part(name, *argv):
        print(f"\n=== {name} ===", flush=True)
        try:
            session.run(*argv, external=True)
        except Exception:  # nox raises on a non-zero exit; keep going, report at the end
            failed.append(name)

    torch_python = str(repo.ensure_env("torch"))
    part("repo tests", torch_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
         "--ignore=tests/site", *session.posargs)
    docs_python = str(repo.ensure_env("docs"))
    part("site build", docs_python, str(ROOT / "docs" / "site" / "build.py"))
    part("site tests (Chromium)", docs_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/site")
    print("\n=== lab steps ===", flush=True)
    if labtool.main(["test-labs"]):
        failed.append("lab steps")
    if failed:
        session.error(f"failed: {', '.join(failed)}")


@nox.session
def gpu(session):
    """Every gpu-marked test and GPU bench.py, with this machine's own torch/JAX (a CUDA machine)."""
    _tool(session, "gpu")


@nox.session
def docs(session):
    """nox -s docs [-- --serve [PORT]]: build the site into docs/_build (and serve it on 127.0.0.1)."""
    python = labtool.Repo().ensure_env("docs")
    session.run(str(python), str(ROOT / "docs" / "site" / "build.py"), *session.posargs, external=True)
