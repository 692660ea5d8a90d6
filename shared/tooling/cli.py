"""The command line: argparse over the other modules; a LabError is one line on stderr and exit 2."""
from __future__ import annotations

import argparse
import os
import sys

from . import commands, snapshots
from .catalog import LabError, Repo
from .environments import CPU_PATHS, ensure_env
from .report import format_table, list_table, readme_table, suite_summary

DESCRIPTION = "The lab tooling: reads paths.toml and labs/, runs, diffs, tests and carries fixes."
TEST_COMMANDS = ("test-step", "test-path", "test-labs")


def add_cpu_path_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--cpu-paths", action="store_true",
                   help=f"run the tests once per CPU code path ({', '.join(CPU_PATHS)})")
    g.add_argument("--cpu-path", action="append", choices=list(CPU_PATHS), metavar="NAME",
                   help="run them on this CPU code path (repeatable)")


def jobs(text: str) -> int:
    n = int(text) if text.isdigit() else 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"--jobs takes a whole number of at least 1, got '{text}'")
    return n


def add_jobs_option(p: argparse.ArgumentParser, default: int) -> None:
    p.add_argument("--jobs", type=jobs, default=default, metavar="N",
                   help=f"test N steps side by side, each still in its own process (default {default}); "
                        "a step whose step.toml says `alone = true` runs by itself")


def cpu_paths_of(opts) -> list[str]:
    return list(CPU_PATHS) if opts.cpu_paths else list(dict.fromkeys(opts.cpu_path or ["default"]))


def split_test_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """`nox -s test`'s arguments: (those for `test-labs`: CPU paths and --jobs, the rest, for pytest).

    Bad values: LabError."""
    p = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    add_cpu_path_options(p)
    p.add_argument("--jobs", type=jobs)
    try:
        opts, rest = p.parse_known_args(argv)
    except argparse.ArgumentError as e:
        raise LabError(str(e))
    labs = [f"--cpu-path={c}" for c in cpu_paths_of(opts)] + ([f"--jobs={opts.jobs}"] if opts.jobs else [])
    return labs, [a for a in rest if a != "--"]


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="labtool", description=DESCRIPTION,
                                 epilog="Options the test commands do not know are passed on to pytest.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="paths with their steps and status")
    s = sub.add_parser("readme-table", help="the paths table of README.md")
    s.add_argument("--write", action="store_true", help="update the table in README.md")
    s = sub.add_parser("gpu", help="every gpu-marked test and GPU benchmark (on a CUDA machine)")
    s.add_argument("--no-bench", action="store_true")
    for name in ("run", "bench"):
        s = sub.add_parser(name, help=f"step N's {'run command' if name == 'run' else 'bench.py'}")
        s.add_argument("path"); s.add_argument("step"); s.add_argument("extra", nargs=argparse.REMAINDER)
    s = sub.add_parser("diff", help="what step N adds over step N-1")
    s.add_argument("path"); s.add_argument("step"); s.add_argument("--stat", action="store_true")
    s = sub.add_parser("test-step", help="one step's tests in a fresh process")
    s.add_argument("path"); s.add_argument("step"); s.add_argument("--against", metavar="DIR")
    add_cpu_path_options(s)
    s = sub.add_parser("test-path", help="every step of one path, each in isolation, timed")
    s.add_argument("path")
    add_cpu_path_options(s)
    add_jobs_option(s, 1)
    s = sub.add_parser("test-labs", help="every step of every lab, timed")
    add_cpu_path_options(s)
    add_jobs_option(s, min(2, os.cpu_count() or 1))
    s = sub.add_parser("checkout", help="copy step N to DIR to work on")
    s.add_argument("path"); s.add_argument("step"); s.add_argument("dest")
    s = sub.add_parser("carry", help="apply step N's uncommitted change to every later step")
    s.add_argument("path"); s.add_argument("step")
    s = sub.add_parser("env", help="build an environment (once) and print its python")
    s.add_argument("name")
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = parser()
    if argv is None:
        argv = sys.argv[1:]
    try:
        args, unknown = ap.parse_known_args(argv)
        if unknown and args.cmd not in TEST_COMMANDS:
            ap.error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as e:
        return 2 if e.code else 0
    args.pytest_args = [a for a in unknown if a != "--"]
    try:
        return dispatch(Repo(), args)
    except LabError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def dispatch(repo: Repo, args) -> int:
    extra = [a for a in getattr(args, "extra", None) or [] if a != "--"]
    if args.cmd == "list":
        print(list_table(repo))
        return 0
    if args.cmd == "readme-table":
        if args.write:
            return write_readme_table(repo)
        print(readme_table(repo))
        return 0
    if args.cmd == "gpu":
        rows = commands.gpu_check(repo, bench=not args.no_bench)
        print("\n" + format_table(rows, ["step", "gpu", "gpu tests", "GPU bench"]))
        failed = [r for r in rows if "FAILED" in r]
        print(f"steps: {len(rows) - len(failed)} passed, {len(failed)} failed")
        return 1 if failed else 0
    if args.cmd == "run":
        return commands.run_step(repo, args.path, args.step, extra)
    if args.cmd == "bench":
        return commands.run_step(repo, args.path, args.step, extra, script="bench.py")
    if args.cmd == "diff":
        out = snapshots.diff(repo, args.path, args.step, stat=args.stat, color=sys.stdout.isatty())
        sys.stdout.write(out or "(no difference)\n")
        return 0
    if args.cmd in TEST_COMMANDS:
        return test(repo, args)
    if args.cmd == "checkout":
        return checkout(repo, args)
    if args.cmd == "carry":
        return carry(repo, args)
    if args.cmd == "env":
        print(ensure_env(repo, args.name))
        return 0
    raise LabError(f"unknown command {args.cmd}")


