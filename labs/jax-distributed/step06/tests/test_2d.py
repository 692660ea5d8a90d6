"""A 4 x 2 data x model mesh: batch over "data", attention and MLP weights over "model"."""
import jax
import pytest
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from parallel import collectives, make_mesh, make_sharded_train_step, tensor_parallel
from train import train


@pytest.fixture(scope="module")
def run(cfg, optimizer, state0, data):
    mesh = make_mesh((4, 2), ("data", "model"))
    shardings, batch = tensor_parallel(mesh, state0), NamedSharding(mesh, P("data"))
    step = make_sharded_train_step(optimizer, cfg, shardings, batch)
    compiled = step.lower(state0["params"], state0["opt_state"], *data[0]).compile()
    state, losses = train(jax.device_put(state0, shardings), compiled, data,
                          put=lambda x, y: (jax.device_put(x, batch), jax.device_put(y, batch)))
    return state, losses, compiled, mesh


def test_2d_losses_and_params_equal_one_device(run, reference, same_training):
    state, losses, _, _ = run
    same_training(state["params"], losses, reference[0]["params"], reference[1])


def test_attention_and_mlp_weights_are_split_over_model(run, cfg):
    state, _, _, mesh = run
    d, hd, f = cfg.d_model, cfg.head_dim, cfg.d_ff
    expect = {  # name: (spec, shape on one device)
        "wq": (P(None, "model"), (d, cfg.n_heads * hd // 2)),  # 2 of the 4 query heads
        "wk": (P(None, "model"), (d, cfg.n_kv_heads * hd // 2)),  # 1 of the 2 key/value heads
        "wv": (P(None, "model"), (d, cfg.n_kv_heads * hd // 2)),
        "wo": (P("model", None), (cfg.n_heads * hd // 2, d)),
        "w_gate": (P(None, "model"), (d, f // 2)), "w_up": (P(None, "model"), (d, f // 2)),
        "w_down": (P("model", None), (f // 2, d)),
        "attn_norm": (P(), (d,)), "mlp_norm": (P(), (d,)),
    }
    for tree in [state["params"]["layers"][0], state["opt_state"][1][0].mu["layers"][1]]:  # params and Adam's m
        for name, (spec, shard) in expect.items():
            leaf = tree[name]
            assert leaf.sharding.spec == spec, name
            assert {s.data.shape for s in leaf.addressable_shards} == {shard}, name
    # The two devices of a "model" group hold different halves; the 4 "data" groups hold the same ones.
    wq = state["params"]["layers"][0]["wq"]
    col = {s.device: s.index[1].start for s in wq.addressable_shards}
    for row in mesh.devices:
        assert [col[dev] for dev in row] == [0, cfg.n_heads * hd // 2]
    for name in ["embed", "lm_head", "final_norm"]:
        assert state["params"][name].sharding.spec == P()


def test_batch_is_split_over_data_only(run, data):
    _, _, _, mesh = run
    x = jax.device_put(data[0][0], NamedSharding(mesh, P("data")))
    assert {s.data.shape for s in x.addressable_shards} == {(4, 8)}  # 16 rows over 4 data groups
    rows = {s.device: s.index[0].start for s in x.addressable_shards}
    for row in mesh.devices:  # both devices of a model group read the same rows
        assert len({rows[dev] for dev in row}) == 1


def test_row_parallel_outputs_are_all_reduced(run):
    ops = collectives(run[2])
    assert ops["all-reduce"] >= 1
