"""Each piece of this lab and its counterpart in vLLM (V1 engine, version 0.32).

    python vllm_map.py    # prints the table; a counterpart that does not import is marked MISSING

tests/test_vllm_map.py imports both sides of every row, so a rename on either
side fails a test instead of leaving this map quietly wrong.
"""
import importlib
import sys
import warnings

# (component, ours as module.name, vLLM module, name in it)
COUNTERPARTS = [
    ("messages", "messages.EngineCoreRequest", "vllm.v1.engine", "EngineCoreRequest"),
    ("messages", "messages.EngineCoreOutput", "vllm.v1.engine", "EngineCoreOutput"),
    ("messages", "messages.SamplingParams", "vllm.sampling_params", "SamplingParams"),
    ("messages", "messages.SchedulerOutput", "vllm.v1.core.sched.output", "SchedulerOutput"),
    ("messages", "messages.NewRequestData", "vllm.v1.core.sched.output", "NewRequestData"),
    ("messages", "messages.CachedRequestData", "vllm.v1.core.sched.output", "CachedRequestData"),
    ("messages", "messages.ModelRunnerOutput", "vllm.v1.outputs", "ModelRunnerOutput"),
    ("messages", "messages.RequestOutput", "vllm.outputs", "RequestOutput"),
    ("messages", "messages.encoder", "vllm.v1.serial_utils", "MsgpackEncoder"),
    ("API server", "api_server.build_app", "vllm.entrypoints.launchers.app", "build_app"),
    ("API server", "api_server.main", "vllm.entrypoints.openai.api_server", "run_server"),
    ("API server", "protocol.CompletionRequest", "vllm.entrypoints.openai.completion.protocol", "CompletionRequest"),
    ("API server", "protocol.ChatCompletionRequest", "vllm.entrypoints.openai.chat_completion.protocol",
     "ChatCompletionRequest"),
    ("API server", "async_llm.AsyncLLM", "vllm.v1.engine.async_llm", "AsyncLLM"),
    ("API server", "llm.OutputProcessor", "vllm.v1.engine.output_processor", "OutputProcessor"),
    ("API server", "protocol.Detokenizer", "vllm.v1.engine.detokenizer", "IncrementalDetokenizer"),
    ("API server", "llm.LLM", "vllm.v1.engine.llm_engine", "LLMEngine"),
    ("IPC", "core_client.InprocClient", "vllm.v1.engine.core_client", "InprocClient"),
    ("IPC", "core_client.MPClient", "vllm.v1.engine.core_client", "SyncMPClient"),
    ("IPC", "core_client.AsyncMPClient", "vllm.v1.engine.core_client", "AsyncMPClient"),
    ("IPC", "core_proc.run_engine_core", "vllm.v1.engine.core", "EngineCoreProc.run_engine_core"),
    ("engine core", "engine_core.EngineCore", "vllm.v1.engine.core", "EngineCore"),
    ("engine core", "scheduler.Scheduler", "vllm.v1.core.sched.scheduler", "Scheduler"),
    ("engine core", "block_manager.BlockManager", "vllm.v1.core.kv_cache_manager", "KVCacheManager"),
    ("executor", "executor.UniProcExecutor", "vllm.v1.executor.uniproc_executor", "UniProcExecutor"),
    ("executor", "executor.MultiprocExecutor", "vllm.v1.executor.multiproc_executor", "MultiprocExecutor"),
    ("worker", "worker.worker_main", "vllm.v1.executor.multiproc_executor", "WorkerProc.worker_main"),
    ("worker", "worker.Worker", "vllm.v1.worker.gpu_worker", "Worker"),
    ("worker", "model_runner.ModelRunner", "vllm.v1.worker.gpu_model_runner", "GPUModelRunner"),
    ("worker", "sampler.Sampler", "vllm.v1.sample.sampler", "Sampler"),
]


def resolve(module: str, dotted: str):
    """module.dotted.name, imported (vLLM warns that its old server module is deprecated: silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        obj = importlib.import_module(module)
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def main() -> int:
    from tabulate import tabulate
    rows, missing = [], 0
    for component, ours, module, name in COUNTERPARTS:
        try:
            resolve(module, name)
            found = "ok"
        except (ImportError, AttributeError) as e:
            found, missing = f"MISSING ({type(e).__name__})", missing + 1
        rows.append([component, ours, f"{module}.{name}", found])
    print(tabulate(rows, headers=["component", "this lab", "vLLM", "imports"]))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
