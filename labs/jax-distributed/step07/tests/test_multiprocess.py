"""Two OS processes, 4 CPU devices each, one 8-device mesh: training equals one device."""
import json
import time

import jax
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P
from dlc_shared.data import cache_dir

from launch import LaunchError, launch
from worker import TINY

from conftest import BATCH, N_STEPS, SEQ

# The workers compile the way this suite does (see conftest.py) and share its compile cache.
WORKER_ENV = {"XLA_FLAGS": "--xla_backend_optimization_level=0",
              "JAX_COMPILATION_CACHE_DIR": str(cache_dir() / "jax-compile"),
              "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"}


@pytest.fixture(scope="module")
def two_processes(cfg, data, tmp_path_factory):
    assert cfg == type(cfg)(**TINY)  # the workers build the same model
    tmp = tmp_path_factory.mktemp("mp")
    ids = np.random.default_rng(0).integers(0, cfg.vocab_size, 4000).astype(np.uint16)  # conftest's data
    np.save(tmp / "ids.npy", ids)
    args = ["--local-devices", "4", "--config", "tiny", "--ids", str(tmp / "ids.npy"), "--steps", str(N_STEPS),
            "--batch", str(BATCH), "--seq", str(SEQ), "--out", str(tmp)]
    launch(2, args, timeout=180, env=WORKER_ENV)
    reports = [json.loads((tmp / f"process{i}.json").read_text()) for i in range(2)]
    with np.load(tmp / "params.npz") as saved:
        params = {k: saved[k] for k in saved.files}
    return reports, params


def test_two_processes_form_one_mesh(two_processes):
    reports, _ = two_processes
    assert [r["process_index"] for r in reports] == [0, 1]
    for r in reports:
        assert r["process_count"] == 2 and r["device_count"] == 8
        assert len(r["local_device_ids"]) == 4
    assert len(set(reports[0]["local_device_ids"]) | set(reports[1]["local_device_ids"])) == 8  # no device shared


def test_each_process_holds_half_of_the_slices(two_processes, cfg):
    reports, _ = two_processes
    rows = []
    for r in reports:
        assert r["wq_spec"] == str(P("data")) and r["wq_fully_addressable"] is False
        assert [shape for _, shape, _ in r["wq_local_shards"]] == [[cfg.d_model // 8, cfg.d_model]] * 4
        assert {dev for dev, _, _ in r["wq_local_shards"]} == set(r["local_device_ids"])
        rows += [start for _, _, start in r["wq_local_shards"]]
    assert sorted(rows) == [i * cfg.d_model // 8 for i in range(8)]  # together: every slice once


def test_two_process_training_equals_one_device(two_processes, reference, same_training):
    reports, params = two_processes
    assert reports[0]["losses"] == reports[1]["losses"]  # one replicated loss, read in both processes
    ref_params = reference[0]["params"]
    names = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(ref_params)]
    assert sorted(names) == sorted(params)
    tree = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(ref_params), [params[n] for n in names])
    same_training(tree, reports[0]["losses"], ref_params, reference[1])


def test_a_bad_start_fails_fast_with_a_message(tmp_path):
    t0 = time.monotonic()
    with pytest.raises(LaunchError, match="does not split over 8 devices"):
        launch(2, ["--local-devices", "4", "--batch", "12", "--out", str(tmp_path)], timeout=60)
    assert time.monotonic() - t0 < 30  # it failed before JAX started, not at a timeout
