"""paths.toml: schema, integrity, and the 26 paths of the seed with verbatim titles and summaries."""
import graphlib
import re

import pytest

from conftest import ROOT

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SEED = ROOT / "docs" / "seed-site.txt"


def seed_paths():
    """(title, summary) of every path in the seed's "모든 학습 경로" list."""
    out = {}
    for line in SEED.read_text(encoding="utf-8").splitlines():
        if line.startswith("- ") and " — " in line:
            title, summary = line[2:].split(" — ", 1)
            out[title] = summary
    return out


def seed_start_here():
    lines = SEED.read_text(encoding="utf-8").splitlines()
    i = lines.index("처음이라면 여기부터")
    return [l for l in lines[i + 1:i + 6] if re.match(r"^[123] ", l)]


def test_seed_copy_matches_steering_seed():
    steering = ROOT.parent / "shared" / "seed-site.txt"
    if not steering.exists():
        pytest.skip("no ../shared/seed-site.txt beside this clone; the repo copy is the reference")
    assert SEED.read_bytes() == steering.read_bytes()


def test_all_26_seed_paths_with_verbatim_title_and_summary(repo):
    seed = seed_paths()
    assert len(seed) == 26
    paths = repo.paths
    assert len(paths) == 26
    assert {p["title"] for p in paths.values()} == set(seed)
    for pid, p in paths.items():
        assert p["summary"] == seed[p["title"]], pid


def test_start_here_is_the_seeds_three_in_order(repo):
    start = repo.catalog["start_here"]
    assert len(start) == 3
    lines = seed_start_here()
    assert len(lines) == 3
    for pid, line in zip(start, lines):
        assert line[2:].startswith(repo.paths[pid]["title"]), (pid, line)


def test_path_schema(repo):
    colors = set()
    for pid, p in repo.paths.items():
        assert KEBAB.match(pid), pid
        for key, typ in [("title", str), ("title_en", str), ("summary", str), ("color", str),
                         ("lab", str), ("status", str), ("cards", list)]:
            assert isinstance(p.get(key), typ), (pid, key)
        assert re.fullmatch(r"#[0-9a-f]{6}", p["color"]), pid
        colors.add(p["color"])
        assert p["lab"] == f"labs/{pid}"
        assert p["cards"], pid
        assert len(set(p["cards"])) == len(p["cards"]), f"{pid} lists a card twice"
    assert len(colors) == 26, "every line needs its own color"


def test_status_matches_the_labs_on_disk(repo):
    for pid, p in repo.paths.items():
        assert p["status"] in ("planned", "ready"), pid
        assert (p["status"] == "ready") == repo.has_lab(pid), (
            f"{pid}: status is {p['status']} but labs/{pid} {'has' if repo.has_lab(pid) else 'has no'} steps")


def test_card_schema_and_references(repo):
    cards = repo.catalog["cards"]
    for cid, c in cards.items():
        assert KEBAB.match(cid), cid
        for key in ("title", "title_en", "summary"):
            assert isinstance(c.get(key), str) and c[key].strip(), (cid, key)
        assert "\n" not in c["summary"], f"{cid}: summary must be one line"
        assert re.search(r"[가-힣]", c["title"] + c["summary"]), f"{cid}: Korean title/summary"
        for r in c["requires"]:
            assert r in cards, f"{cid} requires unknown card {r}"
            assert r != cid
    for pid, p in repo.paths.items():
        for cid in p["cards"]:
            assert cid in cards, f"path {pid} lists unknown card {cid}"


def test_card_graph_has_no_cycles(repo):
    graph = {cid: c["requires"] for cid, c in repo.catalog["cards"].items()}
    list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError


def test_every_card_is_used_and_some_are_shared(repo):
    used = {}
    for pid, p in repo.paths.items():
        for cid in p["cards"]:
            used.setdefault(cid, []).append(pid)
    assert set(used) == set(repo.catalog["cards"]), set(repo.catalog["cards"]) - set(used)
    shared = [c for c, ps in used.items() if len(ps) > 1]
    assert len(shared) >= 20, "the map is a map: many cards are interchange stations"


def test_cards_taught_by_labs_have_bodies(repo):
    needed = set()
    for pid in repo.lab_ids():
        needed |= set(repo.paths[pid]["cards"])
        for step in repo.steps(pid):
            needed |= set(step.meta["cards"])
    missing = sorted(c for c in needed if not (ROOT / "docs" / "cards" / f"{c}.md").is_file())
    assert not missing, f"cards without docs/cards/<id>.md: {missing}"
    for f in (ROOT / "docs" / "cards").glob("*.md"):
        assert f.stem in repo.catalog["cards"], f"{f.name} is not a card in paths.toml"
        text = f.read_text(encoding="utf-8")
        assert re.search(r"[가-힣]", text), f"{f.name} must be Korean"
