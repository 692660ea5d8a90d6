"""A short-trained model for the tests (trained once, cached like the lab's model).

Without a GPU, Triton kernels run in Triton's interpreter: TRITON_INTERPRET must be set
before anything imports triton, so it is set here, before the test modules load.
"""
import os

import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

from train import trained_model  # noqa: E402


@pytest.fixture(scope="session")
def trained():
    return trained_model(steps=40, log=lambda *_: None)
