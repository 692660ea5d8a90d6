"""Running steps: a step's `run` or bench.py, its tests (timed, on chosen CPU code paths), the GPU checks."""
from __future__ import annotations

import os
import shlex
import subprocess
import threading
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import LabError, Repo, Step
from .environments import cpu_path_vars, ensure_env, env_vars
from .report import fmt_seconds

NO_ENV = -1  # a TestRun's rc when its environment could not be built


def command_argv(command: str, python: Path | str) -> list[str]:
    """A step.toml command as argv; a leading `python` (or `python3`) becomes `python`."""
    argv = shlex.split(command)
    if argv and argv[0] in ("python", "python3"):
        argv[0] = str(python)
    return argv


def run_step(repo: Repo, path_id: str, number, extra: list[str], script: str | None = None) -> int:
    """Step N's `run` command (or one of its scripts, e.g. bench.py) with extra arguments."""
    step = repo.step(path_id, number)
    python = ensure_env(repo, step.meta["env"])
    if script is not None and not (step.dir / script).exists():
        raise LabError(f"{repo.rel(step.dir)} has no {script}")
    command = shlex.join(["python", script]) if script else step.meta["run"]
    print(f"[labtool] {step.name}: {shlex.join(shlex.split(command) + extra)}  (in {repo.rel(step.dir)})",
          flush=True)
    return subprocess.run(command_argv(command, python) + extra, cwd=step.dir, env=env_vars(python)).returncode


# ---- tests ---------------------------------------------------------------
@dataclass
class TestRun:
    step: Step
    cpu_path: str
    rc: int
    seconds: float

    @property
    def result(self) -> str:
        return {0: "passed", 5: "no tests", NO_ENV: "no env"}.get(self.rc, "FAILED")


@dataclass
class Suite:
    """What a test command ran: one TestRun per step and CPU path, and the time spent on environments."""
    cpu_paths: list[str]
    runs: list[TestRun] = field(default_factory=list)
    env_seconds: float = 0.0
    jobs: int = 1  # steps tested side by side
    wall_seconds: float = 0.0  # the tests' wall-clock time (less than the sum of runs when jobs > 1)


def test_steps(repo: Repo, steps: list[Step], suite: Suite, against: str | None = None,
               pytest_args: list[str] | None = None) -> Suite:
    """Each step's tests on each of the suite's CPU paths (a whole pass per path), timed into `suite`."""
    pythons, start = {}, time.perf_counter()
    for env in dict.fromkeys(s.meta["env"] for s in steps):
        try:
            pythons[env] = ensure_env(repo, env)
        except LabError as e:
            if len(steps) == 1:
                raise
            print(f"error: {e}", file=sys.stderr, flush=True)  # test the other environments' steps
    suite.env_seconds += time.perf_counter() - start
    start = time.perf_counter()
    try:
        for cpu_path in suite.cpu_paths:
            if suite.jobs == 1:
                for step in steps:
                    _timed_test(repo, step, pythons, cpu_path, suite, against, pytest_args)
            else:
                _side_by_side(repo, steps, pythons, cpu_path, suite, against, pytest_args)
    finally:
        suite.wall_seconds += time.perf_counter() - start
    return suite


def _timed_test(repo, step, pythons, cpu_path, suite, against, pytest_args,
                log: Path | None = None, printing: threading.Lock | None = None) -> None:
    """One step's tests, timed into `suite`; with `log`, its output is kept there and shown once it is done."""
    python = pythons.get(step.meta["env"])
    start, error = time.perf_counter(), None
    try:
        rc = NO_ENV if python is None else test_step(repo, step, python, cpu_path, against, pytest_args, log)
    except LabError as e:  # e.g. a step without tests/: alone it stops the command; beside others it fails the step
        if log is None:
            raise
        rc, error = 2, e
    run = TestRun(step, cpu_path, rc, time.perf_counter() - start)
    with printing or threading.Lock():
        if error is not None:
            print(f"error: {error}", file=sys.stderr, flush=True)
        text = log.read_text(errors="replace").rstrip() if log is not None and log.exists() else ""
        if text:  # a step that ran beside others: its output whole if it failed, else pytest's last line
            print(text if run.result == "FAILED" else f"[labtool] {step.name}: {text.splitlines()[-1]}")
        print(f"[labtool] {step.name} ({cpu_path}): {run.result} in {fmt_seconds(run.seconds)}", flush=True)
        suite.runs.append(run)


def _side_by_side(repo, steps, pythons, cpu_path, suite, against, pytest_args) -> None:
    """Up to suite.jobs steps' tests at once, each with its output kept apart; an `alone` step runs by itself."""
    slots, printing = threading.Semaphore(suite.jobs), threading.Lock()
    with tempfile.TemporaryDirectory(prefix="dlc-tests-") as tmp:
        _start_all(steps, Path(tmp), slots, suite.jobs,
                   lambda step, log: _timed_test(repo, step, pythons, cpu_path, suite, against, pytest_args, log, printing))
    order = {s.name: i for i, s in enumerate(steps)}
    suite.runs.sort(key=lambda r: (suite.cpu_paths.index(r.cpu_path), order.get(r.step.name, 0)))


