"""Shared test setup: one torch thread, and Triton's interpreter where there is no GPU.

The tests use tiny tensors: with two threads, keeping them in step costs more than the work
they share. TRITON_INTERPRET must be set before anything imports triton.
"""
import os

import torch

torch.set_num_threads(1)
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
