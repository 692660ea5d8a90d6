"""The numbers in this step's README answers (풀이), computed with the step's own code."""
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from dlc_shared.testing import assert_close
from config import Config
from embedding import Embedding

B, T = 2, 8  # run.py's default batch and sequence length


# ---- step 1 -------------------------------------------------------------------------------------
def test_answer_one_hot_matmul_costs_2btvd_flops():
    """Q1: the lookup multiplies nothing; the same rows picked by a one-hot (B, T, V) @ (V, D) matmul cost 2·B·T·V·D."""
    cfg = Config()
    emb = Embedding(cfg)
    ids = torch.randint(0, cfg.vocab_size, (B, T), generator=torch.Generator().manual_seed(0))
    with torch.no_grad(), FlopCounterMode(display=False) as lookup:
        emb.tok(ids)
    with torch.no_grad(), FlopCounterMode(display=False) as matmul:
        F.one_hot(ids, cfg.vocab_size).float() @ emb.tok.weight
    assert lookup.get_total_flops() == 0
    assert matmul.get_total_flops() == 2 * B * T * cfg.vocab_size * cfg.dim == 1_048_576


def test_answer_same_token_differs_by_the_position_rows():
    """Q3: (E[t] + P[0]) - (E[t] + P[1]) = P[0] - P[1]: the token row cancels."""
    cfg = Config()
    emb = Embedding(cfg)
    with torch.no_grad():
        x = emb(torch.tensor([[7, 7]]))
        pos = emb.pos.weight
        # two float32 additions and one subtraction, each rounding at the size of E[t] + P[m]
        assert_close(x[0, 0] - x[0, 1], pos[0] - pos[1], torch.float32, terms=1, depth=3,
                     scale=x.abs().max().item())
