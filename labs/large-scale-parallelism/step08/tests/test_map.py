"""The production map: our entries exist in this step's code; megatron and nanotron entries were all found
in the released packages, picotron's in its repository at a pinned commit (recorded); the checker can fail."""
import importlib.util
import json
from pathlib import Path

import pytest

from mapping import PROJECTS, check, defines, entries, load

TABLE = load()


def test_every_piece_names_all_projects_and_a_step():
    assert len(TABLE["piece"]) >= 10
    for piece in TABLE["piece"]:
        assert set(PROJECTS) | {"name", "step", "ours", "differs"} <= set(piece)
        assert 1 <= piece["step"] <= 7 and piece["ours"] and piece["differs"]
        assert piece["megatron"], f"{piece['name']}: every piece exists in Megatron"


def test_our_entries_exist_in_this_step():
    for piece in TABLE["piece"]:
        for e in piece["ours"]:
            assert check(e, "."), e


def test_recorded_verification_covers_every_entry():
    record = json.loads(Path("results/verified_names.json").read_text())
    for project in PROJECTS:
        assert record["versions"][project] == TABLE["sources"][project]["version"]
        assert record["found"][project] == {e: True for e in entries(TABLE, project)}


def test_the_checker_can_fail(tmp_path):
    src = "class A:\n    def f(self):\n        pass\n\ndef g():\n    pass\n"
    assert defines(src, "A") and defines(src, "A.f") and defines(src, "g")
    assert not defines(src, "A.g") and not defines(src, "f") and not defines(src, "B")
    (tmp_path / "m.py").write_text(src)
    assert check("m.py::A.f", tmp_path) and not check("m.py::A.h", tmp_path) and not check("n.py::A", tmp_path)


@pytest.mark.skipif(importlib.util.find_spec("megatron") is None, reason="megatron-core is not installed here")
def test_megatron_entries_in_the_installed_package():
    root = Path(importlib.util.find_spec("megatron").submodule_search_locations[0]).parent
    for e in entries(TABLE, "megatron"):
        assert check(e, root), e
