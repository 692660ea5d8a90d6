"""The lab tooling on good and bad input, run as a learner runs it (a subprocess) on a tiny fake repo."""
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT

STEP_TOML = """title = "{title}"
title_en = "{title}"
cards = ["card-a"]
run = "python run.py"
env = "torch"
gpu = "none"
"""
CALC_1 = "def add(a, b):\n    return a + b\n"
CALC_2 = CALC_1 + "\n\ndef mul(a, b):\n    return a * b\n"
TEST_1 = "import calc\n\n\ndef test_add():\n    assert calc.add(2, 3) == 5\n"
TEST_2 = TEST_1 + "\n\ndef test_mul():\n    assert calc.mul(4, 5) == 20\n"


def write_step(lab: Path, n: int, calc: str, test: str):
    d = lab / f"step{n:02d}"
    (d / "tests").mkdir(parents=True)
    (d / "step.toml").write_text(STEP_TOML.format(title=f"단계 {n}"), encoding="utf-8")
    (d / "README.md").write_text(f"# 단계 {n}\n", encoding="utf-8")
    (d / "calc.py").write_text(calc)
    (d / "run.py").write_text("import sys, calc\nprint('sum', calc.add(1, 2), *sys.argv[1:])\n")
    (d / "tests" / "test_calc.py").write_text(test)
    return d


@pytest.fixture()
def fake(tmp_path):
    """A repo with one lab of three steps; the torch env is the real one (same pyproject, no reinstall)."""
    root = tmp_path / "repo"
    (root / "shared").mkdir(parents=True)
    shutil.copy(ROOT / "shared" / "labtool.py", root / "shared" / "labtool.py")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "labs").mkdir()
    shutil.copy(ROOT / "labs" / "pytest.ini", root / "labs" / "pytest.ini")
    (root / ".nox").mkdir()
    os.symlink(ROOT / ".nox" / "env-torch", root / ".nox" / "env-torch")
    (root / "paths.toml").write_text(textwrap.dedent("""
        [paths.demo]
        title = "데모"
        cards = ["card-a"]
        [paths.other]
        title = "다른 경로"
        cards = ["card-a"]
        [cards.card-a]
        title = "카드"
        requires = []
        """), encoding="utf-8")
    lab = root / "labs" / "demo"
    write_step(lab, 1, CALC_1, TEST_1)
    write_step(lab, 2, CALC_2, TEST_2)
    write_step(lab, 3, CALC_2 + "\n\ndef sub(a, b):\n    return a - b\n", TEST_2)
    return root


def tool(root, *args):
    return subprocess.run([sys.executable, str(root / "shared" / "labtool.py"), *args],
                          capture_output=True, text=True, cwd=root, timeout=300)


def one_error_line(proc):
    assert proc.returncode != 0
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    return lines[0]


def test_real_catalog_lists_26_paths():
    proc = tool(ROOT, "list")
    assert proc.returncode == 0, proc.stderr
    assert "26 paths" in proc.stdout
    assert "roofline" in proc.stdout and "dllm-serving" in proc.stdout


@pytest.mark.parametrize("cmd", [["run"], ["diff"], ["test-step"], ["bench"]])
def test_unknown_path_lists_known_paths(fake, cmd):
    line = one_error_line(tool(fake, *cmd, "nope", "1"))
    assert "unknown path 'nope'" in line and "demo" in line and "other" in line


def test_planned_path_is_named_as_planned(fake):
    line = one_error_line(tool(fake, "run", "other", "1"))
    assert "no lab yet" in line and "demo" in line


@pytest.mark.parametrize("step", ["0", "4", "x"])
def test_step_out_of_range_names_the_range(fake, step):
    line = one_error_line(tool(fake, "run", "demo", step))
    assert "1-3" in line or "1 to 3" in line


def test_unknown_path_for_test_path(fake):
    assert "known paths" in one_error_line(tool(fake, "test-path", "nope"))


def test_malformed_step_toml_names_file_and_key(fake):
    f = fake / "labs" / "demo" / "step02" / "step.toml"
    f.write_text(f.read_text().replace('run = "python run.py"\n', ""))
    line = one_error_line(tool(fake, "run", "demo", "2"))
    assert "labs/demo/step02/step.toml" in line and "'run'" in line
    f.write_text("title = [unclosed\n")
    line = one_error_line(tool(fake, "test-step", "demo", "2"))
    assert "labs/demo/step02/step.toml" in line and "invalid TOML" in line


