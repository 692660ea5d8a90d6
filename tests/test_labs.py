"""Each lab's structure: contiguous steps, valid step.toml, README and tests, non-empty diffs."""
import re
import shlex

import pytest

from conftest import ROOT, load_labtool

labtool = load_labtool()
REPO = labtool.Repo(ROOT)
LABS = REPO.lab_ids()
STEPS = [(pid, s.number) for pid in LABS for s in REPO.steps(pid)]
README_SECTIONS = ["실행", "스스로 확인"]


def test_there_is_at_least_one_lab():
    assert "roofline" in LABS


def test_lab_folders_belong_to_paths():
    for d in (ROOT / "labs").iterdir():
        if d.is_dir() and not d.name.startswith("."):  # .pytest_cache and the like are ignored by git
            assert d.name in REPO.paths, f"labs/{d.name} is not a path in paths.toml"


@pytest.mark.parametrize("pid", LABS)
def test_steps_are_contiguous_from_one(pid):
    names = sorted(d.name for d in REPO.lab_dir(pid).iterdir() if d.is_dir() and d.name.startswith("step"))
    assert names == [f"step{i:02d}" for i in range(1, len(names) + 1)], names


@pytest.mark.parametrize("pid,n", STEPS)
def test_step_files(pid, n):
    step = REPO.step(pid, n)  # validates step.toml
    readme = step.dir / "README.md"
    assert readme.is_file(), f"{step.dir} has no README.md"
    text = readme.read_text(encoding="utf-8")
    assert re.search(r"[가-힣]", text), f"{readme}: lesson prose is Korean"
    for section in README_SECTIONS:
        assert section in text, f"{readme}: missing a '{section}' section"
    tests = list((step.dir / "tests").glob("test_*.py"))
    assert tests, f"{step.dir} has no tests/test_*.py"
    for t in tests:
        src = t.read_text(encoding="utf-8")
        assert "sys.path" not in src, f"{t}: tests import the step's modules by name, without sys.path edits"
    argv = shlex.split(step.meta["run"])
    scripts = [a for a in argv if a.endswith(".py")]
    for s in scripts:
        assert (step.dir / s).is_file(), f"{step.dir}: run names missing {s}"
    off_line = set(step.meta["cards"]) - set(REPO.paths[pid]["cards"])
    assert not off_line, f"{step.dir}: cards {off_line} are not stations of path {pid} in paths.toml"


@pytest.mark.parametrize("pid", LABS)
def test_every_station_of_a_lab_path_is_taught_by_a_step(pid):
    taught = {c for s in REPO.steps(pid) for c in s.meta["cards"]}
    assert set(REPO.paths[pid]["cards"]) <= taught, set(REPO.paths[pid]["cards"]) - taught


@pytest.mark.parametrize("pid,n", STEPS)
def test_step_does_not_reach_into_another_step(pid, n):
    for f in REPO.step(pid, n).dir.rglob("*.py"):
        src = f.read_text(encoding="utf-8")
        assert not re.search(r"\.\./step\d\d|labs/[a-z0-9-]+/step\d\d", src), f"{f}: a step is self-contained"


@pytest.mark.parametrize("pid,n", [(p, n) for p, n in STEPS if n > 1])
def test_consecutive_diff_is_not_empty(pid, n):
    assert labtool.diff(REPO, pid, n).strip(), f"{pid} step{n:02d} is identical to the step before"


@pytest.mark.parametrize("pid,n", STEPS)
def test_step_files_are_small(pid, n):
    for f in REPO.step(pid, n).dir.rglob("*.py"):
        lines = len(f.read_text(encoding="utf-8").splitlines())
        assert lines <= 400, f"{f}: {lines} lines; split it (a few hundred lines a file)"


@pytest.mark.parametrize("pid,n", STEPS)
def test_steps_with_gpu_tests_say_so(pid, n):
    """`nox -s gpu` runs the steps whose step.toml says gpu = optional/required, so a gpu test must live there."""
    step = REPO.step(pid, n)
    uses_gpu = any(re.search(r"dlc_shared\.testing import .*\bgpu\b|mark\.gpu", t.read_text(encoding="utf-8"))
                   for t in (step.dir / "tests").glob("*.py"))
    if uses_gpu:
        assert step.meta["gpu"] != "none", f"{step.dir}: has gpu tests but step.toml says gpu = none"
