"""Timing JAX code: a call returns when the work is queued, not when it is done.

JAX dispatches asynchronously: `f(x)` hands the compiled program to the runtime and
returns an array whose value is still being computed. A timer stopped right after the
call measures dispatch (Python, argument checks, enqueueing). To measure execution,
wait for the result with `jax.block_until_ready` before stopping the timer.
"""
from __future__ import annotations

import time

import jax


def time_calls(fn, args, n: int, block: bool) -> list[float]:
    """Seconds for each of n calls fn(*args); with block=True each call's result is awaited inside its timing."""
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn(*args)
        if block:
            jax.block_until_ready(out)
        samples.append(time.perf_counter() - t0)
        jax.block_until_ready(out)  # outside the timing: the next call starts on an idle device
    return samples


def time_steps(step, state, batch, n: int) -> dict:
    """n chained train steps (each takes the state the last one returned), timed two ways in one run.

    dispatch: the loop alone, without waiting; the device keeps working after it ends.
    drain: the wait for the last step's results after that loop.
    blocked: the same n steps again, each awaited before the next starts.
    """
    t0 = time.perf_counter()
    for _ in range(n):
        *state, loss = step(*state, *batch)
    t1 = time.perf_counter()
    jax.block_until_ready((state, loss))
    t2 = time.perf_counter()
    blocked = []
    for _ in range(n):
        s0 = time.perf_counter()
        *state, loss = step(*state, *batch)
        jax.block_until_ready((state, loss))
        blocked.append(time.perf_counter() - s0)
    return {"dispatch_loop_seconds": t1 - t0, "drain_seconds": t2 - t1, "blocked_step_seconds": blocked,
            "state": state, "loss": loss}