def test_bad_env_and_unknown_card_are_named(fake):
    f = fake / "labs" / "demo" / "step01" / "step.toml"
    f.write_text(f.read_text().replace('env = "torch"', 'env = "cobol"'))
    assert "'env'" in one_error_line(tool(fake, "run", "demo", "1"))
    f.write_text(STEP_TOML.format(title="x").replace("card-a", "no-such-card"))
    assert "no-such-card" in one_error_line(tool(fake, "run", "demo", "1"))


def test_run_passes_extra_arguments(fake):
    proc = tool(fake, "run", "demo", "1", "--", "hello")
    assert proc.returncode == 0, proc.stderr
    assert "sum 3 hello" in proc.stdout


def test_diff_shows_only_the_lesson(fake):
    proc = tool(fake, "diff", "demo", "2")
    assert proc.returncode == 0
    added = [l for l in proc.stdout.splitlines() if l.startswith("+") and not l.startswith("+++")]
    assert "+def mul(a, b):" in added
    assert "step01/calc.py" in proc.stdout and "step02/calc.py" in proc.stdout
    stat = tool(fake, "diff", "demo", "2", "--stat").stdout
    assert "calc.py" in stat and "files changed" in stat
    first = tool(fake, "diff", "demo", "1")
    assert first.returncode == 0 and "/dev/null" in first.stdout


def test_test_path_passes_and_fails(fake):
    proc = tool(fake, "test-path", "demo")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed, 0 failed" in proc.stdout
    (fake / "labs" / "demo" / "step02" / "calc.py").write_text(CALC_2.replace("a * b", "a + b"))
    proc = tool(fake, "test-path", "demo")
    assert proc.returncode != 0
    assert "2 passed, 1 failed" in proc.stdout and "FAILED" in proc.stdout


def test_checkout_then_test_the_next_step_against_the_copy(fake, tmp_path):
    work = tmp_path / "mywork"
    proc = tool(fake, "checkout", "demo", "1", str(work))
    assert proc.returncode == 0, proc.stderr
    assert (work / "calc.py").read_text() == CALC_1
    assert f"test-step -- demo 2 --against {work}" in proc.stdout
    # Step 2's tests fail on step 1's code: the lesson is not written yet.
    assert tool(fake, "test-step", "demo", "2", "--against", str(work)).returncode != 0
    (work / "calc.py").write_text(CALC_1 + "\n\ndef mul(a, b):\n    return b * a\n")
    proc = tool(fake, "test-step", "demo", "2", "--against", str(work))
    assert proc.returncode == 0, proc.stdout
    again = tool(fake, "checkout", "demo", "1", str(work))
    assert "not empty" in one_error_line(again)


def test_carry_applies_forward_and_lists_the_rest(fake):
    git = lambda *a: subprocess.run(["git", *a], cwd=fake, check=True, capture_output=True)
    git("init", "-q")
    git("-c", "user.email=t@t", "-c", "user.name=t", "add", "-A")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init")
    assert "no uncommitted change" in one_error_line(tool(fake, "carry", "demo", "2"))
    # A fix to step02's run.py (identical in step03) and to its calc.py's mul (changed in step03's context).
    for n in (2,):
        run = fake / "labs" / "demo" / f"step{n:02d}" / "run.py"
        run.write_text(run.read_text().replace("'sum'", "'total'"))
    proc = tool(fake, "carry", "demo", "2")
    assert proc.returncode == 0, proc.stderr
    assert "applied to: demo step03" in proc.stdout
    assert "'total'" in (fake / "labs" / "demo" / "step03" / "run.py").read_text()
    # The same change again is already there.
    proc = tool(fake, "carry", "demo", "2")
    assert "already in: demo step03" in proc.stdout
    # A change whose context differs in step03 does not apply and is listed.
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "carried")
    s3 = fake / "labs" / "demo" / "step03" / "calc.py"
    s3.write_text(s3.read_text().replace("return a * b", "return b * a"))
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "diverge")
    s2 = fake / "labs" / "demo" / "step02" / "calc.py"
    s2.write_text(s2.read_text().replace("return a * b", "return int(a * b)"))
    proc = tool(fake, "carry", "demo", "2")
    assert proc.returncode != 0
    assert "did NOT apply to: demo step03" in proc.stdout


def test_usage_errors_exit_non_zero(fake):
    proc = tool(fake, "run")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
