"""Every step README follows the lesson form (docs/LAB_GUIDE.md, "Step README template").

- every numbered question under "## 스스로 확인하기" has a folded
  `<details><summary>풀이</summary>` block under it, before the next question;
- `<details><summary>…</summary>` sits on one line with a blank line after it, and
  `</details>` has a blank line before it (Markdown inside the fold needs both);
- the README ends with exactly one folded 검증 block (the engineering facts);
- lesson text never names the project's internal pages.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
READMES = sorted(ROOT.glob("labs/*/step*/README.md"))
QUESTION = re.compile(r"^\d+\.\s")
OPEN = re.compile(r"^<details><summary>(.*?)</summary>$")


def form_problems(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    problems, summaries, depth = [], [], 0
    questions, answered, in_questions = [], set(), False
    for i, line in enumerate(lines):
        s = line.strip()
        if line.startswith("## "):
            in_questions = "스스로 확인" in line
        m = OPEN.match(s)
        if s.startswith("<details") and not m:
            problems.append(f"line {i + 1}: write <details><summary>TITLE</summary> on one line")
        if m:
            if in_questions and depth == 0 and m.group(1) == "풀이" and questions:
                answered.add(questions[-1])
            depth += 1
            summaries.append(m.group(1))
            if i + 1 < len(lines) and lines[i + 1].strip():
                problems.append(f"line {i + 1}: a blank line must follow <summary>")
        elif s == "</details>":
            depth -= 1
            if lines[i - 1].strip():
                problems.append(f"line {i + 1}: a blank line must precede </details>")
        elif in_questions and depth == 0 and QUESTION.match(line):
            questions.append(i)
        if "ANCHORS" in line:
            problems.append(f"line {i + 1}: names an internal page (ANCHORS)")
    if depth:
        problems.append("unbalanced <details> blocks")
    if not questions:
        problems.append("no numbered question under '## 스스로 확인하기'")
    problems += [f"line {q + 1}: question without a folded 풀이 under it" for q in questions if q not in answered]
    body = [line for line in lines if line.strip()]
    if summaries.count("검증") != 1 or not summaries or summaries[-1] != "검증" or body[-1].strip() != "</details>":
        problems.append("the README must end with exactly one <details><summary>검증</summary> block")
    return problems


def test_the_form_check_catches_a_missing_answer():
    good = ("## 스스로 확인하기\n\n1. q?\n\n<details><summary>풀이</summary>\n\na\n\n</details>\n\n"
            "<details><summary>검증</summary>\n\nv\n\n</details>\n")
    assert form_problems(good) == []
    assert form_problems(good.replace("1. q?", "1. q?\n2. r?"))  # question 2 has no 풀이
    assert form_problems(good + "trailing text\n")  # 검증 is not last
    assert form_problems(good.replace("풀이</summary>\n\n", "풀이</summary>\n"))  # no blank line


@pytest.mark.parametrize("readme", READMES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_readme_follows_the_form(readme):
    problems = form_problems(readme.read_text(encoding="utf-8"))
    assert not problems, f"{readme.relative_to(ROOT)}: " + "; ".join(problems)
