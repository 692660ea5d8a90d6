"""The lab tooling: reads paths.toml and labs/, runs, diffs, tests and carries fixes.

Standard library only, so nox (or plain `python3 shared/labtool.py`) can load it before any
environment exists. Every user error is a LabError: the command line prints its one-line
message and exits with status 2, never a traceback.

    catalog       paths.toml, the step folders, step.toml validation (Repo, Step, LabError)
    environments  one virtualenv per environment; the variables of each CPU code path
    commands      run a step, test steps (timed), the GPU checks
    snapshots     diff two steps, check a step out, carry a fix forward
    report        the tables it prints
    cli           the command line
"""
from .catalog import ENVS, GPU_VALUES, LabError, Repo, Step
from .cli import main, split_test_args
from .commands import Suite, TestRun, command_argv, gpu_bench_argv, run_step, test_steps
from .environments import CPU_PATHS, cpu_path_vars, ensure_env, env_vars
from .report import fmt_seconds, format_table, list_table, parts_table, readme_table, suite_summary
from .snapshots import carry, checkout, diff, diff_dirs, step_files

__all__ = [
    "ENVS", "GPU_VALUES", "LabError", "Repo", "Step", "main", "split_test_args", "Suite", "TestRun",
    "command_argv", "gpu_bench_argv", "run_step", "test_steps", "CPU_PATHS", "cpu_path_vars", "ensure_env",
    "env_vars", "fmt_seconds", "format_table", "list_table", "parts_table", "readme_table", "suite_summary",
    "carry", "checkout", "diff", "diff_dirs", "step_files",
]
