"""jit + NamedSharding data parallelism: the single-device step, compiled for a split batch."""
import jax
from jax.sharding import PartitionSpec as P

from parallel import collectives

N = 8


def test_dp_losses_and_params_equal_one_device(dp, reference, same_training):
    state, losses, _, _ = dp
    same_training(state["params"], losses, reference[0]["params"], reference[1])


def test_batch_is_split_and_params_replicated(dp, data):
    state, _, _, put = dp
    x, _ = put(*data[0])
    assert x.sharding.spec == P("data")
    assert [s.data.shape for s in x.addressable_shards] == [(2, 8)] * N  # 16 rows: 2 per device
    assert len({s.device for s in x.addressable_shards}) == N
    for leaf in jax.tree_util.tree_leaves(state):
        assert leaf.sharding.spec == P()
        assert [s.data.shape for s in leaf.addressable_shards] == [leaf.shape] * N  # a full copy each


def test_compiler_inserted_the_gradient_all_reduce(dp):
    # Only the batch is split, so the only cross-device sum is the gradients' (and the loss's):
    # XLA combines them into one all-reduce. Without it every device would update with its own slice.
    ops = collectives(dp[2])
    assert ops["all-reduce"] >= 1
    assert ops["all-gather"] == ops["reduce-scatter"] == 0  # nothing is sharded that needs gathering


def test_collectives_counts_hlo_ops():
    class Fake:
        def as_text(self):
            return ("%a = f32[4] all-reduce(f32[4] %x), replica_groups={}\n"
                    "%b = f32[8] all-gather-start(f32[1] %y)\n%c = f32[2] add(%a, %a)\n")
    assert collectives(Fake()) == {"all-reduce": 1, "all-gather": 1, "reduce-scatter": 0, "all-to-all": 0,
                                   "collective-permute": 0}