def _start_all(steps, logs: Path, slots: threading.Semaphore, jobs: int, test) -> None:
    """test(step, log) for every step, each in a thread holding one of the `jobs` slots (an `alone` step all)."""
    threads = []

    def one(step, log):
        try:
            test(step, log)
        finally:
            slots.release()

    for i, step in enumerate(steps):
        alone = bool(step.meta.get("alone"))
        for _ in range(jobs if alone else 1):  # an `alone` step waits until every slot is free
            slots.acquire()
        t = threading.Thread(target=one, args=(step, logs / f"{i:04d}.log"), daemon=True)
        t.start()
        threads.append(t)
        if alone:
            t.join()  # nothing starts beside it
            for _ in range(jobs - 1):
                slots.release()
    for t in threads:
        t.join()


def test_step(repo: Repo, step: Step, python: Path, cpu_path: str = "default", against: str | None = None,
              pytest_args: list[str] | None = None, log: Path | None = None) -> int:
    """One step's tests in a fresh process; with `against`, run them on a learner's copy of the code."""
    code_dir = step.dir
    if against:
        code_dir = Path(against).resolve()
        if not code_dir.is_dir():
            raise LabError(f"--against: '{against}' is not a directory")
    tests = step.dir / "tests"
    if not tests.is_dir():
        raise LabError(f"{repo.rel(step.dir)}: has no tests/ folder")
    where = (f" against {against}" if against else "") + (f" on CPU path {cpu_path}" if cpu_path != "default" else "")
    if log is None:
        print(f"[labtool] testing {step.name}{where}", flush=True)
    argv = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-c", str(repo.root / "labs" / "pytest.ini"), "--rootdir", str(code_dir),
            str(tests), *(pytest_args or [])]
    # `python -m pytest` puts the cwd first on sys.path: the tests import the step's
    # modules by name, so cwd decides whose code they test (the step's or the learner's).
    env = {**env_vars(python), **cpu_path_vars(repo, cpu_path), "PYTHONDONTWRITEBYTECODE": "1"}
    if log is None:
        return subprocess.run(argv, cwd=code_dir, env=env).returncode
    with open(log, "w") as out:
        return subprocess.run(argv, cwd=code_dir, env=env, stdout=out, stderr=subprocess.STDOUT).returncode


# ---- GPU -----------------------------------------------------------------
DEFAULT_GPU_BENCH = "python bench.py --json"


def gpu_bench_argv(step: Step, python: Path | str) -> list[str] | None:
    """What `labtool gpu` runs to benchmark a GPU step: its `gpu_bench`, else the default if it has a bench.py."""
    if step.meta["gpu"] == "none":
        return None
    if "gpu_bench" in step.meta:
        return command_argv(step.meta["gpu_bench"], python)
    if (step.dir / "bench.py").exists():
        return command_argv(DEFAULT_GPU_BENCH, python)
    return None


def gpu_check(repo: Repo, bench: bool) -> list[list[str]]:
    """Every `gpu`-marked test (and with `bench`, every GPU step's benchmark) with this python.

    Meant for a CUDA machine that has its own torch/JAX and no nox: the packages in
    shared/ and kernels/ are put on PYTHONPATH under their import names instead of installed.
    """
    probe = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.is_available())"],
                           capture_output=True, text=True)
    if probe.stdout.strip() != "True":
        raise LabError("no CUDA GPU visible to this python (torch.cuda.is_available() is not True); "
                       "run `nox -s gpu` on a CUDA machine")
    shim = Path(tempfile.mkdtemp(prefix="dlc-gpu-"))
    (shim / "dlc_shared").symlink_to(repo.root / "shared")
    (shim / "dlc_kernels").symlink_to(repo.root / "kernels")
    env = dict(os.environ, PYTHONPATH=str(shim), PYTHONDONTWRITEBYTECODE="1")
    rows = []
    for pid in repo.lab_ids():
        for step in repo.steps(pid):
            if step.meta["gpu"] == "none":  # no gpu tests; its imports (optax, flax...) may be absent there
                continue
            rc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu",
                                 "-c", str(repo.root / "labs" / "pytest.ini"), "--rootdir", str(step.dir),
                                 str(step.dir / "tests")], cwd=step.dir, env=env).returncode
            result = {0: "passed", 5: "no gpu tests"}.get(rc, "FAILED")
            argv = gpu_bench_argv(step, sys.executable) if bench else None
            b = "-"
            if argv:
                print(f"[labtool] {step.name}: {shlex.join(argv)}", flush=True)
                b = "ok" if subprocess.run(argv, cwd=step.dir, env=env).returncode == 0 else "FAILED"
            rows.append([step.name, step.meta["gpu"], result, b])
    return rows
