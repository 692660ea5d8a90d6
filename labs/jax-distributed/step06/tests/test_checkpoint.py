"""Save a sharded state on one mesh, restore it on another, and keep training as if on one device."""
import jax
import numpy as np
import pytest
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from checkpoint import restore, save
from parallel import fsdp, make_mesh, make_sharded_train_step, tensor_parallel
from train import train


def layout(cfg, optimizer, state0, mesh, shardings):
    batch = NamedSharding(mesh, P("data"))
    step = make_sharded_train_step(optimizer, cfg, shardings, batch)
    return step, lambda x, y: (jax.device_put(x, batch), jax.device_put(y, batch))


def test_fsdp_checkpoint_resumes_on_a_2d_mesh(cfg, optimizer, state0, data, reference, same_training, tmp_path):
    # Steps 0-1 with FSDP on a 1 x 8 mesh, then save.
    mesh8 = make_mesh((8,), ("data",))
    fsdp_sh = fsdp(mesh8, state0)
    step, put = layout(cfg, optimizer, state0, mesh8, fsdp_sh)
    first, first_losses = train(jax.device_put(state0, fsdp_sh), step, data[:2], put=put)
    save(tmp_path / "ckpt", first)

    # Restore onto a 4 x 2 data x model mesh with the tensor-parallel layout, then step 2.
    mesh2d = make_mesh((4, 2), ("data", "model"))
    tp_sh = tensor_parallel(mesh2d, state0)
    restored = restore(tmp_path / "ckpt", state0, tp_sh)
    for a, b, s in zip(jax.tree_util.tree_leaves(restored), jax.tree_util.tree_leaves(first),
                       jax.tree_util.tree_leaves(tp_sh)):
        assert a.sharding == s  # placed by the new layout, not the saved one
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # the same numbers, bit for bit
    wq = restored["params"]["layers"][0]["wq"]
    assert wq.sharding.spec == P(None, "model")
    assert {s.data.shape for s in wq.addressable_shards} == {(cfg.d_model, cfg.d_model // 2)}

    step, put = layout(cfg, optimizer, state0, mesh2d, tp_sh)
    final, rest_losses = train(restored, step, data[2:], put=put)
    same_training(final["params"], first_losses + rest_losses, reference[0]["params"], reference[1])


def test_restore_into_a_wrong_shape_fails(cfg, optimizer, state0, tmp_path):
    mesh8 = make_mesh((8,), ("data",))
    params = state0["params"]
    save(tmp_path / "p", params)
    wrong = {**params, "embed": jax.ShapeDtypeStruct((cfg.vocab_size * 2, cfg.d_model), np.float32)}
    with pytest.raises(Exception, match="(?i)shape"):
        restore(tmp_path / "p", wrong, fsdp(mesh8, wrong))
