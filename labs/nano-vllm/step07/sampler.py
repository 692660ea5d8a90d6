"""The sampler: from each request's last logits to its next token."""
import torch


class Sampler:
    def __init__(self, seed: int = 0):
        self.generator = torch.Generator().manual_seed(seed)  # seeded: runs are reproducible

    def __call__(self, logits: torch.Tensor, temperatures: torch.Tensor,
                 generators: list[torch.Generator | None] | None = None) -> torch.Tensor:
        """logits [batch, vocab], temperatures [batch] (0 = greedy) -> token ids [batch].
        generators[i], when given, is request i's own random stream (a seeded request)."""
        logits = logits.float().cpu()
        greedy = logits.argmax(-1)
        if not temperatures.any():  # all greedy: skip the softmax and the draw
            return greedy
        # Temperature T scales the logits: T < 1 sharpens the distribution, T > 1 flattens it.
        scaled = logits / temperatures.clamp(min=1e-5)[:, None]
        probs = torch.softmax(scaled, dim=-1)
        # Unseeded requests share one stream: what each draws depends on who else is in the batch.
        sampled = torch.multinomial(probs, 1, generator=self.generator).squeeze(1)
        for i, generator in enumerate(generators or []):
            if generator is not None:  # a seeded request draws from its own stream, one draw per token
                sampled[i] = torch.multinomial(probs[i], 1, generator=generator)[0]
        return torch.where(temperatures == 0, greedy, sampled)
