"""Communication of one training step per rank, from the formulas (the run prints them beside the measured log)."""
from __future__ import annotations

from collections import Counter

from model import Config

FP32 = 4


def ring_bytes_sent(kind: str, nbytes: int, p: int) -> float:
    """Bytes one rank sends in a ring collective on a tensor of nbytes (the full tensor, on p ranks)."""
    if p == 1:
        return 0.0
    factor = {"all_reduce": 2 * (p - 1) / p, "all_gather": (p - 1) / p, "reduce_scatter": (p - 1) / p,
              "all_to_all": (p - 1) / p}[kind]
    return factor * nbytes


def tp_step_collectives(cfg: Config, local_batch: int, tp: int) -> Counter:
    """(group, collective, bytes) -> count for one forward + backward with TP (no sequence parallelism).

    Activations (b, T, D) all-reduced: the embedding (1), each layer's attention and MLP output (2L);
    backward: each sublayer's input and the lm_head input (2L + 1). The loss: 3 all-reduces of
    one number per token (max, sum of exp, target logit).
    """
    if tp == 1:
        return Counter()
    act = local_batch * cfg.block_size * cfg.n_embd * FP32
    tokens = local_batch * cfg.block_size * FP32
    return Counter({("tp", "all_reduce", act): 4 * cfg.n_layer + 2, ("tp", "all_reduce", tokens): 3})


def dp_step_collectives(param_numels: list[int], dp: int) -> Counter:
    """One all-reduce per gradient tensor over the data-parallel group."""
    return Counter() if dp == 1 else Counter(("dp", "all_reduce", n * FP32) for n in param_numels)


def sp_step_collectives(cfg: Config, local_batch: int, tp: int) -> Counter:
    """Like tp_step_collectives with sequence parallelism: every all-reduce of an activation becomes an
    all-gather (entering a TP region) or a reduce-scatter (leaving it), and backward swaps the two.

    Forward: all-gather before each sublayer and the lm_head (2L + 1), reduce-scatter after the
    embedding and each sublayer (2L + 1); backward the same counts the other way round. The norm
    weights' gradients (2L + 1 vectors of D) are all-reduced over TP.
    """
    if tp == 1:
        return Counter()
    act = local_batch * cfg.block_size * cfg.n_embd * FP32
    tokens = local_batch * cfg.block_size * FP32
    return Counter({("tp", "all_gather", act): 4 * cfg.n_layer + 2, ("tp", "reduce_scatter", act): 4 * cfg.n_layer + 2,
                    ("tp", "all_reduce", tokens): 3, ("tp", "all_reduce", cfg.n_embd * FP32): 2 * cfg.n_layer + 1})
