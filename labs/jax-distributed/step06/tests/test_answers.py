"""Checks the numbers in this step's README worked answers (풀이) with the step's own code."""
import jax
import jax.numpy as jnp


def test_answer_device0_slices_before_and_after():
    from parallel import fsdp, make_mesh, tensor_parallel
    wq = {"layers": [{"wq": jax.ShapeDtypeStruct((64, 64), jnp.float32)}]}
    before = fsdp(make_mesh((8,), ("data",)), wq)["layers"][0]["wq"]
    after = tensor_parallel(make_mesh((4, 2), ("data", "model")), wq)["layers"][0]["wq"]
    dev0 = jax.devices()[0]
    rows_b, cols_b = before.devices_indices_map((64, 64))[dev0]
    rows_a, cols_a = after.devices_indices_map((64, 64))[dev0]
    cells = lambda r, c: {(i, j) for i in range(*r.indices(64)[:2]) for j in range(*c.indices(64)[:2])}
    old, new = cells(rows_b, cols_b), cells(rows_a, cols_a)
    assert len(old) == 8 * 64 == 512 and len(new) == 64 * 32 == 2048
    assert len(old & new) == 8 * 32 == 256
