"""Print a line at every hop a request takes, in every Python process of a server.

Python imports `sitecustomize` at start-up from anywhere on PYTHONPATH, so putting
this folder there reaches every process a server starts (the engine core, the
workers), whether they are forked, spawned or run as scripts. HOP_TRACE picks the
table (vllm or ours); HOP_TRACE_FILE is where the lines go. Nothing is imported
early: a finder waits until a traced module is imported, then wraps its methods.

A line: `<pid> <label> <Class.method> <detail>`; see hops.py for the tables.
"""
import os
import sys

if os.environ.get("HOP_TRACE"):
    sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the step folder, last: hops.py
    import hops
    hops.install(os.environ["HOP_TRACE"], os.environ["HOP_TRACE_FILE"])
