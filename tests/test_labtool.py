"""The lab tooling on good and bad input, run as a learner runs it (a subprocess) on a tiny fake repo."""
import ast
import json
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
    shutil.copytree(ROOT / "shared" / "tooling", root / "shared" / "tooling",
                    ignore=shutil.ignore_patterns("__pycache__"))
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


def tool(root, *args, env=None):
    return subprocess.run([sys.executable, str(root / "shared" / "labtool.py"), *args],
                          capture_output=True, text=True, cwd=root, timeout=300, env=env)


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


def table_rows(stdout, header):
    """The rows of the table whose header line starts with `header`, split on runs of spaces."""
    lines = stdout.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.strip() or line.startswith("steps") or line.startswith("environments"):
            break
        rows.append([c for c in line.split("  ") if c.strip()])
    return rows


def seconds(cell):
    value, unit = cell.strip().rsplit(" ", 1)
    assert unit == "s", cell
    return float(value)


def test_test_path_passes_and_fails(fake):
    proc = tool(fake, "test-path", "demo")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed, 0 failed" in proc.stdout
    (fake / "labs" / "demo" / "step02" / "calc.py").write_text(CALC_2.replace("a * b", "a + b"))
    proc = tool(fake, "test-path", "demo")
    assert proc.returncode != 0
    assert "2 passed, 1 failed" in proc.stdout and "FAILED" in proc.stdout
    # The timing tables come after a failure too.
    assert "slowest 3 steps" in proc.stdout and "all paths" in proc.stdout


SLOW_TEST = "import time, calc\n\n\ndef test_add():\n    time.sleep(1.5)\n    assert calc.add(2, 3) == 5\n"


def test_jobs_test_steps_side_by_side_and_keep_each_output_apart(fake):
    for n in (1, 2, 3):
        (fake / "labs" / "demo" / f"step0{n}" / "tests" / "test_calc.py").write_text(SLOW_TEST)
    (fake / "labs" / "demo" / "step02" / "calc.py").write_text(CALC_1.replace("a + b", "a - b"))
    proc = tool(fake, "test-path", "demo", "--jobs", "3")
    assert proc.returncode != 0
    assert "2 passed, 1 failed" in proc.stdout and "(3 steps side by side)" in proc.stdout
    wall = float(proc.stdout.split("wall time of the tests: ")[1].split(" s")[0])
    per_path = {r[0].strip(): r[1:] for r in table_rows(proc.stdout, "path ")}
    assert wall < seconds(per_path["demo"][1]) - 1.5  # three 1.5 s sleeps overlapped, not one after another
    # The failing step's whole output is shown (its assertion), the passing ones as one line each.
    assert "assert -1 == 5" in proc.stdout and proc.stdout.count("1 passed") == 2
    # Results stay in step order whatever order they finished in.
    assert [r[0].strip() for r in table_rows(proc.stdout, "step ")] == [f"demo step0{n}" for n in (1, 2, 3)]


def test_a_step_without_tests_fails_when_tested_beside_others(fake):
    shutil.rmtree(fake / "labs" / "demo" / "step02" / "tests")
    proc = tool(fake, "test-path", "demo", "--jobs", "2")
    assert proc.returncode != 0 and "Traceback" not in proc.stdout + proc.stderr
    assert "has no tests/ folder" in proc.stderr and "2 passed, 1 failed" in proc.stdout


