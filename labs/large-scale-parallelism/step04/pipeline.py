"""Run a pipeline schedule on the stages of a grid: activations go forward and gradients back by send/recv."""
from __future__ import annotations

import torch
import torch.distributed as dist

import tp as tp_ops
from grid import Grid
from groups import Groups
from model import Config, LanguageModel, batch
from parallel import ParallelLM
from schedule import SCHEDULES
from train import local_grads, sgd_step


def send(x, dst: int, handles: list):
    """Non-blocking send: a stage goes on with its next op; the matching recv takes the tensor when it needs it."""
    tp_ops.COMM.append(("pp", "send", x.numel() * x.element_size()))
    handles.append(dist.isend(x.contiguous(), dst))


def recv(shape, src: int):
    x = torch.empty(shape)
    dist.recv(x, src)
    return x


def pipeline_step(model: ParallelLM, ops, idx_mbs, tgt_mbs, n_tokens: int, log: list):
    """One training step's forward and backward on this stage, in the order `ops` gives; returns the loss
    summed over micro-batches on the last stage (None elsewhere). Each op run is appended to `log`."""
    pp = model.pp
    prev = pp.ranks[pp.index - 1] if not model.is_first else None
    nxt = pp.ranks[pp.index + 1] if not model.is_last else None
    shape = (idx_mbs[0].shape[0], idx_mbs[0].shape[1], model.cfg.n_embd)
    if model.sp and model.tp.size > 1:
        shape = (shape[0], shape[1] // model.tp.size, shape[2])
    inputs, outputs, handles, total = {}, {}, [], None
    for kind, i in ops:
        if kind == "F":
            model.set_microbatch(i, len(idx_mbs))
            if model.is_first:
                x = model.embed(idx_mbs[i])
            else:
                x = inputs[i] = recv(shape, prev).requires_grad_()
            y = model.body(x)
            if model.is_last:
                y = model.head_loss(y, tgt_mbs[i], n_tokens)
                total = y.detach() if total is None else total + y.detach()
            else:
                send(y.detach(), nxt, handles)
            outputs[i] = y
        else:
            y = outputs.pop(i)             # this micro-batch's activations are freed after its backward
            if model.is_last:
                y.backward()
            else:
                y.backward(recv(y.shape, nxt))
            if not model.is_first:
                send(inputs.pop(i).grad, prev, handles)
        log.append((kind, i))
    for h in handles:
        h.wait()
    return total


def pipeline_run(rank: int, world: int, grid: Grid, cfg: Config, batch_size: int, steps: int, lr: float,
                 schedule: str, microbatches: int, sequence_parallel: bool = False):
    """`steps` SGD steps through the pipeline: global losses (last stage), gradient pieces, ops as run."""
    groups = Groups(grid, rank)
    model = ParallelLM(LanguageModel(cfg, seed=0), groups, sequence_parallel)
    idx, targets = batch(cfg, batch_size)
    dp = groups.axis("dp")
    idx, targets = idx.chunk(dp.size)[dp.index], targets.chunk(dp.size)[dp.index]
    idx_mbs, tgt_mbs = idx.chunk(microbatches), targets.chunk(microbatches)
    ops = SCHEDULES[schedule](model.pp.size, microbatches, model.pp.index)
    losses, grads, comm, logs = [], [], [], []
    for _ in range(steps):
        tp_ops.COMM.clear()
        log = []
        loss = pipeline_step(model, ops, idx_mbs, tgt_mbs, batch_size * cfg.block_size, log)
        model.sync_grads()
        if loss is not None:
            dist.all_reduce(loss, group=groups.group["dp"])
            loss = loss.item()
        losses.append(loss)
        grads.append(local_grads(model))
        comm.append(list(tp_ops.COMM))
        logs.append(log)
        sgd_step(model.parameters(), lr)
    return {"losses": losses, "grads": grads, "comm": comm, "ops": logs}
