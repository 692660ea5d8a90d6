"""FSDP2 (fully_shard) on 2 and 4 gloo ranks: equal to one process, sharded like our ZeRO-3."""
import pytest
import torch

from dlc_shared.testing import assert_close
from fsdp import train_fsdp
from launch import launch
from reference import flat, single_process, single_process_mixed
from train import TrainConfig, make_model
from zero import Zero, shard_size

CFG = TrainConfig()
PSI = 32_928
N_TOKENS = CFG.batch_size * CFG.block_size
N_TENSORS = 20  # parameter tensors of the model (the tied embedding once)


def fsdp_and_zero3(rank, world_size, cfg, mixed):
    zero3 = Zero(make_model(cfg), 3, rank, world_size, cfg, torch.float32)
    return {"fp32": train_fsdp(rank, world_size, cfg),
            "mixed": train_fsdp(rank, world_size, cfg, mixed=True) if mixed else None,
            "zero3_param_bytes": zero3.param_shard.nbytes}


@pytest.fixture(scope="module")
def runs():  # FSDP2 costs CPU time per step: the bf16 policy runs on 2 ranks only
    return {2: launch(fsdp_and_zero3, 2, CFG, True), 4: launch(fsdp_and_zero3, 4, CFG, False)}


@pytest.mark.parametrize("k", [2, 4])
def test_fsdp_equals_one_process(runs, k):
    ref = single_process(CFG)
    assert ref["losses"][-1] < ref["losses"][0] - 0.2
    for r in runs[k]:
        # the bounds of step 2: B*T positions per loss and per weight gradient, `steps` chained updates
        assert_close(torch.tensor(r["fp32"]["losses"]), torch.tensor(ref["losses"]), torch.float32,
                     terms=N_TOKENS, depth=CFG.steps)
        assert_close(flat(r["fp32"]["grads"]), flat(ref["grads"]), torch.float32, terms=N_TOKENS, depth=5)


def test_fsdp_mixed_precision_equals_one_process_in_bf16(runs):
    ref = single_process_mixed(CFG)
    for r in runs[2]:
        # as for our ZeRO in bf16: bf16 forward and backward, a 2-term sum, chained over the steps
        assert_close(torch.tensor(r["mixed"]["losses"]), torch.tensor(ref["losses"]), torch.bfloat16,
                     terms=2, depth=CFG.steps)


@pytest.mark.parametrize("k", [2, 4])
def test_weights_are_sharded_like_zero3(runs, k):
    model = make_model(CFG)
    for rank, r in enumerate(runs[k]):
        # each parameter's rows split as torch.chunk splits them
        for name, p in model.named_parameters():
            rows = torch.chunk(torch.arange(p.shape[0]), k)
            expected = (len(rows[rank]) if rank < len(rows) else 0, *p.shape[1:])
            assert r["fp32"]["local_shapes"][name] == expected
        # with every first dimension divisible by k, each rank holds exactly 1/k of the fp32 weights:
        # the bytes of our ZeRO-3 fp32 shard (no padding: k divides Psi)
        assert r["fp32"]["held"]["params"] == 4 * PSI // k == r["zero3_param_bytes"] == 4 * shard_size(PSI, k)


@pytest.mark.parametrize("k", [2, 4])
def test_model_state_is_16_bytes_per_parameter_over_k(runs, k):
    for r in runs[k]:
        for run in (r["fp32"], r["mixed"]) if k == 2 else (r["fp32"],):  # bf16 policy: the fp32 shard is the master
            held = run["held"]
            assert held["params"] == held["grads"] == 4 * PSI // k
            assert held["optimizer"] == 8 * PSI // k + 4 * N_TENSORS  # m, v sharded; step counters not
