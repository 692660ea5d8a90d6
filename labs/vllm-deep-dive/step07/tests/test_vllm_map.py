"""Every row of the map names something that exists on both sides: in this step and in the installed vLLM."""
import pytest

from vllm_map import COUNTERPARTS, resolve
from vllm_server import vllm_installed


@pytest.mark.parametrize("component,ours,module,name", COUNTERPARTS, ids=[row[1] for row in COUNTERPARTS])
def test_both_sides_exist(component, ours, module, name):
    ours_module, ours_name = ours.split(".", 1)
    assert resolve(ours_module, ours_name)
    if not vllm_installed():
        pytest.skip("vLLM is not installed in this environment")
    assert resolve(module, name), f"{module}.{name} is gone from vLLM: update the map"


def test_every_component_is_mapped():
    assert {row[0] for row in COUNTERPARTS} == {"messages", "API server", "IPC", "engine core", "executor", "worker"}
