"""Test-session setting: the tests use tiny shapes, which one thread runs as fast as two,
and on a busy machine threads that wait on each other make them many times slower."""
import torch

torch.set_num_threads(1)