def test(repo: Repo, args) -> int:
    if args.cmd == "test-step":
        steps = [repo.step(args.path, args.step)]
    elif args.cmd == "test-path":
        steps = repo.steps(args.path)
    else:
        steps = [s for pid in repo.lab_ids() for s in repo.steps(pid)]
    suite = commands.Suite(cpu_paths_of(args), jobs=getattr(args, "jobs", 1))
    try:
        commands.test_steps(repo, steps, suite, against=getattr(args, "against", None),
                            pytest_args=args.pytest_args)
    finally:  # what ran, and how long it took, even after a failure or Ctrl-C
        if suite.runs and (len(steps) > 1 or suite.cpu_paths != ["default"]):
            print("\n" + suite_summary(suite))
    if any(r.rc == 5 for r in suite.runs) and len(steps) > 1:
        print("error: some steps collected no tests", file=sys.stderr)
        return 1
    return 1 if any(r.rc != 0 for r in suite.runs) else 0


def write_readme_table(repo: Repo) -> int:
    readme = repo.root / "README.md"
    text = readme.read_text(encoding="utf-8")
    start = text.index("\n", text.index("<!-- paths-table")) + 1
    end = text.index("<!-- /paths-table -->")
    readme.write_text(text[:start] + readme_table(repo) + "\n" + text[end:], encoding="utf-8")
    print(f"updated {readme}")
    return 0


def checkout(repo: Repo, args) -> int:
    out = snapshots.checkout(repo, args.path, args.step, args.dest)
    n = int(args.step)
    print(f"copied {args.path} step{n:02d} to {out}")
    if n < repo.step_count(args.path):
        print(f"write step {n + 1}'s lesson there, then test it with:\n"
              f"  nox -s test-step -- {args.path} {n + 1} --against {args.dest}")
    return 0


def carry(repo: Repo, args) -> int:
    applied, already, failed = snapshots.carry(repo, args.path, args.step)
    for label, names in (("applied to", applied), ("already in", already), ("did NOT apply to", failed)):
        if names:
            print(f"{label}: {', '.join(names)}")
    if not (applied or already or failed):
        print("no later steps")
    if failed:
        print("carry the change into those steps by hand, then re-run their tests", file=sys.stderr)
    return 1 if failed else 0
