"""Save a sharded state on one mesh, restore it on another, and keep training as if on one device."""
import jax
import numpy as np
import pytest

from checkpoint import restore, save
from parallel import fsdp, make_mesh


def test_restore_into_a_wrong_shape_fails(cfg, optimizer, state0, tmp_path):
    mesh8 = make_mesh((8,), ("data",))
    params = state0["params"]
    save(tmp_path / "p", params)
    wrong = {**params, "embed": jax.ShapeDtypeStruct((cfg.vocab_size * 2, cfg.d_model), np.float32)}
    with pytest.raises(Exception, match="(?i)shape"):
        restore(tmp_path / "p", wrong, fsdp(mesh8, wrong))
