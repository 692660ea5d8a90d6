"""Pipeline schedules as lists of ops per stage, and a simulator that turns them into a timeline.

An op is ("F", i) or ("B", i): the forward or backward of micro-batch i on one stage. In the
simulator every op takes one time unit (tf = tb = 1; in practice a backward costs about 2 forwards,
which scales both schedules' timelines alike). F(s, i) waits for F(s-1, i); B(s, i) for B(s+1, i),
and on the last stage for its own F(s, i).
"""
from __future__ import annotations

from fractions import Fraction


def afab(p: int, m: int, stage: int) -> list[tuple[str, int]]:
    """All forwards, then all backwards (GPipe): every micro-batch's activations are alive at once."""
    return [("F", i) for i in range(m)] + [("B", i) for i in range(m)]


def one_f_one_b(p: int, m: int, stage: int) -> list[tuple[str, int]]:
    """1F1B (PipeDream-Flush): p - stage - 1 warm-up forwards, then alternate F and B, then drain the Bs."""
    warmup = min(p - stage - 1, m)
    ops = [("F", i) for i in range(warmup)]
    for i in range(m - warmup):
        ops += [("F", warmup + i), ("B", i)]
    return ops + [("B", i) for i in range(m - warmup, m)]


SCHEDULES = {"afab": afab, "1f1b": one_f_one_b}


def simulate(schedule, p: int, m: int) -> dict:
    """{(stage, op, i): start time} when each stage runs its ops in order, each as soon as its input is there."""
    ops = [schedule(p, m, s) for s in range(p)]
    start, done = {}, {}
    pos, free = [0] * p, [0] * p
    while any(pos[s] < len(ops[s]) for s in range(p)):
        progressed = False
        for s in range(p):
            if pos[s] == len(ops[s]):
                continue
            kind, i = ops[s][pos[s]]
            dep = (s - 1, "F", i) if kind == "F" else ((s, "F", i) if s == p - 1 else (s + 1, "B", i))
            if kind == "F" and s == 0:
                ready = 0
            elif dep in done:
                ready = done[dep]
            else:
                continue
            start[(s, kind, i)] = t = max(free[s], ready)
            done[(s, kind, i)] = free[s] = t + 1
            pos[s] += 1
            progressed = True
        if not progressed:
            raise RuntimeError("the schedule deadlocks: every stage waits for another")
    return start


def bubble(timeline: dict, p: int) -> tuple[Fraction, Fraction]:
    """(idle / total, idle / busy) over all stages, from a simulated timeline."""
    total = max(timeline.values()) + 1
    busy = len(timeline)
    idle = p * total - busy
    return Fraction(idle, p * total), Fraction(idle, busy)


def peak_in_flight(ops: list[tuple[str, int]]) -> int:
    """Most micro-batches whose forward ran but whose backward has not: activations a stage must keep."""
    alive = peak = 0
    for kind, _ in ops:
        alive += 1 if kind == "F" else -1
        peak = max(peak, alive)
    return peak


def render(timeline: dict, p: int) -> str:
    """One line per stage, one cell per time unit: F3 = forward of micro-batch 3, '..' = idle (the bubble)."""
    total = max(timeline.values()) + 1
    rows = [["  .."] * total for _ in range(p)]
    for (s, kind, i), t in timeline.items():
        rows[s][t] = f"{kind}{i:>3}" if i >= 10 else f"  {kind}{i}"
    return "\n".join(f"stage {s} |" + "".join(r) for s, r in enumerate(rows))
