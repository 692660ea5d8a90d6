"""The tests use tiny tensors: one thread is faster than waking a thread pool for each op."""
import torch

torch.set_num_threads(1)
