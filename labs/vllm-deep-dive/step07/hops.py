"""The hops of one request through a server, as (label, module, Class.method, when) tables, and the wrapper
that prints each one. Installed in every process by trace_hooks/sitecustomize.py.

    when = "call":   a line when the method is called (with the size of its first argument)
    when = "return": a line when it returns something non-empty (a receive that waited for data)
"""
import functools
import importlib.abc
import inspect
import os
import sys

VLLM = [
    ("API server", "vllm.entrypoints.openai.completion.serving", "OpenAIServingCompletion.create_completion", "call"),
    ("API server", "vllm.v1.engine.async_llm", "AsyncLLM.add_request", "call"),
    ("API server -> ZMQ", "vllm.v1.engine.core_client", "AsyncMPClient.add_request_async", "call"),
    ("engine core", "vllm.v1.engine.core", "EngineCore.add_request", "call"),
    ("scheduler", "vllm.v1.core.sched.scheduler", "Scheduler.schedule", "call"),
    ("executor", "vllm.v1.executor.uniproc_executor", "UniProcExecutor.execute_model", "call"),
    ("executor", "vllm.v1.executor.multiproc_executor", "MultiprocExecutor.execute_model", "call"),
    ("worker", "vllm.v1.worker.gpu_worker", "Worker.execute_model", "call"),
    ("worker", "vllm.v1.worker.gpu_worker", "Worker.sample_tokens", "call"),
    ("scheduler", "vllm.v1.core.sched.scheduler", "Scheduler.update_from_output", "call"),
    ("ZMQ -> API server", "vllm.v1.engine.core_client", "AsyncMPClient.get_output_async", "return"),
    ("output processor", "vllm.v1.engine.output_processor", "OutputProcessor.process_outputs", "call"),
    ("detokenizer", "vllm.v1.engine.detokenizer", "BaseIncrementalDetokenizer.update", "call"),
]

OURS = [
    ("API server", "protocol", "check_prompt", "call"),
    ("API server", "async_llm", "AsyncLLM.generate", "call"),
    ("API server -> ZMQ", "core_client", "AsyncMPClient.add_request", "call"),
    ("engine core", "engine_core", "EngineCore.add_request", "call"),
    ("scheduler", "scheduler", "Scheduler.schedule", "call"),
    ("executor", "executor", "UniProcExecutor.execute_model", "call"),
    ("executor", "executor", "MultiprocExecutor.execute_model", "call"),
    ("worker", "worker", "Worker.execute_model", "call"),
    ("scheduler", "scheduler", "Scheduler.postprocess", "call"),
    ("ZMQ -> API server", "core_client", "AsyncMPClient.get_output", "return"),
    ("output processor", "llm", "OutputProcessor.process_outputs", "call"),
    ("detokenizer", "protocol", "Detokenizer.step", "call"),
]

TABLES = {"vllm": VLLM, "ours": OURS}


def size(x) -> str:
    if hasattr(x, "total_num_scheduled_tokens"):  # a SchedulerOutput (ours or vLLM's): how much work
        return f"tokens={x.total_num_scheduled_tokens}"
    if hasattr(x, "outputs"):  # vLLM's EngineCoreOutputs
        x = x.outputs
    try:
        return f"n={len(x)}"
    except TypeError:
        return ""


def wrap(fn, label: str, qualname: str, when: str, out: str, skip: int):
    """fn, printing a line as `when` says; skip = 1 for a method (its first argument is self)."""
    def emit(detail: str):
        line = f"{os.getpid()} {label} | {qualname} {detail}\n"
        fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT)  # one write per line: lines never interleave
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def first(args) -> str:
        return size(args[skip]) if len(args) > skip else ""

    def returned(result) -> None:
        if when == "return" and result and size(result) != "n=0":
            emit(size(result))

    if inspect.isasyncgenfunction(fn):
        @functools.wraps(fn)
        async def agen(*args, **kwargs):
            emit(first(args))
            async for item in fn(*args, **kwargs):
                yield item
        return agen
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def coro(*args, **kwargs):
            if when == "call":
                emit(first(args))
            result = await fn(*args, **kwargs)
            returned(result)
            return result
        return coro

    @functools.wraps(fn)
    def plain(*args, **kwargs):
        if when == "call":
            emit(first(args))
        result = fn(*args, **kwargs)
        returned(result)
        return result
    return plain


def patch(module, table, out: str) -> None:
    for label, name, qualname, when in table:
        if name != module.__name__:
            continue
        if "." not in qualname:  # a module-level function
            if callable(getattr(module, qualname, None)):
                setattr(module, qualname, wrap(getattr(module, qualname), label, qualname, when, out, 0))
            continue
        cls_name, method = qualname.split(".")
        cls = getattr(module, cls_name, None)
        if cls is not None and method in cls.__dict__:
            setattr(cls, method, wrap(cls.__dict__[method], label, qualname, when, out, 1))


class PatchOnImport(importlib.abc.MetaPathFinder):
    """When a traced module is imported, run its code, then wrap the methods the table names."""

    def __init__(self, table, out: str):
        self.table, self.out = table, out
        self.names = {name for _, name, _, _ in table}

    def find_spec(self, fullname, path, target=None):
        if fullname not in self.names:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = PatchingLoader(spec.loader, self.table, self.out)
                return spec
        return None


class PatchingLoader(importlib.abc.Loader):
    """The module's own loader, plus a patch() after the module's code has run."""

    def __init__(self, loader, table, out: str):
        self.loader, self.table, self.out = loader, table, out

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        patch(module, self.table, self.out)

    def __getattr__(self, name):  # get_source, get_data, ...: the original loader answers
        return getattr(self.loader, name)


def install(which: str, out: str) -> None:
    table = TABLES[which]
    for name in {n for _, n, _, _ in table} & set(sys.modules):  # already imported (a forked child): patch now
        patch(sys.modules[name], table, out)
    sys.meta_path.insert(0, PatchOnImport(table, out))


def read(path) -> list[tuple[int, str, str, str]]:
    """(pid, label, Class.method, detail) for every line written, in order."""
    rows = []
    for line in open(path, encoding="utf-8"):
        head, _, rest = line.rstrip("\n").partition(" | ")
        pid, label = head.split(" ", 1)
        qualname, _, detail = rest.partition(" ")
        rows.append((int(pid), label, qualname, detail))
    return rows
