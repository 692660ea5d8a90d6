"""Card bodies carry their sources, and the start-here cards carry worked problems."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOG = tomllib.loads((ROOT / "paths.toml").read_text(encoding="utf-8"))
BODIES = sorted((ROOT / "docs" / "cards").glob("*.md"))
# Every ready path carries worked problems on all its cards, except the labs written before the rule
# (their own cards got problems only where a start-here path passes through them).
BEFORE_THE_RULE = {"torch-transformer", "torch-training", "nano-vllm", "cuda-first-kernel", "cuda-kernel-basics",
                   "jax-transformer", "jax-training"}
WORKED = [pid for pid, p in CATALOG["paths"].items() if p.get("status") == "ready" and pid not in BEFORE_THE_RULE]
START_HERE = {c for pid in WORKED for c in CATALOG["paths"][pid]["cards"]}
LINK = re.compile(r"\]\((https?://[^)\s]+)\)")


@pytest.mark.parametrize("body", BODIES, ids=lambda p: p.stem)
def test_card_ends_with_its_sources(body):
    text = body.read_text(encoding="utf-8")
    assert "\n## 더 읽기\n" in text, f"{body.name}: no '## 더 읽기' section"
    sources = text.split("\n## 더 읽기\n", 1)[1]
    assert "\n## " not in sources, f"{body.name}: '## 더 읽기' must be the last section"
    assert len(LINK.findall(sources)) >= 2, f"{body.name}: '## 더 읽기' needs at least two linked sources"
    assert "ANCHORS" not in text


@pytest.mark.parametrize("card", sorted(START_HERE))
def test_start_here_cards_have_worked_problems(card):
    text = (ROOT / "docs" / "cards" / f"{card}.md").read_text(encoding="utf-8")
    assert "\n## 풀어 보기\n" in text, f"{card}: no '## 풀어 보기' section"
    assert 2 <= text.count("<details><summary>풀이</summary>") <= 4
