"""Working with snapshots: the diff between two steps, a copy to work on, carrying a fix forward."""
from __future__ import annotations

import difflib
import shutil
import subprocess
from pathlib import Path

from .catalog import LabError, Repo

SKIP_NAMES = {"__pycache__", ".pytest_cache", "results", ".ipynb_checkpoints"}


def diff(repo: Repo, path_id: str, number, stat: bool = False, color: bool = False) -> str:
    step = repo.step(path_id, number)
    prev = repo.step(path_id, step.number - 1).dir if step.number > 1 else None
    return diff_dirs(prev, step.dir, f"step{step.number - 1:02d}" if prev else "/dev/null",
                     f"step{step.number:02d}", stat=stat, color=color)


def checkout(repo: Repo, path_id: str, number, dest: str) -> Path:
    step = repo.step(path_id, number)
    out = Path(dest).resolve()
    if out.exists() and any(out.iterdir()):
        raise LabError(f"'{dest}' exists and is not empty; choose a new folder")
    shutil.copytree(step.dir, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*SKIP_NAMES))
    return out


def carry(repo: Repo, path_id: str, number) -> tuple[list[str], list[str], list[str]]:
    """Apply the uncommitted change of step N to every later step; return (applied, already, failed)."""
    step = repo.step(path_id, number)
    rel = repo.rel(step.dir)
    patch = _git(repo.root, "diff", "--binary", f"--relative={rel}", "HEAD", "--", rel)
    untracked = _git(repo.root, "ls-files", "--others", "--exclude-standard", "--", rel).split()
    if not patch.strip() and not untracked:
        raise LabError(f"{rel} has no uncommitted change to carry")
    applied, already, failed = [], [], []
    for later in repo.steps(path_id)[step.number:]:
        target = repo.rel(later.dir)
        ok = True
        if patch.strip():
            args = ["apply", f"--directory={target}"]
            if _git_ok(repo.root, *args, "--check", input=patch):
                _git(repo.root, *args, input=patch)
            elif _git_ok(repo.root, *args, "--reverse", "--check", input=patch):
                already.append(later.name)
                continue
            else:
                ok = False
        for f in untracked:
            src = repo.root / f
            dst = later.dir / Path(f).relative_to(rel)
            if dst.exists() and dst.read_bytes() != src.read_bytes():
                ok = False
            elif not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
        (applied if ok else failed).append(later.name)
    return applied, already, failed


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


def _lines(p: Path | None) -> list[str]:
    if p is None:
        return []
    try:
        return p.read_text(encoding="utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return ["(binary file)\n"]


def _git(root: Path, *args: str, input: str | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, input=input)
    if proc.returncode != 0:
        err = proc.stderr.strip()
        raise LabError(f"git {args[0]} failed: {err.splitlines()[-1] if err else proc.returncode}")
    return proc.stdout


def _git_ok(root: Path, *args: str, input: str | None = None) -> bool:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, input=input).returncode == 0
