"""Checkpoints of sharded state with Orbax: save from one layout, restore into another.

Every process writes the slices its devices hold; the checkpoint records each array's
global shape and dtype, not the layout it was saved from. Restoring takes a target
(shape, dtype, sharding for every leaf) and reads, for each device, just the slice that
device will hold in the new layout.
"""
from __future__ import annotations

from pathlib import Path

import jax
import orbax.checkpoint as ocp


def save(path, state) -> None:
    """Write the state pytree (sharded or not) to the directory `path`, which must not exist yet."""
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(Path(path).absolute(), state)
    checkpointer.wait_until_finished()  # saving runs in the background; a checkpoint counts once it is committed
    checkpointer.close()


def restore(path, like, shardings):
    """Read the checkpoint into the structure of `like`, each leaf placed by `shardings`."""
    target = jax.tree_util.tree_map(lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s), like, shardings)
    checkpointer = ocp.StandardCheckpointer()
    try:
        return checkpointer.restore(Path(path).absolute(), target)
    finally:
        checkpointer.close()
