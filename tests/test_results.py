"""Every measured figure a step README quotes is recorded in that step's results/.

A number followed by a measurement unit (ms, µs, s, 초, tok/s, GFLOP/s, TFLOP/s,
GB/s, TB/s) must equal, at the precision quoted, a number found in a file under
the same step's `results/` (a JSON value, or a number inside a JSON string or in
a .md/.txt/.csv file there). A line that names its external source (an http(s)
link, or the word 데이터시트/datasheet) is exempt: those figures are cited, not ours.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
READMES = sorted(ROOT.glob("labs/*/step*/README.md"))

NUMBER = r"(?<![\w.^/])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
UNIT = r"\s*(?:ms|µs|us|s|초|tok/s|tokens/s|GFLOP/s|TFLOP/s|GB/s|TB/s)(?![\w/])"
QUOTE = re.compile(NUMBER + r"(?=" + UNIT + r")")
# ranges like "1.3–1.5 ms": the first number takes the unit of the second
RANGE = re.compile(NUMBER + r"\s*[–~-]\s*" + NUMBER + r"(?=" + UNIT + r")")
SOURCE = re.compile(r"https?://|데이터시트|datasheet", re.IGNORECASE)
ANY_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def quoted_figures(text: str) -> list[tuple[int, str]]:
    """(line number, number as written) for every measured-looking figure outside cited lines."""
    out = []
    in_code = False
    for i, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if in_code or SOURCE.search(line):
            continue
        line = re.sub(r"`[^`]*`", "", line)  # inline code: commands and flags, not figures
        line = re.sub(r"\$[^$]*\$", "", line)  # math: formulas, not measurements
        found = {m.start(1): m.group(1) for m in QUOTE.finditer(line)}
        for m in RANGE.finditer(line):
            found[m.start(1)] = m.group(1)
        out += [(i, found[k]) for k in sorted(found)]
    return out


def recorded_numbers(results: Path) -> set[Decimal]:
    nums: set[Decimal] = set()

    def walk(x):
        if isinstance(x, bool):
            return
        if isinstance(x, (int, float)):
            nums.add(Decimal(repr(x)))
        elif isinstance(x, str):
            nums.update(Decimal(s) for s in ANY_NUMBER.findall(x.replace(",", "")))
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    if not results.is_dir():
        return nums
    for f in results.rglob("*"):
        if f.suffix == ".json":
            walk(json.loads(f.read_text(encoding="utf-8")))
        elif f.suffix in (".md", ".txt", ".csv"):
            walk(f.read_text(encoding="utf-8"))
    return nums


def matches(quoted: str, recorded: set[Decimal]) -> bool:
    """The quoted figure is a recorded number rounded to the quoted number of decimals.

    Also at 10^k and 10^-k of it (ms quoted from seconds, tok/s from a rate in thousands)."""
    q = Decimal(quoted.replace(",", ""))
    places = -q.as_tuple().exponent if "." in quoted else 0
    half = Decimal(1).scaleb(-places) / 2
    for r in recorded:
        for k in (0, 3, 6, -3, -6):
            if abs(r.scaleb(k) - q) <= half:
                return True
    return False


def test_the_figure_pattern_finds_what_it_should():
    text = ("측정: 2,166 ms, 94.4 ms, 685 tok/s, 1.3–1.5 s\n"
            "H100 데이터시트 989 TFLOP/s\n`sleep 4 s`\n$t = 3 ms$\n")
    assert [q for _, q in quoted_figures(text)] == ["2,166", "94.4", "685", "1.3", "1.5"]
    recorded = {Decimal("2166.43"), Decimal("0.0944"), Decimal("685.2"), Decimal("1.31"), Decimal("1.52")}
    assert all(matches(q, recorded) for _, q in quoted_figures(text))
    assert not matches("94.5", recorded) and not matches("2,170", recorded)


@pytest.mark.parametrize("readme", READMES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_every_measured_figure_is_recorded(readme):
    recorded = recorded_numbers(readme.parent / "results")
    missing = [f"line {i}: {q}" for i, q in quoted_figures(readme.read_text(encoding="utf-8"))
               if not matches(q, recorded)]
    rel = readme.relative_to(ROOT)
    assert not missing, (f"{rel} quotes figures that no file in {rel.parent}/results records "
                         f"(record them there, or cite the external source on the line): {', '.join(missing)}")
