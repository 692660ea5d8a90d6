"""The lab tooling's command line: `python3 shared/labtool.py COMMAND ...` (`--help` lists them).

The code is the package beside this file, shared/tooling/ (standard library only). Run as a
script, or loaded by path before any environment exists (noxfile.py, tests/conftest.py), this
file loads that package as `tooling` without touching sys.path; imported as the installed
`dlc_shared.labtool`, it is the same API.
"""
import importlib.util
import sys
from pathlib import Path

if __package__:  # dlc_shared.labtool
    from .tooling import *  # noqa: F401,F403
else:
    _dir = Path(__file__).resolve().parent / "tooling"
    _loaded = sys.modules.get("tooling")
    if _loaded is None or Path(_loaded.__file__).parent != _dir:
        _spec = importlib.util.spec_from_file_location("tooling", _dir / "__init__.py",
                                                        submodule_search_locations=[str(_dir)])
        sys.modules["tooling"] = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(sys.modules["tooling"])
    from tooling import *  # noqa: F401,F403

if __name__ == "__main__":
    sys.exit(main())  # noqa: F405
