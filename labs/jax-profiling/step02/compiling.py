"""Compile time apart from run time, and what makes jit compile again.

`jax.jit(f).lower(*args)` traces f with abstract values (shape, dtype, weak type) and
emits the program; `.compile()` hands it to XLA. Both happen once per distinct
signature: the cache key is the abstract value of every traced argument plus the
value of every static argument. A new shape, a new dtype, a Python scalar where an
array was (weak type), or a new static value traces and compiles again.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager

import jax

from timing import time_calls


def compile_and_run(jitted, args, n: int, **static) -> dict:
    """Seconds to trace+lower, to compile, and per awaited call of the compiled program.

    Static arguments go by keyword: they are baked into the program, so the compiled
    executable is called with the traced arguments only.
    """
    t0 = time.perf_counter()
    lowered = jitted.lower(*args, **static)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    t2 = time.perf_counter()
    run = time_calls(compiled, args, n, block=True)
    return {"lower_seconds": t1 - t0, "compile_seconds": t2 - t1, "run_seconds": run, "compiled": compiled}


class TraceCounter:
    """Wraps f so that each trace is counted: the Python body runs only when jit traces it."""

    def __init__(self, fn):
        self.fn, self.traces = fn, 0

    def __call__(self, *args, **kwargs):
        self.traces += 1  # a side effect: runs at trace time, never inside the compiled program
        return self.fn(*args, **kwargs)


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        message = record.getMessage()
        if message.startswith("TRACING CACHE MISS"):  # not the persistent compilation cache's notes
            self.messages.append(message)


@contextmanager
def explain_cache_misses():
    """Collect JAX's own explanation of every tracing cache miss inside the block (a list of strings)."""
    handler = _Collect()
    logger = logging.getLogger("jax")
    logger.addHandler(handler)
    with jax.explain_cache_misses(True):  # the jax_explain_cache_misses flag, set for this block only
        try:
            yield handler.messages
        finally:
            logger.removeHandler(handler)

