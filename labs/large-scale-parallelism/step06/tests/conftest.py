"""One torch thread in the test process and in every worker forked from it (two shared cores)."""
import torch

torch.set_num_threads(1)
