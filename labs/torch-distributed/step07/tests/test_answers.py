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


# step 3: collectives

def test_answer_gradient_all_reduce_bytes():
    """Q1: 4 x 84,128 = 336,512 gradient bytes; a rank sends 336,512 (k=2), 504,768 (k=4), 588,896 (k=8)."""
    from collectives import bytes_per_rank
    n = 4 * build(TrainConfig())[0].num_params()
    assert n == 336_512
    assert [bytes_per_rank("all_reduce", n, k) for k in (2, 4, 8)] == [336_512, 504_768, 588_896]
    assert 2 * n == 673_024  # the limit as k grows


def test_answer_reduce_scatter_plus_all_gather():
    """Q2: for n = 1,048,576 bytes and k = 4: 786,432 + 786,432 = 1,572,864 = the all-reduce's bytes."""
    from collectives import bytes_per_rank
    n, k = 1_048_576, 4
    assert bytes_per_rank("reduce_scatter", n, k) == bytes_per_rank("all_gather", n, k) == 786_432
    assert bytes_per_rank("all_reduce", n, k) == 1_572_864


# step 4: DDP

def test_answer_default_bucket_holds_the_whole_model():
    """Q1: 336,512 gradient bytes fit in one default 25 MiB bucket (26,214,400 bytes); with 0.025 MiB, 26,214."""
    n = 4 * build(TrainConfig())[0].num_params()
    assert n == 336_512 and 25 * 2**20 == 26_214_400 and n < 25 * 2**20
    assert int(0.025 * 2**20) == 26_214


def test_answer_llama_8b_all_reduce_bytes():
    """Q2: 8e9 bf16 gradients = 16e9 bytes; on 8 ranks each sends 2 x 7/8 x 16e9 = 28e9 bytes per step."""
    from collectives import bytes_per_rank
    assert bytes_per_rank("all_reduce", 16 * 10**9, 8) == 28 * 10**9


def test_answer_no_sync_saves_communication():
    """Q3: 4 micro-batches with no_sync on the first 3: one all-reduce per step instead of 4 (336,512 vs 1,346,048 bytes)."""
    n = 4 * build(TrainConfig())[0].num_params()
    assert (n, 4 * n) == (336_512, 1_346_048)


# step 5: DistributedSampler and checkpoints

def test_answer_steps_per_epoch_and_resume_position():
    """Q1, Q2: 34,117 windows; 17,058 per rank of 2; 4,264 steps per epoch either way; step 5,000 is epoch 1, batch 735."""
    from torch.utils.data import DistributedSampler

    from data import Windows, load_split
    windows = Windows(load_split("train", 2048), 32)
    assert len(windows) == (1_091_772 - 1) // 32 == 34_117
    per_rank = len(DistributedSampler(windows, num_replicas=2, rank=0, drop_last=True))
    assert per_rank == 17_058 and per_rank // 4 == 34_117 // 8 == 4_264
    assert divmod(5_000 - 1, 4_264) == (1, 735)


# step 6: FSDP2

def test_answer_bytes_per_rank_with_fsdp():
    """Q1: every dim 0 is even, so each of 2 ranks holds 42,064 parameters: 673,024 bytes of the 1,346,048."""
    import torch
    model, _ = build(TrainConfig())
    assert all(p.shape[0] % 2 == 0 for p in model.parameters())
    per_rank = sum(torch.chunk(p.detach(), 2)[0].numel() for p in model.parameters())
    assert per_rank == 42_064 and 16 * per_rank == 673_024 == 1_346_048 // 2


def test_answer_zero3_for_8b():
    """Q2: 16 bytes x 8e9 parameters = 128e9 bytes; over 8 ranks 16e9 bytes each; over 64 ranks 2e9."""
    assert 16 * 8 * 10**9 == 128 * 10**9
    assert 128 * 10**9 // 8 == 16 * 10**9 and 128 * 10**9 // 64 == 2 * 10**9


def test_answer_fsdp_sends_more_than_ddp():
    """Q3: k = 2: all-gathers 168,256 (forward) + 37,120 (blocks, backward), reduce-scatter 168,256 = 373,632 vs 336,512."""
    from collectives import bytes_per_rank
    model, _ = build(TrainConfig())
    n = 4 * model.num_params()
    blocks = 4 * sum(p.numel() for layer in model.layers for p in layer.parameters())
    forward, backward = bytes_per_rank("all_gather", n, 2), bytes_per_rank("all_gather", blocks, 2)
    scatter = bytes_per_rank("reduce_scatter", n, 2)
    assert (forward, backward, scatter) == (168_256, 37_120, 168_256)
    assert forward + backward + scatter == 373_632 and bytes_per_rank("all_reduce", n, 2) == 336_512


# step 7: communication profiling

def test_answer_collective_calls_per_step():
    """Q1: per step 2 x 2 + 1 = 5 all-gathers (4,640 and 32,784 elements in) and 3 reduce-scatters (9,280, 9,280, 65,568)."""
    model, _ = build(TrainConfig())
    block = sum(p.numel() for p in model.layers[0].parameters())
    root = model.num_params() - 2 * block
    assert (block, root, block // 2, root // 2) == (9_280, 65_568, 4_640, 32_784)
    assert 2 * 2 + 1 == 5


def test_answer_gloo_reduce_scatter_costs_an_all_reduce():
    """Q2: the root's gradients, 262,272 bytes: a ring reduce-scatter sends 131,136 per rank, gloo's all-reduce 262,272."""
    from collectives import bytes_per_rank
    n = 65_568 * 4
    assert n == 262_272
    assert (bytes_per_rank("reduce_scatter", n, 2), bytes_per_rank("all_reduce", n, 2)) == (131_136, 262_272)
