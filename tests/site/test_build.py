"""The site builder on a small temporary repository: what it renders, and what breaks the build."""
import re
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest

from site_helpers import REPO, run_build

CATALOG = """
start_here = ["alpha"]

[paths.alpha]
title = "알파 경로"
title_en = "Alpha"
summary = "알파 요약."
color = "#e6194b"
lab = "labs/alpha"
status = "planned"
cards = ["one", "two"]

[paths.beta]
title = "베타 경로"
title_en = "Beta"
summary = "베타 요약."
color = "#3cb44b"
lab = "labs/beta"
status = "planned"
cards = ["two", "three"]

[cards.one]
title = "첫 카드"
title_en = "Card one"
summary = "하나."
requires = []

[cards.two]
title = "둘째 카드"
title_en = "Card two"
summary = "둘."
requires = ["one"]

[cards.three]
title = "셋째 카드"
title_en = "Card three"
summary = "셋."
requires = ["two"]
"""

CARD_ONE = """\
# 첫 카드 (Card one)

행렬 곱은 $2MNK$ FLOPs:

$$F = 2MNK$$

```python
def flops(m, n, k):
    return 2 * m * n * k
```

다음: [둘째 카드](two.md), 실습: `labs/alpha/step02`
"""

STEP = """\
title = "{title}"
title_en = "Step {n}"
cards = [{cards}]
run = "python run.py"
env = "torch"
gpu = "none"
"""


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def repo(tmp_path) -> Path:
    """paths.toml with 2 paths and 3 cards; a 2-step lab for 'alpha'; bodies for its cards."""
    root = tmp_path / "repo"
    write(root, "paths.toml", CATALOG)
    write(root, "docs/cards/one.md", CARD_ONE)
    write(root, "docs/cards/two.md", "# 둘째 카드\n\n[첫 카드](../cards/one.md)로 돌아가기.\n")
    for n, cards, code in ((1, '"one"', "x = 1\n"), (2, '"one", "two"', "x = 1\ny = x * 2\n")):
        step = f"labs/alpha/step0{n}"
        write(root, f"{step}/step.toml", STEP.format(title=f"단계 {n}", n=n, cards=cards))
        back = "\n[앞 단계](../step01/README.md#이-단계에서-더하는-것), [코드](run.py)\n" if n == 2 else ""
        write(root, f"{step}/README.md", f"# 단계 {n}\n\n## 이 단계에서 더하는 것\n\n단계 {n}의 아이디어.\n{back}")
        write(root, f"{step}/run.py", code)
    return root


def build(root: Path):
    out = root / "docs" / "_build"
    proc = run_build(root, out)
    return proc, out


