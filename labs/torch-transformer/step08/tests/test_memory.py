"""A checkpoint that allows 40,960 positions (Qwen3) loads without memory that grows with positions squared."""
import copy
import subprocess
import sys

import torch

from compare_hf import tiny_hf_model
from hf import config_from_hf
from model import LanguageModel

POSITIONS = 40960     # Qwen3's max_position_embeddings: one bool mask of POSITIONS^2 is 1.6 GB


def test_no_buffer_grows_with_positions_squared():
    hf_model = tiny_hf_model("qwen3", seed=3)
    config = copy.deepcopy(hf_model.config)
    config.max_position_embeddings = POSITIONS
    with torch.device("meta"):       # shapes only: nothing is allocated, whatever the model would hold
        model = LanguageModel(config_from_hf(config, hf_model.state_dict()))
    assert model.cfg.block_size == POSITIONS                 # max_model_len defaults to the checkpoint's
    assert max(b.numel() for b in model.buffers()) < POSITIONS ** 2 / 1000
    # max_model_len (as in vLLM) bounds the position tables to what will be served.
    with torch.device("meta"):
        short = LanguageModel(config_from_hf(config, hf_model.state_dict(), max_model_len=256))
    assert short.cfg.block_size == 256 and short.layers[0].attention.cos.shape[0] == 256


SCRIPT = """
import resource, torch
from model import Config, LanguageModel
torch.manual_seed(0)
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024      # bytes (Linux reports KiB)
before = peak()
model = LanguageModel(Config(vocab_size=256, block_size={positions}, n_embd=64, n_head=4, n_kv_head=2,
                             n_layer=2, head_dim=32, qk_norm=True)).eval()
with torch.no_grad():
    model(torch.randint(256, (2, 16)))
    model.generate(torch.randint(256, (1, 8)), 8, temperature=0)
print(peak() - before)
"""


def test_a_short_forward_on_a_40960_position_model_stays_small():
    # Peak RSS in a fresh process: a (block_size, block_size) mask per layer would add 2 x 1.6 GB here.
    proc = subprocess.run([sys.executable, "-c", SCRIPT.format(positions=POSITIONS)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    grown = int(proc.stdout.split()[-1])
    # What it needs: RoPE tables 2 layers x (cos, sin) x 40960 x 32 x 4 B = 21 MB, small weights and activations.
    assert grown < POSITIONS ** 2 / 4, f"peak RSS grew by {grown / 2**20:.0f} MiB"
