"""run.py's command line: bad input gets one clear error line and a non-zero exit, never a traceback;
a tiny run prints tables whose numbers are checked against counts worked out here by hand."""
import re
import subprocess
import sys

import pytest

import run

B, SIZES = 2, [3, 4, 5]  # the tiny MLP of the smoke run
N_PARAMS = sum(n_in * n_out + n_out for n_in, n_out in zip(SIZES[:-1], SIZES[1:]))  # 3*4+4 + 4*5+5 = 41


@pytest.mark.parametrize("args", [["--batch", "0"], ["--sizes", "10"], ["--sizes", "10,x"], ["--nope"]])
def test_bad_arguments_fail_cleanly(args, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["run.py", *args])
    with pytest.raises(SystemExit) as exit_info:
        run.main()
    assert exit_info.value.code != 0
    err = capsys.readouterr().err
    assert "error:" in err and len(err.strip().splitlines()[-1]) < 200


@pytest.fixture(scope="module")
def out():
    proc = subprocess.run([sys.executable, "run.py", "--batch", str(B), "--sizes", ",".join(map(str, SIZES))], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def table(out: str, section: int, which: int = 0) -> list[list[str]]:
    """The rows of the `which`-th table printed under "[section]", as cells (columns are 2+ spaces apart)."""
    lines = out.split(f"[{section}]", 1)[1].split("\n[", 1)[0].splitlines()
    rules = [i for i, line in enumerate(lines) if re.fullmatch(r"-+( +-+)*", line)]  # under each header
    start = rules[which] + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip() or i + 1 in rules), len(lines))
    return [re.split(r"\s{2,}", row.strip()) for row in lines[start:end]]


def num(cell: str) -> float:
    return float(cell.replace(",", "").rstrip("%"))


def test_run_prints_every_section(out):
    assert all(f"[{section}]" in out for section in range(1, 2))


def test_forward_flops_by_hand(out):
    rows = table(out, 1)
    layers = list(zip(SIZES[:-1], SIZES[1:]))
    for (n_in, n_out), row in zip(layers, rows):
        assert row[1:] == [f"({B} x {n_in}) @ ({n_in} x {n_out})", f"({B}, {n_out})", f"{2 * B * n_in * n_out:,}"]
    total = sum(2 * B * n_in * n_out for n_in, n_out in layers)  # 2*2*3*4 + 2*2*4*5 = 48 + 80
    assert rows[len(layers)] == ["sum", f"{total:,}"]
    # by the formula and by FlopCounterMode (a bare "128" would also match D=128)
    assert f"counted {total:,} FLOPs (formula {total:,})" in out