def assert_fails_naming(root: Path, *names: str) -> None:
    proc, out = build(root)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert len(errors) == 1, proc.stderr
    assert all(name in errors[0] for name in names), errors[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists(), "a failed build must not leave a half-written site"


def test_builds_pages_with_math_code_links_and_diffs(repo):
    proc, out = build(repo)
    assert proc.returncode == 0, proc.stderr
    card = (out / "cards" / "one.html").read_text(encoding="utf-8")
    assert card.count("<math") == 2 and 'display="block"' in card          # latex2mathml
    assert '<span class="k">def</span>' in card                              # Pygments
    assert 'href="../cards/two.html"' in card                               # card link rewritten
    assert 'href="../steps/alpha/step02.html"' in card                      # step reference linked
    assert "알파 경로 · step01: 단계 1" in card and "알파 경로 · step02: 단계 2" in card  # lab steps
    assert 'href="../cards/one.html"' in (out / "cards" / "two.html").read_text(encoding="utf-8")
    three = (out / "cards" / "three.html").read_text(encoding="utf-8")
    assert "본문 준비 중" in three and "셋." in three                        # planned, no body
    step2 = (out / "steps" / "alpha" / "step02.html").read_text(encoding="utf-8")
    assert '<span class="gi">+y = x * 2</span>' in step2                     # highlighted diff
    assert "nox -s test-step -- alpha 2" in step2
    assert f'href="../../steps/alpha/step01.html#{quote("이-단계에서-더하는-것")}"' in step2  # README link
    assert '<h2 id="이-단계에서-더하는-것">' in step2
    assert ", 코드</p>" in step2 and 'href="run.py"' not in step2                # no page: text only
    path = (out / "paths" / "alpha.html").read_text(encoding="utf-8")
    assert "단계 2의 아이디어." in path and "nox -s run -- alpha 1" in path
    assert "준비 중" in (out / "paths" / "beta.html").read_text(encoding="utf-8")
    home = (out / "index.html").read_text(encoding="utf-8")
    assert home.count('class="legend-item"') == 2 and home.count('class="line"') == 2
    assert 'class="station interchange"' in home                             # 'two' is on both lines


def test_status_ready_or_planned_is_shown(repo):
    home = (build(repo)[1] / "index.html").read_text(encoding="utf-8")
    assert "준비 중 (planned) · 2단계 작성됨" in home and "실습 2단계" not in home
    toml = (repo / "paths.toml").read_text(encoding="utf-8")
    (repo / "paths.toml").write_text(toml.replace('lab = "labs/alpha"\nstatus = "planned"',
                                                  'lab = "labs/alpha"\nstatus = "ready"'), encoding="utf-8")
    home = (build(repo)[1] / "index.html").read_text(encoding="utf-8")
    assert "실습 2단계" in home and home.count("준비 중 (planned)") == 1


def test_map_is_deterministic_and_relaid_when_a_card_is_added(repo):
    first = (build(repo)[1] / "index.html").read_text(encoding="utf-8")
    assert (build(repo)[1] / "index.html").read_text(encoding="utf-8") == first
    toml = (repo / "paths.toml").read_text(encoding="utf-8")
    toml = toml.replace('cards = ["two", "three"]', 'cards = ["two", "three", "four"]')
    toml += '\n[cards.four]\ntitle = "넷째 카드"\ntitle_en = "Four"\nsummary = "넷."\nrequires = ["three"]\n'
    (repo / "paths.toml").write_text(toml, encoding="utf-8")
    home = (build(repo)[1] / "index.html").read_text(encoding="utf-8")
    assert 'data-card="four"' in home and home.count('class="line"') == 3


def test_missing_body_of_a_card_a_step_teaches(repo):
    (repo / "docs/cards/two.md").unlink()
    assert_fails_naming(repo, "docs/cards/two.md", "labs/alpha/step02")


def test_missing_body_of_a_card_on_a_ready_path(repo):
    toml = (repo / "paths.toml").read_text(encoding="utf-8")
    (repo / "paths.toml").write_text(toml.replace('lab = "labs/beta"\nstatus = "planned"',
                                                  'lab = "labs/beta"\nstatus = "ready"'), encoding="utf-8")
    assert_fails_naming(repo, "docs/cards/three.md", "beta")


def test_path_listing_an_unknown_card(repo):
    toml = (repo / "paths.toml").read_text(encoding="utf-8")
    (repo / "paths.toml").write_text(toml.replace('["two", "three"]', '["two", "three", "nope"]'),
                                     encoding="utf-8")
    assert_fails_naming(repo, "beta", "nope")


def test_step_naming_an_unknown_card(repo):
    write(repo, "labs/alpha/step02/step.toml", STEP.format(title="단계 2", n=2, cards='"one", "ghost"'))
    assert_fails_naming(repo, "labs/alpha/step02/step.toml", "ghost")


def test_markdown_link_to_a_missing_card(repo):
    write(repo, "labs/alpha/step01/README.md", "# 단계 1\n\n[없는 카드](../../../docs/cards/ghost.md)\n")
    assert_fails_naming(repo, "labs/alpha/step01/README.md", "ghost")


def test_markdown_link_to_a_missing_file(repo):
    (repo / "docs/cards/two.md").write_text("[코드](../../labs/alpha/step01/nothing.py)\n", encoding="utf-8")
    assert_fails_naming(repo, "docs/cards/two.md", "nothing.py")


def test_real_repository_catalog_builds_its_map(tmp_path):
    """The real paths.toml (26 lines, all cards) lays out; bodies and labs are not needed for it."""
    root = tmp_path / "repo"
    root.mkdir()
    toml = (REPO / "paths.toml").read_text(encoding="utf-8")
    (root / "paths.toml").write_text(toml.replace('status = "ready"', 'status = "planned"'),
                                     encoding="utf-8")
    proc, out = build(root)
    assert proc.returncode == 0, proc.stderr
    home = (out / "index.html").read_text(encoding="utf-8")
    assert home.count('class="legend-item"') == 26



# ---- folded answers, math, figures, the map's numbers ---------------------------------------
FOLDED = """\
# 첫 카드

1. $2 \\times 3$은?

   <details><summary>풀이</summary>

   곱하면 $6$이다:

   $$2 \\times 3 = 6$$

   </details>

<details>
<summary>검증</summary>

- 테스트가 본다. 가격은 \\$5, <b>굵게</b>는 글자 그대로.

</details>
"""


def test_folded_answers_render_as_closed_details_with_their_markdown(repo):
    (repo / "docs/cards/one.md").write_text(FOLDED, encoding="utf-8")
    proc, out = build(repo)
    assert proc.returncode == 0, proc.stderr
    card = (out / "cards" / "one.html").read_text(encoding="utf-8")
    assert card.count("<details>") == 2 and card.count("</details>") == 2    # folded: no `open`
    assert "<summary>풀이</summary>" in card and "<summary>검증</summary>" in card
    inner = card[card.index("<summary>풀이</summary>"):card.index("</details>")]
    assert inner.count("<math") == 2 and 'display="block"' in inner       # Markdown and math inside
    assert "&lt;details" not in card and "&lt;summary" not in card
    assert "&lt;b&gt;굵게&lt;/b&gt;" in card and "<b>" not in card         # other raw HTML stays text
    assert "&#36;5" in card                                                # \$ is a literal dollar


def test_display_math_inside_a_paragraph_renders(repo):
    (repo / "docs/cards/one.md").write_text("평균은\n$$\\bar{x} = \\frac{1}{n}\\sum_i x_i$$\n이다.\n",
                                            encoding="utf-8")
    proc, out = build(repo)
    assert proc.returncode == 0, proc.stderr
    card = (out / "cards" / "one.html").read_text(encoding="utf-8")
    assert '<span class="math display"><math' in card and "$" not in card.split("<main>")[1]


@pytest.mark.parametrize("body, line, what", [
    ("# 제목\n\n줄\n\n| a | b |\n|---|---|\n| $\\lvert x|$ | 2 |\n", 7, "$"),   # a | inside math splits the cell
    ("# 제목\n\n줄 하나\n줄 둘 \\(x\\) 끝\n", 4, "\\("),                       # LaTeX's other delimiter
    ("# 제목\n\n<details><summary>풀이</summary>\n\n가격 $5와\n\n</details>\n", 5, "$"),  # inside a fold
    ("# 제목\n\n$\\frac{1}{$ 다음\n", 3, "cannot convert math"),                 # latex2mathml fails
])
def test_unrendered_math_fails_the_build_naming_file_and_line(repo, body, line, what):
    (repo / "docs/cards/one.md").write_text(body, encoding="utf-8")
    assert_fails_naming(repo, f"docs/cards/one.md:{line}:", what)


def test_a_dollar_from_outside_markdown_fails_naming_the_page(repo):
    write(repo, "labs/alpha/step02/step.toml", STEP.format(title="단계 $2", n=2, cards='"one", "two"'))
    proc, out = build(repo)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 1 and errors and not out.exists(), proc.stderr
    assert any("steps/alpha/step02.html:" in e and "step.toml" in e for e in errors), errors


def test_figure_marker_becomes_a_figure_with_alt_text(repo):
    (repo / "docs/cards/two.md").write_text("# 둘째 카드\n\n글.\n<!-- figure: gqa -->\n\n끝.\n", encoding="utf-8")
    proc, out = build(repo)
    assert proc.returncode == 0, proc.stderr
    card = (out / "cards" / "two.html").read_text(encoding="utf-8")
    fig = card[card.index('<figure class="fig"'):card.index("</figure>")]
    assert '<img src="../figures/gqa.svg" alt="' in fig and 'alt=""' not in fig and "<figcaption>" in fig
    assert "figure:" not in card                                            # the marker is gone
    svg = (out / "figures" / "gqa.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_unknown_figure_fails_naming_file_and_line(repo):
    (repo / "docs/cards/two.md").write_text("# 둘째 카드\n\n<!-- figure: no-such-figure -->\n", encoding="utf-8")
    assert_fails_naming(repo, "docs/cards/two.md:3:", "no-such-figure")


def test_build_prints_the_maps_crossings_and_length(repo):
    proc, _ = build(repo)
    assert re.search(r"^map: \d+ line crossings, total line length \d+ px", proc.stdout, re.M), proc.stdout


def test_real_catalog_map_halves_crossings_and_length():
    """Crossings and total line length of today's catalog, against the layout before regions
    (metro.BASELINE, measured on that layout as its comment says): both at most half."""
    import tomllib
    sys.path.insert(0, str(REPO / "docs" / "site"))
    try:
        import metro
    finally:
        sys.path.pop(0)
    catalog = tomllib.loads((REPO / "paths.toml").read_text(encoding="utf-8"))
    lay = metro.layout(catalog["cards"], catalog["paths"])
    crossings, length = metro.metrics(lay, catalog["paths"])
    assert crossings <= metro.BASELINE["crossings"] / 2, (crossings, metro.BASELINE)
    assert length <= metro.BASELINE["length"] / 2, (length, metro.BASELINE)
    regions = lay["regions"]
    inside = sum(regions[a] == regions[b] for _, a, b in metro.segments(catalog["paths"]))
    assert inside / len(metro.segments(catalog["paths"])) > 0.7     # lines run mostly within regions
    assert set(regions.values()) <= set(metro.REGIONS) - {"other"}  # every path has a region


def test_metrics_count_crossings_and_length():
    sys.path.insert(0, str(REPO / "docs" / "site"))
    try:
        import metro
    finally:
        sys.path.pop(0)
    lay = {"nodes": {"a": (0, 0), "b": (10, 0), "c": (5, -5), "d": (5, 5), "e": (20, 0)}}
    paths = {"x": {"cards": ["a", "b", "e"]}, "y": {"cards": ["c", "d"]}, "z": {"cards": ["a", "c"]}}
    crossings, length = metro.metrics(lay, paths)
    assert crossings == 1                       # x's a-b crosses y's c-d; z shares a station with x
    assert length == pytest.approx(10 + 10 + 10 + 50 ** 0.5)
