import mesh as mesh_module  # noqa: F401  (sets XLA_FLAGS first)

import jax
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

from mesh import make_mesh
from notation import copies, device_slices, local_shape, parse, shard, to_notation


@pytest.fixture(scope="module")
def mesh():
    return make_mesh((4, 2), ("X", "Y"))


def test_eight_devices_and_a_named_mesh(mesh):
    assert len(jax.devices()) == 8
    assert dict(mesh.shape) == {"X": 4, "Y": 2}
    assert [d.id for d in mesh.devices.flat] == list(range(8))  # row-major: Y is the minor axis


@pytest.mark.parametrize("text,spec", [
    ("A[I, J]", P(None, None)),
    ("A[I_X, J]", P("X", None)),
    ("A[I_X, J_Y]", P("X", "Y")),
    ("A[I_XY, J]", P(("X", "Y"), None)),
    ("B[J, K_YX]", P(None, ("Y", "X"))),
])
def test_notation_maps_to_a_partition_spec_and_back(mesh, text, spec):
    name, dims, got = parse(text, mesh)
    assert got == spec
    assert to_notation(name, dims, got) == text


@pytest.mark.parametrize("bad", ["A[I_X, J_X]", "A[I_Z, J]", "A I J", "A[]", "A[I-X, J]"])
def test_bad_notation_is_refused_with_a_reason(mesh, bad):
    with pytest.raises(ValueError, match="A"):
        parse(bad, mesh)


@pytest.mark.parametrize("text,local,n_copies", [
    ("A[I, J]", (8, 16), 8), ("A[I_X, J]", (2, 16), 2), ("A[I_X, J_Y]", (2, 8), 1),
    ("A[I_XY, J]", (1, 16), 1), ("A[I_Y, J_X]", (4, 4), 1), ("A[I, J_Y]", (8, 8), 4),
])
def test_each_device_holds_the_block_the_notation_says(mesh, text, local, n_copies):
    x = np.arange(8 * 16, dtype=np.float32).reshape(8, 16)
    a = shard(x, text, mesh)
    spec = parse(text, mesh)[2]
    assert local_shape(x.shape, spec, mesh) == local
    assert copies(spec, mesh, 2) == n_copies
    ours = device_slices(x.shape, spec, mesh)
    assert len(a.addressable_shards) == 8
    for s in a.addressable_shards:
        assert s.data.shape == local
        # JAX's placement equals the one we derive from the mesh coordinates
        assert [sl.indices(n) for sl, n in zip(s.index, x.shape)] == [sl.indices(n) for sl, n in zip(ours[s.device.id], x.shape)]
        np.testing.assert_array_equal(np.asarray(s.data), x[s.index])
    # every element sits on exactly `copies` devices
    count = np.zeros(x.shape, int)
    for sl in ours.values():
        count[sl] += 1
    assert (count == n_copies).all()


def test_uneven_splits_and_wrong_ranks_are_refused(mesh):
    with pytest.raises(ValueError, match="split evenly"):
        shard(np.zeros((6, 16), np.float32), "A[I_X, J]", mesh)
    with pytest.raises(ValueError, match="dimensions"):
        shard(np.zeros((8,), np.float32), "A[I_X, J]", mesh)
    with pytest.raises(ValueError, match="16 devices"):
        make_mesh((4, 4), ("X", "Y"))


def test_visualize_array_sharding_draws_the_devices(mesh, capsys):
    jax.debug.visualize_array_sharding(shard(np.zeros((8, 16), np.float32), "A[I_X, J_Y]", mesh))
    out = capsys.readouterr().out
    assert all(f"CPU {i}" in out for i in range(8))
