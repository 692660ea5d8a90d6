"""The production map (production_map.toml): load it, and check its "path::Name" entries against source trees.

An entry is checked by parsing the file (ast), not by importing it: megatron-core and nanotron need GPU
packages to import, but their source is plain Python. "Class.method" looks inside the class.
"""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

PROJECTS = ("picotron", "nanotron", "megatron")


def load(path: str | Path = "production_map.toml") -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def defines(source: str, name: str) -> bool:
    """Does this Python source define `name` (a top-level class or function, or Class.method)?"""
    tree = ast.parse(source)
    body = tree.body
    for part in name.split("."):
        found = [n for n in body if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.name == part]
        if not found:
            return False
        body = found[0].body
    return True


def check(entry: str, root: str | Path) -> bool:
    """Is entry "path::Name" defined under root? False if the file is missing."""
    path, name = entry.split("::")
    file = Path(root) / path
    return file.is_file() and defines(file.read_text(encoding="utf-8"), name)


def entries(table: dict, project: str) -> list[str]:
    return [e for piece in table["piece"] for e in piece[project]]
