"""ZeRO-1/2/3 by hand on 2 and 4 gloo ranks: bytes per rank equal to the paper's formulas,
training equal to one process (fp32 exactly to rounding, bf16 mixed precision to bf16 rounding)."""
import pytest
import torch

from dlc_shared.testing import assert_close
from launch import launch
from reference import flat, single_process, single_process_mixed
from train import TrainConfig
from zero import Zero, shard_size, train_zero, zero_bytes

CFG = TrainConfig()
PSI = 32_928
N_TOKENS = CFG.batch_size * CFG.block_size


class NoGather(Zero):  # a plausible bug: the updated shards are never all-gathered (stages 1, 2)
    def step(self):
        keep = self.flat_param.clone()
        super().step()
        mine = slice(self.rank * self.S, (self.rank + 1) * self.S)
        keep[mine] = self.flat_param[mine]  # only this rank's own slice moves
        self.flat_param.copy_(keep)


def every_stage(rank, world_size, cfg, mutants):
    # 2 ranks: every stage in both dtypes; 4 ranks: the bytes of every stage (bf16, one step) and fp32 stage 3
    one_step = TrainConfig(steps=1)
    out = {(stage, dtype): train_zero(rank, world_size, cfg if mutants or dtype == torch.float32 else one_step,
                                      stage, dtype)
           for stage in (1, 2, 3) for dtype in (torch.float32, torch.bfloat16)
           if mutants or dtype == torch.bfloat16 or stage == 3}
    if mutants:
        out["no_gather"] = train_zero(rank, world_size, cfg, 1, torch.float32, zero_class=NoGather)
    return out


@pytest.fixture(scope="module")
def runs():
    return {2: launch(every_stage, 2, CFG, True), 4: launch(every_stage, 4, CFG, False)}


@pytest.fixture(scope="module")
def reference():
    return single_process(CFG)


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("stage, formula", [(1, lambda k: 4 * PSI + 12 * PSI // k),
                                            (2, lambda k: 2 * PSI + 14 * PSI // k),
                                            (3, lambda k: 16 * PSI // k)])
def test_bytes_per_rank_are_the_paper_formulas(runs, k, stage, formula):
    assert PSI % k == 0  # 32,928 = 2^5 * 3 * 7^3: no padding for k = 2, 3, 4
    for rank in runs[k]:
        r = rank[(stage, torch.bfloat16)]
        assert r["numel"] == PSI
        assert set(r["held_bytes"]) == {formula(k)}  # the same at every step, on every rank
        assert formula(k) == zero_bytes(PSI, k, stage)


def test_plain_dp_would_hold_16_bytes_per_parameter(runs):
    # k = 1 is plain DP in mixed precision: every formula gives 16 Psi
    assert {zero_bytes(PSI, 1, s) for s in (1, 2, 3)} == {16 * PSI}
    assert runs[4][0][(3, torch.bfloat16)]["held_bytes"][0] * 4 == 16 * PSI


def test_padding_when_k_does_not_divide():
    assert shard_size(PSI, 5) == 6_586  # 5 * 6,586 = 32,930: two zeros of padding
    assert zero_bytes(PSI, 5, 3) == 16 * 6_586
    assert zero_bytes(PSI, 5, 1) == 4 * 32_930 + 12 * 6_586


@pytest.mark.parametrize("k, stage", [(2, 1), (2, 2), (2, 3), (4, 3)])
def test_fp32_zero_equals_one_process(runs, reference, k, stage):
    ref_grad = flat(reference["grads"])
    assert reference["losses"][-1] < reference["losses"][0] - 0.2
    ranks = [r[(stage, torch.float32)] for r in runs[k]]
    for r in ranks:
        # the bounds of step 2: B*T positions per loss and per weight gradient, `steps` chained updates
        assert_close(torch.tensor(r["losses"]), torch.tensor(reference["losses"]), torch.float32,
                     terms=N_TOKENS, depth=CFG.steps)
    # the shards of the first step's mean gradient, laid end to end, are the whole gradient
    grad = torch.cat([r["grad_shard"] for r in ranks])
    assert torch.all(grad[PSI:] == 0)  # the padding (none here)
    assert_close(grad[:PSI], ref_grad, torch.float32, terms=N_TOKENS, depth=5)


@pytest.fixture(scope="module")
def reference_mixed():
    return single_process_mixed(CFG)


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_bf16_zero_equals_one_process_in_mixed_precision(runs, reference_mixed, stage):
    ref = reference_mixed
    for r in runs[2]:
        # bf16 weights and gradients: the losses differ by bf16 rounding of the forward pass and of
        # the k-term gradient sum, chained over the optimizer steps.
        assert_close(torch.tensor(r[(stage, torch.bfloat16)]["losses"]), torch.tensor(ref["losses"]),
                     torch.bfloat16, terms=2, depth=CFG.steps)


def test_the_three_stages_agree_in_fp32(runs):
    # Same shards, same Adam arithmetic: the three stages differ only in which collective moved the sums.
    a = [r[(1, torch.float32)]["master"] for r in runs[2]]
    for stage in (2, 3):
        b = [r[(stage, torch.float32)]["master"] for r in runs[2]]
        assert_close(torch.cat(b), torch.cat(a), torch.float32, terms=2, depth=CFG.steps)


def test_a_missing_all_gather_is_caught(runs, reference):
    r = runs[2][0]["no_gather"]
    with pytest.raises(AssertionError):
        assert_close(torch.tensor(r["losses"]), torch.tensor(reference["losses"]), torch.float32,
                     terms=N_TOKENS, depth=CFG.steps)
