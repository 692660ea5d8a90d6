"""Shared test setup: one torch thread.

The tests use tiny tensors: with two threads, keeping them in step costs more than the work
they share (on this project's shared two-core machine the suites ran about 3x slower).
"""
import torch

torch.set_num_threads(1)