def test_an_alone_step_runs_with_nothing_beside_it(fake):
    for n in (1, 2, 3):
        d = fake / "labs" / "demo" / f"step0{n}"
        (d / "tests" / "test_calc.py").write_text(SLOW_TEST)
        with open(d / "step.toml", "a") as f:
            f.write("alone = true\n")
    proc = tool(fake, "test-path", "demo", "--jobs", "3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wall = float(proc.stdout.split("wall time of the tests: ")[1].split(" s")[0])
    assert wall >= 3 * 1.5  # one after another


def test_test_path_ends_with_the_time_per_step_and_per_path(fake):
    proc = tool(fake, "test-path", "demo")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = table_rows(proc.stdout, "step ")
    assert [r[:2] for r in results] == [[f"demo step0{n}", "passed"] for n in (1, 2, 3)]
    times = {r[0].strip(): seconds(r[2]) for r in results}
    slowest = table_rows(proc.stdout, "slowest 3 steps")
    assert [seconds(r[1]) for r in slowest] == sorted(times.values(), reverse=True)
    per_path = {r[0].strip(): r[1:] for r in table_rows(proc.stdout, "path ")}
    assert per_path["demo"][0].strip() == "3" and per_path["all paths"][0].strip() == "3"
    assert seconds(per_path["demo"][1]) == pytest.approx(sum(times.values()), abs=0.15)  # rounded to 0.1 s
    assert proc.stdout.rstrip().splitlines()[-1].startswith("environments:")


ENV_PROBE = """import json, os

import torch


def test_record_the_cpu_path():
    keys = ["ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
            "TORCHINDUCTOR_CACHE_DIR"]
    record = {k: os.environ.get(k) for k in keys}
    record["capability"] = torch.backends.cpu.get_cpu_capability()
    record["threads"] = torch.get_num_threads()
    with open(os.environ["ENV_LOG"], "a") as f:
        f.write(json.dumps(record) + "\\n")
"""
FORCED = ["ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
          "TORCHINDUCTOR_CACHE_DIR"]


def test_cpu_paths_reach_the_step_and_each_has_its_own_inductor_cache(fake, tmp_path):
    (fake / "labs" / "demo" / "step01" / "tests" / "test_env.py").write_text(ENV_PROBE)
    log = tmp_path / "env.jsonl"
    env = {k: v for k, v in os.environ.items() if k not in FORCED} | {"ENV_LOG": str(log)}
    proc = tool(fake, "test-step", "demo", "1", "--cpu-paths", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = dict(zip(["default", "scalar-1t", "avx2-2t"], map(json.loads, log.read_text().splitlines())))
    forced = {
        "default": [None, None, None, None],
        "scalar-1t": ["default", None, "1", "1"],
        "avx2-2t": ["avx2", "AVX2", "2", "2"],
    }
    for name, record in records.items():
        assert [record[k] for k in FORCED[:4]] == forced[name], name
        assert record["TORCHINDUCTOR_CACHE_DIR"] == str(fake / ".nox" / "cache" / f"inductor-{name}")
    # torch itself runs on the forced code path.
    assert (records["scalar-1t"]["capability"], records["scalar-1t"]["threads"]) == ("DEFAULT", 1)
    assert records["avx2-2t"]["threads"] == 2
    if "avx2" in Path("/proc/cpuinfo").read_text():
        assert records["avx2-2t"]["capability"] == "AVX2"
    header = next(l for l in proc.stdout.splitlines() if l.startswith("step "))
    assert header.split() == ["step", "default", "scalar-1t", "avx2-2t"]
    for name in ("default", "scalar-1t", "avx2-2t"):
        assert f"steps on {name}: 1 passed, 0 failed" in proc.stdout


def test_pytest_options_pass_through_beside_cpu_path(fake):
    proc = tool(fake, "test-path", "demo", "--cpu-path", "scalar-1t", "-k", "add")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # pytest would reject --cpu-path
    assert proc.stdout.count("1 passed, 1 deselected") == 2
    assert "steps on scalar-1t: 3 passed, 0 failed" in proc.stdout
    assert "default" not in table_rows(proc.stdout, "path ")[0]


def test_bad_cpu_path_is_refused_before_running(fake):
    proc = tool(fake, "test-path", "demo", "--cpu-path", "fast")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "invalid choice: 'fast'" in proc.stderr and "testing" not in proc.stdout


def test_split_test_args_for_nox(labtool):
    every = ["--cpu-path=default", "--cpu-path=scalar-1t", "--cpu-path=avx2-2t"]
    assert labtool.split_test_args(["-x", "--cpu-paths", "-k", "foo"]) == (every, ["-x", "-k", "foo"])
    assert labtool.split_test_args(["--cpu-path=avx2-2t"]) == (["--cpu-path=avx2-2t"], [])
    assert labtool.split_test_args([]) == (["--cpu-path=default"], [])
    assert labtool.split_test_args(["--jobs", "1", "-x"]) == (["--cpu-path=default", "--jobs=1"], ["-x"])
    for bad in (["--cpu-path", "fast"], ["--cpu-path"], ["--cpu-paths", "--cpu-path", "default"]):
        with pytest.raises(labtool.LabError, match="--cpu-path"):
            labtool.split_test_args(bad)
    with pytest.raises(labtool.LabError, match="--jobs"):
        labtool.split_test_args(["--jobs", "0"])


def test_parts_table_has_a_grand_total(labtool):
    table = labtool.parts_table([("repo tests", 50.0, True), ("lab steps", 600.0, False)])
    rows = [l.split("  ") for l in table.splitlines()[2:]]
    assert [r[0] for r in rows] == ["repo tests", "lab steps", "total"]
    assert "FAILED" in table.splitlines()[3] and table.splitlines()[-1].endswith("10 min 50 s")


def set_gpu(fake, n, gpu, bench=None):
    f = fake / "labs" / "demo" / f"step{n:02d}" / "step.toml"
    text = f.read_text().replace('gpu = "none"', f'gpu = "{gpu}"')
    f.write_text(text + (f"gpu_bench = {bench}\n" if bench is not None else ""))


def test_gpu_bench_is_validated(fake):
    set_gpu(fake, 1, "optional", bench="3")
    assert "'gpu_bench' must be a str" in one_error_line(tool(fake, "run", "demo", "1"))
    set_gpu(fake, 2, "optional", bench='"python bench.py \\"unclosed"')
    assert "'gpu_bench' is not a valid command" in one_error_line(tool(fake, "run", "demo", "2"))
    set_gpu(fake, 3, "none", bench='"python bench.py --json"')
    assert "'gpu_bench'" in one_error_line(tool(fake, "run", "demo", "3"))


def test_gpu_bench_command_replaces_the_default(fake, labtool):
    set_gpu(fake, 1, "optional", bench='"python bench.py --json --device cuda"')
    set_gpu(fake, 2, "optional")
    (fake / "labs" / "demo" / "step02" / "bench.py").write_text("print('bench')\n")
    set_gpu(fake, 3, "optional")
    repo = labtool.Repo(fake)
    argv = lambda n: labtool.gpu_bench_argv(repo.step("demo", n), "/gpu/python")
    assert argv(1) == ["/gpu/python", "bench.py", "--json", "--device", "cuda"]
    assert argv(2) == ["/gpu/python", "bench.py", "--json"]  # the default, where bench.py exists
    assert argv(3) is None  # no benchmark
    (fake / "labs" / "demo" / "step02" / "step.toml").write_text(
        (fake / "labs" / "demo" / "step02" / "step.toml").read_text().replace('"optional"', '"none"'))
    assert argv(2) is None  # CPU-only steps are not benchmarked on the GPU


def test_gpu_without_cuda_is_one_line(fake):
    line = one_error_line(tool(fake, "gpu"))
    assert "no CUDA GPU" in line


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


def test_tooling_is_standard_library_only():
    """nox loads it before any environment exists."""
    for f in [ROOT / "shared" / "labtool.py", *(ROOT / "shared" / "tooling").glob("*.py")]:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top == "tooling", f"{f.name} imports {name}"


def test_installed_name_is_the_same_api(labtool):
    """docs/site reads the labs through `dlc_shared.labtool`, the installed name of the same code."""
    import dlc_shared.labtool as installed
    for name in ("Repo", "LabError", "diff_dirs", "main", "readme_table"):
        assert getattr(installed, name).__qualname__ == getattr(labtool, name).__qualname__
    assert installed.Repo(ROOT).lab_ids() == labtool.Repo(ROOT).lab_ids()
