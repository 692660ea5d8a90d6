"""Thin nox sessions over the lab tooling (shared/labtool.py, the package shared/tooling/).

Every session is a dispatcher (venv_backend="none"): labtool builds one reusable
virtualenv per environment (.nox/env-torch, .nox/env-jax, ...) and runs each step
in the environment its step.toml names.
"""
import importlib.util
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("labtool", ROOT / "shared" / "labtool.py")
labtool = importlib.util.module_from_spec(_spec)
sys.modules["labtool"] = labtool
_spec.loader.exec_module(labtool)

nox.options.sessions = ["list"]
# kernels/ folders with tests of their own, and the environment each runs in (Triton: interpreted on CPU)
KERNEL_TESTS = [("kernels/triton/tests", "torch"), ("kernels/pallas/tests", "jax")]
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
    """nox -s test-step -- PATH N [--against DIR] [--cpu-paths]: one step's tests in a fresh process."""
    _tool(session, "test-step")


@nox.session(name="test-path")
def test_path(session):
    """nox -s test-path -- PATH [--cpu-paths]: every step of one path, each in isolation, timed."""
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
    """Everything a CPU machine can test: repo tests, the site in Chromium, every step of every lab.

    `nox -s test -- --cpu-paths` runs the lab steps once per CPU code path (`--cpu-path NAME`: one);
    `--jobs N` tests N lab steps side by side (default 2); other options go to pytest for the repo
    tests. Ends with the time of each part.
    """
    try:
        lab_args, pytest_args = labtool.split_test_args(session.posargs)
    except labtool.LabError as e:
        session.error(str(e))
    repo = labtool.Repo()
    parts = []  # (name, seconds, passed)

    def part(name, action):
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        try:
            ok = action()
        except labtool.LabError as e:  # e.g. an environment that does not build; keep going
            print(f"error: {e}", file=sys.stderr, flush=True)
            ok = False
        parts.append((name, time.perf_counter() - start, ok))

    def in_env(env, *argv):
        return lambda: subprocess.run([str(labtool.ensure_env(repo, env)), *argv], cwd=ROOT).returncode == 0

    def environments():  # two built at once: a pip install waits on the network as much as on the cores
        envs = ["torch", "docs"] + [s.meta["env"] for pid in repo.lab_ids() for s in repo.steps(pid)]
        with ThreadPoolExecutor(2) as pool:
            return all(pool.map(lambda env: labtool.ensure_env(repo, env), dict.fromkeys(envs)))

    part("environments", environments)
    part("repo tests", in_env("torch", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
                              "--ignore=tests/site", *pytest_args))
    for folder, env in KERNEL_TESTS:  # the graduated kernels, each in the environment that runs it
        if (ROOT / folder).is_dir():
            part(f"kernel tests ({folder})", in_env(env, "-m", "pytest", "-q", "-p", "no:cacheprovider", folder))
    part("site build", in_env("docs", str(ROOT / "docs" / "site" / "build.py")))
    part("site tests (Chromium)", in_env("docs", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/site"))
    part("lab steps", lambda: labtool.main(["test-labs", *lab_args]) == 0)
    print("\n" + labtool.parts_table(parts), flush=True)
    failed = [name for name, _, ok in parts if not ok]
    if failed:
        session.error(f"failed: {', '.join(failed)}")


@nox.session
def gpu(session):
    """Every gpu-marked test and GPU benchmark, with this machine's own torch/JAX (a CUDA machine).

    A step's benchmark is its step.toml `gpu_bench` command, else `python bench.py --json`.
    """
    _tool(session, "gpu")


@nox.session
def docs(session):
    """nox -s docs [-- --serve [PORT]]: build the site into docs/_build (and serve it on 127.0.0.1)."""
    python = labtool.ensure_env(labtool.Repo(), "docs")
    session.run(str(python), str(ROOT / "docs" / "site" / "build.py"), *session.posargs, external=True)
