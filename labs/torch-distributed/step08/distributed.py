"""Join the process group that torchrun's environment variables describe.

torchrun gives every process:
  RANK         its number among all processes, 0 .. WORLD_SIZE-1
  LOCAL_RANK   its number on this machine (which GPU it drives)
  WORLD_SIZE   how many processes take part
  MASTER_ADDR, MASTER_PORT  where rank 0's key-value store (TCPStore) listens;
               the ranks meet there, exchange addresses and then talk directly.
The backend does the talking: gloo on CPUs (TCP), nccl on NVIDIA GPUs (NVLink, InfiniBand).
"""
from __future__ import annotations

import os
from datetime import timedelta

import torch
import torch.distributed as dist

ENV_VARS = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR", "MASTER_PORT",
            "TORCHELASTIC_RESTART_COUNT")


def init(timeout_s: float = 60) -> tuple[int, int, torch.device]:
    """(rank, world_size, device). Without torchrun's variables: one process, no group."""
    if "WORLD_SIZE" not in os.environ:
        return 0, 1, torch.device("cpu")
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device, backend = torch.device("cpu"), "gloo"
    rank, world_size, timeout = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), timedelta(seconds=timeout_s)
    # Under torchrun the store is the launcher's own, and it outlives a restart: the addresses the
    # ranks of a crashed attempt posted are still in it. A prefix per attempt keeps the new ranks
    # from reading them (without it, a restarted rank may try to connect to a dead one).
    agent_store = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
    store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), world_size,
                          is_master=rank == 0 and not agent_store, timeout=timeout)
    store = dist.PrefixStore(f"attempt{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}", store)
    # timeout: a collective that waits longer than this (a rank died) raises instead of hanging.
    dist.init_process_group(backend, store=store, rank=rank, world_size=world_size, timeout=timeout)
    return dist.get_rank(), dist.get_world_size(), device


def describe() -> dict:
    """What this process was told (the variables) and what the group says."""
    info = {name: os.environ.get(name) for name in ENV_VARS}
    if dist.is_initialized():
        info.update(rank=dist.get_rank(), world_size=dist.get_world_size(), backend=dist.get_backend(),
                    pid=os.getpid())
    return info


def close() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
