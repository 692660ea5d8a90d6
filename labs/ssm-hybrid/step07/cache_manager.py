"""The hybrid cache manager: KV blocks for the attention layers and SSM state slots for the Mamba layers.

A request's keys and values grow with its length, so they live in fixed-size blocks
taken from a shared pool as it grows (paged, as in vLLM): token p of a request sits in
block block_table[p // block_size] at offset p % block_size. Its Mamba state does not
grow: one slot (conv window + SSM state for every Mamba layer) is taken at admission
and kept until the request leaves. A request needs both: a free slot and enough free
blocks. The pools are tensors allocated once; `attend` and the slot views let the
model read and write them in place of the dense per-request state of step 6.
"""
from __future__ import annotations

from collections import deque

import torch
import torch.nn.functional as F

from hybrid import HybridConfig
from model import LayerState
from sequence import Sequence


class HybridCacheManager:
    def __init__(self, cfg: HybridConfig, num_blocks: int, block_size: int, num_slots: int, dtype=torch.float32):
        a, m = cfg.attention(), cfg.mamba()
        self.cfg, self.block_size = cfg, block_size
        self.layer_kinds = cfg.layer_types
        shape = (num_blocks, a.n_kv_heads, block_size, a.head_dim)
        self.k = {i: torch.zeros(shape, dtype=dtype) for i, t in enumerate(cfg.layer_types) if t == "attention"}
        self.v = {i: torch.zeros(shape, dtype=dtype) for i in self.k}
        self.conv = {i: torch.zeros(num_slots, m.d_inner, m.d_conv, dtype=dtype)
                     for i, t in enumerate(cfg.layer_types) if t == "mamba"}
        self.ssm = {i: torch.zeros(num_slots, m.d_inner, m.d_state, dtype=dtype) for i in self.conv}
        self.free_blocks: deque[int] = deque(range(num_blocks))
        self.free_slots: deque[int] = deque(range(num_slots))
        self.num_blocks, self.num_slots = num_blocks, num_slots

    # --- bookkeeping -------------------------------------------------------------------------------
    def blocks_for(self, num_tokens: int) -> int:
        return -(-num_tokens // self.block_size)

    def can_allocate(self, seq: Sequence) -> bool:
        return bool(self.free_slots) and len(self.free_blocks) >= self.blocks_for(seq.num_tokens)

    def allocate(self, seq: Sequence) -> None:
        assert seq.slot is None and not seq.block_table
        seq.slot = self.free_slots.popleft()  # its last owner's state is still there: the prefill overwrites it
        seq.block_table = [self.free_blocks.popleft() for _ in range(self.blocks_for(seq.num_tokens))]

    def can_append(self, seq: Sequence) -> bool:
        """Room for the token the next decode step writes (a new block only every block_size tokens)?"""
        return len(self.free_blocks) >= self.blocks_for(seq.num_tokens) - len(seq.block_table)

    def may_append(self, seq: Sequence) -> None:
        while len(seq.block_table) < self.blocks_for(seq.num_tokens):
            seq.block_table.append(self.free_blocks.popleft())

    def deallocate(self, seq: Sequence) -> None:
        self.free_blocks.extend(reversed(seq.block_table))
        self.free_slots.append(seq.slot)
        seq.block_table, seq.slot, seq.num_cached = [], None, 0

    # --- memory held -------------------------------------------------------------------------------
    def held_bytes(self, seq: Sequence) -> tuple[int, int]:
        """(SSM slot bytes, KV block bytes) this request holds, measured on the pool tensors it owns."""
        ids = torch.tensor(seq.block_table, dtype=torch.long)
        kv = sum(self.k[i][ids].nbytes + self.v[i][ids].nbytes for i in self.k)
        ssm = sum(self.conv[i][seq.slot].nbytes + self.ssm[i][seq.slot].nbytes for i in self.conv)
        return ssm, kv

    # --- the model's view of the pools -------------------------------------------------------------
    def store_prefill(self, seq: Sequence, dense_layers: list) -> None:
        """Copy a prefill's dense per-request state (step 6's HybridState) into the seq's slot and blocks."""
        n = seq.num_tokens
        for i, layer in enumerate(dense_layers):
            if i in self.conv:
                self.conv[i][seq.slot], self.ssm[i][seq.slot] = layer.conv[0], layer.ssm[0]
            else:
                for p0 in range(0, n, self.block_size):
                    block, p1 = seq.block_table[p0 // self.block_size], min(p0 + self.block_size, n)
                    self.k[i][block, :, :p1 - p0] = layer.k[0, :, p0:p1]
                    self.v[i][block, :, :p1 - p0] = layer.v[0, :, p0:p1]
        seq.num_cached = n

    def decode_view(self, seqs: list[Sequence]) -> "DecodeView":
        return DecodeView(self, seqs)


class PagedLayerKV:
    """An attention layer's cache for one decode step of a batch: each request writes its new key and value
    into its own block and slot offset, then attends over its own blocks (a loop over requests)."""

    def __init__(self, mgr: HybridCacheManager, layer: int, seqs: list[Sequence]):
        self.mgr, self.layer, self.seqs = mgr, layer, seqs

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        bs, out = self.mgr.block_size, []
        K, V = self.mgr.k[self.layer], self.mgr.v[self.layer]
        for row, seq in enumerate(self.seqs):
            pos = seq.num_cached  # the new token's position
            block = seq.block_table[pos // bs]
            K[block, :, pos % bs], V[block, :, pos % bs] = k[row, :, 0], v[row, :, 0]
            blocks = torch.tensor(seq.block_table[:pos // bs + 1])
            keys = K[blocks].transpose(0, 1).reshape(K.shape[1], -1, K.shape[3])[:, :pos + 1]
            values = V[blocks].transpose(0, 1).reshape(V.shape[1], -1, V.shape[3])[:, :pos + 1]
            out.append(F.scaled_dot_product_attention(q[row:row + 1], keys[None], values[None], enable_gqa=True))
        return torch.cat(out)


class DecodeView:
    """What HybridLM.forward takes as `state` for a batched decode step: Mamba layers get their rows gathered
    from the slot pool (written back by `commit`), attention layers a PagedLayerKV over the block pool."""

    def __init__(self, mgr: HybridCacheManager, seqs: list[Sequence]):
        self.mgr, self.seqs, self.seen = mgr, seqs, 1  # seen > 0: the model treats this as decode
        self.slots = torch.tensor([s.slot for s in seqs])
        self.layers = []
        for i, kind in enumerate(mgr.layer_kinds):
            if kind == "mamba":
                st = LayerState(mgr.cfg.mamba(), 0)
                st.conv, st.ssm = mgr.conv[i][self.slots], mgr.ssm[i][self.slots]
                self.layers.append(st)
            else:
                self.layers.append(PagedLayerKV(mgr, i, seqs))

    def commit(self) -> None:
        for i, st in enumerate(self.layers):
            if isinstance(st, LayerState):
                self.mgr.conv[i][self.slots], self.mgr.ssm[i][self.slots] = st.conv, st.ssm
        for seq in self.seqs:
            seq.num_cached += 1
