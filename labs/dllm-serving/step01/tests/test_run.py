import subprocess
import sys


def test_bad_arguments_get_one_clear_message():
    for bad in (["--problems", "0"],):          # one launch: argparse rejects unknown flags the same way
        r = subprocess.run([sys.executable, "run.py", *bad], capture_output=True, text=True, timeout=60)
        assert r.returncode != 0 and "error:" in r.stderr and "Traceback" not in r.stderr
