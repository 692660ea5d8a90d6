"""jit + NamedSharding data parallelism: the single-device step, compiled for a split batch."""
from parallel import collectives


def test_collectives_counts_hlo_ops():
    class Fake:
        def as_text(self):
            return ("%a = f32[4] all-reduce(f32[4] %x), replica_groups={}\n"
                    "%b = f32[8] all-gather-start(f32[1] %y)\n%c = f32[2] add(%a, %a)\n")
    assert collectives(Fake()) == {"all-reduce": 1, "all-gather": 1, "reduce-scatter": 0, "all-to-all": 0,
                                   "collective-permute": 0}
