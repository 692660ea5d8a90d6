"""The numbers in the README's worked answers (풀이), computed with this step's code."""
from train import TrainConfig, build


# step 1: the baseline

def test_answer_parameter_count_and_bytes():
    """Q1: 84,128 parameters: embedding 65,536 + 2 layers x 9,280 + final norm 32; 16 bytes each = 1,346,048."""
    model, _ = build(TrainConfig())
    per_layer = sum(p.numel() for p in model.layers[0].parameters())
    assert model.embed_tokens.weight.numel() == 2048 * 32 == 65_536
    assert per_layer == 32 * 32 + 32 * 16 + 32 * 16 + 32 * 32 + 3 * 32 * 64 + 2 * 32 == 9_280
    assert model.num_params() == 65_536 + 2 * 9_280 + 32 == 84_128
    assert 16 * model.num_params() == 1_346_048


def test_answer_unequal_shards():
    """Q2: 8 rows over 3 ranks as 3, 3, 2: the plain mean of the three means weights the last row 1/6, not 1/8."""
    rows = [3, 3, 2]
    weight_of_a_row_in_the_short_rank = 1 / 3 / rows[2]
    assert weight_of_a_row_in_the_short_rank == 1 / 6 and sum(rows) == 8


# step 2: torchrun and process groups

def test_answer_global_rank_from_node_and_local_rank():
    """Q2: 2 nodes x 4 processes: node 1's LOCAL_RANK 2 is RANK 1 x 4 + 2 = 6; WORLD_SIZE 8."""
    nnodes, nproc = 2, 4
    ranks = {(node, local): node * nproc + local for node in range(nnodes) for local in range(nproc)}
    assert ranks[(1, 2)] == 6 and sorted(ranks.values()) == list(range(8))
