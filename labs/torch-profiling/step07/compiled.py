"""torch.compile on the training step: find the graph breaks, move them out, compile one graph.

Dynamo traces Python into FX graphs; where it cannot (a call it refuses to trace, data-dependent
control flow, a .item()), it breaks the graph, runs that piece eagerly and starts a new graph.
torch._dynamo.explain lists the graphs and the reason for every break. In train_step the
breaks are in the optimizer calls; the model's forward and loss trace as one graph, and
AOTAutograd derives its backward as one more graph. So the model is compiled (fullgraph=True
turns any new break into an error) and zero_grad, backward and the optimizer stay eager.

    python compiled.py               # the breaks of train_step, then of the compiled model
"""
from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from train import train_step


def graph_breaks(fn, *args) -> tuple[int, int, list[str]]:
    """(graphs, breaks, "file:line: explanation" of each distinct reason) when Dynamo traces fn(*args)."""
    torch._dynamo.reset()
    out = torch._dynamo.explain(fn)(*args)
    reasons = []
    for b in out.break_reasons:
        lines = [ln.strip() for ln in str(b.reason).strip().splitlines()]
        why = next((ln.removeprefix("Explanation: ") for ln in lines if ln.startswith("Explanation:")), lines[0])
        where = b.user_stack[-1] if b.user_stack else None
        reasons.append(f"{where.filename.split('/')[-1]}:{where.lineno}: {why}" if where else why)
    torch._dynamo.reset()
    return out.graph_count, out.graph_break_count, reasons


class _OpBytes(TorchDispatchMode):
    """Sums the bytes of every ATen op's tensor inputs and outputs: what op-by-op execution moves."""

    def __init__(self):
        super().__init__()
        self.bytes = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        flat = torch.utils._pytree.tree_leaves((args, kwargs, out))
        self.bytes += sum(t.numel() * t.element_size() for t in flat if isinstance(t, torch.Tensor))
        return out


def step_traffic(model, opt, x, y) -> dict:
    """FLOPs and eager bytes of one training step.

    FlopCounterMode counts the matmuls (forward and backward). It has no formula for the CPU's fused
    SDPA kernel, so attention is added from the shapes: 4 B H T^2 hd per layer forward (q k^T and
    p v over the full T x T), and backward twice that.
    """
    with FlopCounterMode(display=False) as flops, _OpBytes() as nbytes:
        train_step(model, opt, x, y)
    cfg, (B, T) = model.cfg, x.shape
    attention = 3 * 4 * B * cfg.n_head * T * T * (cfg.n_embd // cfg.n_head) * cfg.n_layer
    counted = flops.get_total_flops()
    if x.device.type == "cuda":     # on a GPU the flash/efficient SDPA kernels have counter formulas
        attention = 0
    return {"flops": counted + attention, "matmul_flops": counted, "attention_flops": attention,
            "bytes": nbytes.bytes}


def compile_model(model, backend: str = "inductor"):
    """The model's forward and loss as one graph (an error if Dynamo would break it); backward follows."""
    return torch.compile(model, fullgraph=True, backend=backend)


def main() -> None:
    from model import Config, LanguageModel
    from train import make_batch, make_optimizer
    torch.manual_seed(0)
    cfg = Config()
    model = LanguageModel(cfg)
    opt = make_optimizer(model)
    x, y = make_batch(cfg.vocab_size, 8, 128)
    graphs, breaks, reasons = graph_breaks(train_step, model, opt, x, y)
    print(f"torch.compile(train_step): {graphs} graphs, {breaks} graph breaks")
    for r in reasons:
        print(f"  - {r}")
    graphs, breaks, _ = graph_breaks(model, x, y)
    print(f"torch.compile(model) (forward + loss): {graphs} graph, {breaks} breaks; "
          f"zero_grad, backward and opt.step run eagerly around it")


if __name__ == "__main__":
    main()
