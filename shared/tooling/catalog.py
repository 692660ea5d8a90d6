"""The catalog: paths.toml, each lab's step folders and their validated step.toml."""
from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENVS = ("torch", "jax", "docs", "vllm", "ray")
GPU_VALUES = ("none", "optional", "required")
STEP_KEYS = {"title": str, "title_en": str, "cards": list, "run": str, "env": str, "gpu": str}
# Optional keys. gpu_bench: the command `labtool gpu` runs instead of `python bench.py --json`.
# alone: when test commands run steps side by side (--jobs), this step's tests run with nothing beside
# them (they start a real server whose start-up has a deadline, or time something).
OPTIONAL_STEP_KEYS = {"gpu_bench": str, "alone": bool}
COMMAND_KEYS = ("run", "gpu_bench")  # run from the step folder; a leading `python` is the env's python


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
    """paths.toml and labs/ of one checkout (the real one by default)."""

    def __init__(self, root: Path = ROOT):
        self.root = Path(root)
        self._catalog = None

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

    def rel(self, p: Path) -> str:
        try:
            return str(p.relative_to(self.root))
        except ValueError:
            return str(p)

    # ---- paths ---------------------------------------------------------
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
        rel = self.rel(file)
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
        for key, typ in OPTIONAL_STEP_KEYS.items():
            if key in meta and not isinstance(meta[key], typ):
                raise LabError(f"{rel}: key '{key}' must be a {typ.__name__}")
        for key in COMMAND_KEYS:
            if key in meta:
                try:
                    argv = shlex.split(meta[key])
                except ValueError as e:
                    raise LabError(f"{rel}: key '{key}' is not a valid command: {e}")
                if not argv:
                    raise LabError(f"{rel}: key '{key}' is an empty command")
        if meta["env"] not in ENVS:
            raise LabError(f"{rel}: key 'env' must be one of {', '.join(ENVS)}, got '{meta['env']}'")
        if meta["gpu"] not in GPU_VALUES:
            raise LabError(f"{rel}: key 'gpu' must be one of {', '.join(GPU_VALUES)}, got '{meta['gpu']}'")
        if "gpu_bench" in meta and meta["gpu"] == "none":
            raise LabError(f"{rel}: key 'gpu_bench' needs gpu = optional or required (gpu = none is never benchmarked)")
        unknown = [c for c in meta["cards"] if c not in self.catalog.get("cards", {})]
        if unknown:
            raise LabError(f"{rel}: key 'cards' names unknown cards: {', '.join(unknown)}")
        return meta
