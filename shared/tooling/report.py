"""Tables the tooling prints: the paths (list, README), test results, and where the time went."""
from __future__ import annotations

from .catalog import Repo


def format_table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    fmt = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def fmt_seconds(s: float) -> str:
    if s < 100:
        return f"{s:.1f} s"
    t = round(s)
    return f"{t // 60} min {t % 60:02d} s"


# ---- paths ---------------------------------------------------------------
def path_summary(repo: Repo, pid: str) -> dict:
    """Steps, environments, GPU need and status of one path (what `list` and the README show)."""
    if not repo.has_lab(pid):
        return {"steps": "-", "env": "-", "gpu": "-", "status": "planned"}
    steps = repo.steps(pid)
    gpus = [s.meta["gpu"] for s in steps]
    gpu = "required" if "required" in gpus else "optional" if "optional" in gpus else "none"
    return {"steps": str(len(steps)), "env": ",".join(sorted({s.meta["env"] for s in steps})),
            "gpu": gpu, "status": "ready"}


def readme_table(repo: Repo) -> str:
    """The Markdown table of paths in README.md (a test keeps them in sync)."""
    lines = ["| path | title | steps | env | GPU | status |", "| --- | --- | --- | --- | --- | --- |"]
    for pid, p in repo.paths.items():
        s = path_summary(repo, pid)
        name = f"[{pid}](labs/{pid})" if s["status"] == "ready" else pid
        lines.append(f"| {name} | {p['title']} | {s['steps']} | {s['env']} | {s['gpu']} | {s['status']} |")
    return "\n".join(lines)


def list_table(repo: Repo) -> str:
    rows = []
    for pid, p in repo.paths.items():
        s = path_summary(repo, pid)
        rows.append([pid, s["steps"], s["env"], s["gpu"], s["status"], p["title"]])
    ready = sum(1 for r in rows if r[4] == "ready")
    return (format_table(rows, ["path", "steps", "env", "gpu", "status", "title"])
            + f"\n{len(rows)} paths, {ready} with labs")


# ---- test runs (a commands.Suite) ----------------------------------------
def _by_cpu_path(suite) -> bool:
    """Whether the tables name the CPU path (only when other than today's default was asked for)."""
    return suite.cpu_paths != ["default"]


def suite_summary(suite, top: int = 10) -> str:
    """Each step's result per CPU path, then the slowest steps, the time per path and in all."""
    if len({r.step.name for r in suite.runs}) == 1:
        return results_table(suite)
    return "\n\n".join([results_table(suite), slowest_table(suite, top), per_path_table(suite)])


def results_table(suite) -> str:
    if not _by_cpu_path(suite):
        rows = [[r.step.name, r.result, fmt_seconds(r.seconds)] for r in suite.runs]
        table = format_table(rows, ["step", "result", "time"])
    else:  # one column per CPU path; "-" where a run did not happen (interrupted)
        cells = {(r.step.name, r.cpu_path): f"{r.result} {fmt_seconds(r.seconds)}" for r in suite.runs}
        names = list(dict.fromkeys(r.step.name for r in suite.runs))
        rows = [[n, *(cells.get((n, p), "-") for p in suite.cpu_paths)] for n in names]
        table = format_table(rows, ["step", *suite.cpu_paths])
    lines = [table]
    for p in suite.cpu_paths:
        runs = [r for r in suite.runs if r.cpu_path == p]
        failed = sum(1 for r in runs if r.rc not in (0, 5))
        on = f" on {p}" if _by_cpu_path(suite) else ""
        lines.append(f"steps{on}: {len(runs) - failed} passed, {failed} failed")
    return "\n".join(lines)


def slowest_table(suite, top: int = 10) -> str:
    runs = sorted(suite.runs, key=lambda r: -r.seconds)[:top]
    several = _by_cpu_path(suite)
    rows = [[r.step.name, *([r.cpu_path] if several else []), fmt_seconds(r.seconds)] for r in runs]
    return format_table(rows, [f"slowest {len(runs)} steps", *(["cpu path"] if several else []), "time"])


def per_path_table(suite) -> str:
    paths = list(dict.fromkeys(r.step.path_id for r in suite.runs))
    several = _by_cpu_path(suite)

    def row(name, runs):
        steps = len({r.step.name for r in runs})
        by_path = [sum(r.seconds for r in runs if r.cpu_path == p) for p in suite.cpu_paths]
        total = [sum(by_path)] if len(suite.cpu_paths) > 1 else []
        return [name, str(steps), *(fmt_seconds(t) for t in by_path + total)]

    rows = [row(pid, [r for r in suite.runs if r.step.path_id == pid]) for pid in paths]
    rows.append(row("all paths", suite.runs))
    header = ["path", "steps", *(suite.cpu_paths if several else ["time"]),
              *(["total"] if len(suite.cpu_paths) > 1 else [])]
    side = f" ({suite.jobs} steps side by side)" if suite.jobs > 1 else ""
    return (format_table(rows, header)
            + f"\nwall time of the tests: {fmt_seconds(suite.wall_seconds)}{side}"
            + f"\nenvironments: {fmt_seconds(suite.env_seconds)} before the first step")


def parts_table(parts: list[tuple[str, float, bool]]) -> str:
    """`nox -s test`'s parts: (name, seconds, passed), and the grand total."""
    rows = [[name, "passed" if ok else "FAILED", fmt_seconds(s)] for name, s, ok in parts]
    rows.append(["total", "", fmt_seconds(sum(s for _, s, _ in parts))])
    return format_table(rows, ["part", "result", "time"])
