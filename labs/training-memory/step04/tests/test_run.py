"""run.py's command line: bad input gets one clear error line and a non-zero exit, never a traceback;
a tiny run prints tables whose numbers are checked against counts worked out here by hand."""
import re
import subprocess
import sys

import pytest

from dlc_shared.testing import tolerance
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
    assert all(f"[{section}]" in out for section in range(1, 5))


def test_forward_flops_by_hand(out):
    rows = table(out, 1)
    layers = list(zip(SIZES[:-1], SIZES[1:]))
    for (n_in, n_out), row in zip(layers, rows):
        assert row[1:] == [f"({B} x {n_in}) @ ({n_in} x {n_out})", f"({B}, {n_out})", f"{2 * B * n_in * n_out:,}"]
    total = sum(2 * B * n_in * n_out for n_in, n_out in layers)  # 2*2*3*4 + 2*2*4*5 = 48 + 80
    assert rows[len(layers)] == ["sum", f"{total:,}"]
    # by the formula and by FlopCounterMode (a bare "128" would also match D=128)
    assert f"counted {total:,} FLOPs (formula {total:,})" in out


def test_backward_against_autograd_and_its_flops_by_hand(out):
    grads, flops = table(out, 2, 0), table(out, 2, 1)
    assert len(grads) == len(SIZES) - 1
    for (n_in, n_out), (_, shape, max_dw, diff) in zip(zip(SIZES[:-1], SIZES[1:]), grads):
        assert shape == f"({n_in}, {n_out})"
        # float64 both ways: sums over the B rows, chained back through the layers
        assert num(diff) <= tolerance("float64", num(max_dw), terms=B, depth=len(SIZES) - 1)
    forward = sum(2 * B * n_in * n_out for n_in, n_out in zip(SIZES[:-1], SIZES[1:]))
    backward = 2 * forward - 2 * B * SIZES[0] * SIZES[1]  # dW and dh per layer; layer 1 needs no dh
    assert flops[1] == ["backward", f"{backward:,}", f"{backward:,}", f"{backward:,}"]


def test_activation_bytes_by_hand(out):
    rows = table(out, 3)
    assert sorted(int(r[0]) for r in rows) == sorted({1, 16, B})
    for batch, saved, formula, diff, hand, params in rows:
        inputs = 4 * int(batch) * sum(SIZES[:-1])  # every layer's input, float32
        assert (num(saved), num(formula), diff) == (inputs, inputs, "+0.0%")
        assert num(hand) == 4 * int(batch) * (sum(SIZES[:-1]) + sum(SIZES[1:]))  # the hand cache keeps z too
        assert num(params) == 4 * N_PARAMS


def test_optimizer_bytes_by_hand(out):
    assert f"({N_PARAMS:,} parameters, B={B})" in out
    rows = {r[0]: r for r in table(out, 4)}
    tensors = 2 * (len(SIZES) - 1)  # a weight and a bias per layer
    for name, (weights, grads, state) in {"sgd": (4, 4, 0), "momentum": (4, 4, 4), "adam": (4, 4, 8),
                                          "mixed-adam": (2, 2, 12)}.items():
        counters = 4 * tensors if "adam" in name else 0  # Adam's 4-byte step count per tensor
        assert [num(c) for c in rows[name][2:5]] == [weights * N_PARAMS, grads * N_PARAMS,
                                                     state * N_PARAMS + counters]
    assert 2 * num(rows["mixed-adam"][8]) == num(rows["adam"][8])  # bf16 activations: half of float32
