"""A short-trained model for the tests (trained once, cached like the lab's model)."""
import pytest

from train import trained_model


@pytest.fixture(scope="session")
def trained():
    return trained_model(steps=40, log=lambda *_: None)
