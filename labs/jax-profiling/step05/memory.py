"""What a compiled program holds in memory, before and after donation and remat.

`compiled.memory_analysis()` reports, for one call, the bytes of the arguments, of the
outputs, of the outputs that alias (reuse) argument buffers, and of the temporaries
XLA allocates in between (activations kept for the backward pass live here). Peak
memory of a call is about arguments + outputs - aliased + temporaries.
"""
from __future__ import annotations

import jax


def memory(compiled) -> dict:
    m = compiled.memory_analysis()
    out = {"argument": m.argument_size_in_bytes, "output": m.output_size_in_bytes,
           "alias": m.alias_size_in_bytes, "temp": m.temp_size_in_bytes}
    out["peak"] = out["argument"] + out["output"] - out["alias"] + out["temp"]
    return out


def tree_bytes(tree) -> int:
    return sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree_util.tree_leaves(tree))
