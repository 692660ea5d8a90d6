"""The sampler: from each request's last logits to its next token."""
import torch


class Sampler:
    def __init__(self, seed: int = 0):
        self.generator = torch.Generator().manual_seed(seed)  # seeded: runs are reproducible

    def __call__(self, logits: torch.Tensor, temperatures: torch.Tensor, top_ks: torch.Tensor | None = None,
                 top_ps: torch.Tensor | None = None,
                 generators: list[torch.Generator | None] | None = None) -> torch.Tensor:
        """logits [batch, vocab], temperatures [batch] (0 = greedy), top_ks [batch] (0 = off),
        top_ps [batch] (1 = off) -> token ids [batch].
        generators[i], when given, is request i's own random stream (a seeded request)."""
        logits = logits.float().cpu()
        greedy = logits.argmax(-1)
        if not temperatures.any():  # all greedy: skip the softmax and the draw
            return greedy
        # Temperature T scales the logits: T < 1 sharpens the distribution, T > 1 flattens it.
        scaled = logits / temperatures.clamp(min=1e-5)[:, None]
        if top_ks is not None and top_ps is not None:
            scaled = keep_top_k_top_p(scaled, top_ks, top_ps)
        probs = torch.softmax(scaled, dim=-1)
        # Unseeded requests share one stream: what each draws depends on who else is in the batch.
        sampled = torch.multinomial(probs, 1, generator=self.generator).squeeze(1)
        for i, generator in enumerate(generators or []):
            if generator is not None:  # a seeded request draws from its own stream, one draw per token
                sampled[i] = torch.multinomial(probs[i], 1, generator=generator)[0]
        return torch.where(temperatures == 0, greedy, sampled)


def keep_top_k_top_p(logits: torch.Tensor, top_ks: torch.Tensor, top_ps: torch.Tensor) -> torch.Tensor:
    """Set every logit outside a row's top-k and top-p candidates to -inf."""
    sorted_logits, order = logits.sort(dim=-1, descending=True)
    rank = torch.arange(logits.shape[-1])[None, :]
    k = torch.where(top_ks > 0, top_ks, logits.shape[-1])[:, None]
    drop = rank >= k  # top-k: beyond the k-th most likely token
    probs = torch.softmax(sorted_logits.masked_fill(drop, float("-inf")), dim=-1)
    mass_before = probs.cumsum(-1) - probs  # probability of the more likely tokens
    drop |= mass_before >= top_ps[:, None]  # top-p: the tokens before already reach p (the first always stays)
    return logits.scatter(-1, order, sorted_logits.masked_fill(drop, float("-inf")))
