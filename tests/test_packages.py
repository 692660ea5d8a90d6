"""Our import packages must not shadow a package our dependencies import (transformers imports `kernels`)."""
import importlib.util
import subprocess
import sys

from conftest import ROOT


def test_import_names_are_prefixed_and_installed(tmp_path):
    for name, folder in (("dlc_shared", "shared"), ("dlc_kernels", "kernels")):
        spec = importlib.util.find_spec(name)
        assert spec is not None, f"{name} is not installed in this environment"
        assert spec.origin.startswith(str(ROOT / folder)), spec.origin
    # Installed, the names `kernels` and `shared` stay free for PyPI packages of those names
    # (checked from outside the repo, where the cwd does not put our folders on sys.path).
    code = ("import importlib.util as u\n"
            "for n in ('kernels', 'shared'):\n"
            "    s = u.find_spec(n)\n"
            "    print(n, None if s is None else s.origin)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True).stdout
    assert str(ROOT) not in out, out


def test_transformers_runs_beside_our_packages():
    code = (
        "import dlc_shared, dlc_kernels, torch, transformers\n"
        "from transformers import LlamaConfig, LlamaForCausalLM\n"
        "torch.manual_seed(0)\n"
        "cfg = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,\n"
        "                  num_attention_heads=2, num_key_value_heads=1, initializer_range=0.2)\n"
        "out = LlamaForCausalLM(cfg).eval().generate(torch.tensor([[1, 2, 3]]), max_new_tokens=5, do_sample=False)\n"
        "print(out.shape[1])\n"
    )
    # From the repo root, where a top-level kernels/ folder sits on sys.path.
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "8"


def test_every_subpackage_is_listed_for_a_wheel():
    """An editable install finds subpackages by path; a built wheel holds only what pyproject lists."""
    import tomllib
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    names = {folder: name for name, folder in setup["package-dir"].items()}
    found = {".".join([names[init.relative_to(ROOT).parts[0]], *init.relative_to(ROOT).parts[1:-1]])
             for folder in names for init in (ROOT / folder).rglob("__init__.py")
             if "tests" not in init.relative_to(ROOT).parts}
    assert found == set(setup["packages"])
