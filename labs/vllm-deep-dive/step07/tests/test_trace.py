"""One request, traced hop by hop, through our server and through vLLM's: both pass the same stations in the
same order, and the engine core's hops run in another process than the API server's."""
import os

import pytest

import hops
from trace_request import roles, traced
from vllm_server import vllm_env, vllm_installed, vllm_server_argv

BODY = {"model": "tiny", "prompt": "w5 w17 w300", "max_tokens": 3, "temperature": 0, "ignore_eos": True}
STATIONS = ["API server", "API server -> ZMQ", "engine core", "scheduler", "executor", "worker", "ZMQ -> API server",
            "output processor", "detokenizer"]


def first_seen(trace) -> list[str]:
    order = []
    for _, label, _, _ in trace:
        if label not in order:
            order.append(label)
    return order


def check(trace):
    assert first_seen(trace) == STATIONS  # every station, first reached in this order
    pid = {label: p for p, label, _, _ in reversed(trace)}
    assert pid["API server"] == pid["detokenizer"] != pid["engine core"] == pid["scheduler"]  # two processes
    steps = [d for _, label, q, d in trace if label == "worker" and q.endswith("execute_model")]
    # One forward pass per token (a prefill of 3 tokens and two decodes of 1); vLLM adds a step without tokens
    # that only tells the worker which requests finished.
    assert [d for d in steps if d != "tokens=0"] == ["tokens=3", "tokens=1", "tokens=1"]


def test_our_request_path(model_dir):
    trace = traced("ours", ["api_server.py", "--model", str(model_dir)], dict(os.environ), BODY)
    check(trace)
    assert set(roles(trace).values()) == {"API server", "engine core"}  # the uni executor: worker in the core


@pytest.mark.skipif(not vllm_installed(), reason="vLLM is not installed in this environment")
def test_vllm_request_path_has_the_same_stations(model_dir):
    check(traced("vllm", vllm_server_argv(model_dir), vllm_env(), BODY))


def test_every_traced_method_exists_on_both_sides():
    from vllm_map import resolve
    for table in (hops.OURS, hops.VLLM):
        if table is hops.VLLM and not vllm_installed():
            continue
        for _, module, qualname, _ in table:
            assert resolve(module, qualname)
