"""README: the paths table matches the catalog and the labs; .ci/run runs the README's test command."""
import re

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_paths_table_is_in_sync(labtool, repo):
    start = README.index("\n", README.index("<!-- paths-table")) + 1
    table = README[start:README.index("<!-- /paths-table -->")].strip()
    assert table == labtool.readme_table(repo).strip(), \
        "README's table is stale: run `python3 shared/labtool.py readme-table --write`"
    assert len([l for l in table.splitlines() if l.startswith("| ") and "---" not in l]) == 27


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    test_cmd = [l for b in blocks for l in b.splitlines() if l.endswith("nox -s test")]
    assert len(test_cmd) == 1
    for part in test_cmd[0].split("&&"):
        words = part.split()
        assert " ".join(words[:3]) in ci, f".ci/run must run what the README says: {part.strip()}"
    assert ci.strip().splitlines()[-1].strip() == "nox -s test"
