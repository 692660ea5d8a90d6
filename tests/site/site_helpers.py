"""Paths and the build command shared by the site tests (a module with a unique name, so it
cannot collide with another conftest on sys.path)."""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "docs" / "site" / "build.py"
# The tree whose site is tested: this repository, or another checkout/copy given by DLC_SITE_ROOT.
ROOT = Path(os.environ.get("DLC_SITE_ROOT", REPO)).resolve()
OUT = ROOT / "docs" / "_build"
SCREENSHOTS = OUT / "screenshots"   # test artifacts; docs/_build is git-ignored
CHROMIUM = os.environ.get("DLC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def run_build(root: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD), "--root", str(root), "--out", str(out)],
                          capture_output=True, text=True)
