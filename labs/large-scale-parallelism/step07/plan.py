"""What one rank of a 4D grid holds: its parameters by formula, to print and check beside the measured count."""
from __future__ import annotations

from grid import Grid
from model import Config


def layer_params(cfg: Config, tp: int, ep: int) -> int:
    """One block on one rank: two norm vectors, attention split over tp, and the MLP or this rank's experts."""
    hd = cfg.head_dim
    attention = (2 * cfg.n_head * hd + 2 * cfg.n_kv_head * hd) * cfg.n_embd // tp     # wq, wo; wk, wv
    if cfg.n_expert:
        ffn = cfg.n_embd * cfg.n_expert + cfg.n_expert // ep * 3 * cfg.n_embd * cfg.ffn_dim   # router + experts
    else:
        ffn = 3 * cfg.n_embd * cfg.ffn_dim // tp
    return 2 * cfg.n_embd + attention + ffn


def rank_params(cfg: Config, grid: Grid, rank: int) -> int:
    """Numbers this rank stores: its stage's layers, the embedding on the first stage, norm + head on the last.

    dp and cp do not divide any weight (every dp/cp rank holds a copy), except the experts, split over dp.
    """
    pp = grid.coords(rank)["pp"]
    n = cfg.n_layer // grid.pp * layer_params(cfg, grid.tp, grid.dp)
    if pp == 0:
        n += cfg.vocab_size * cfg.n_embd // grid.tp
    if pp == grid.pp - 1:
        n += cfg.n_embd + cfg.vocab_size * cfg.n_embd // grid.tp
    return n
