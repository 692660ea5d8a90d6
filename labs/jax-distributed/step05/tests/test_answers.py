"""Checks the numbers in this step's README worked answers (풀이) with the step's own code."""


def test_answer_shard_map_collective_counts(smap):
    from parallel import collectives
    # one all_gather and one psum_scatter per weight (21); the loss psum and the clipping norm's
    # sum are combined into one all-reduce by this CPU compiler
    assert collectives(smap[2]) == {"all-reduce": 1, "all-gather": 21, "reduce-scatter": 21, "all-to-all": 0,
                                    "collective-permute": 0}


def test_answer_gathered_weights_bytes():
    assert 354_624 * 4 == 1_418_496
    assert 1_418_496 // 8 == 177_312
