"""The smallest working inference loop: feed the tokens, take the argmax, append, repeat."""
import torch

from attention import FullRecompute


@torch.inference_mode()
def generate(model, prompt_token_ids: list[int], max_new_tokens: int, eos_token_id: int | None = None) -> list[int]:
    """Greedy completion of one prompt; returns only the new tokens (the eos included, if hit)."""
    tokens = list(prompt_token_ids)
    for _ in range(max_new_tokens):
        input_ids = torch.tensor(tokens)
        positions = torch.arange(len(tokens))
        # Every step runs the model over the *whole* history again: O(T^2) work for T tokens.
        hidden = model(input_ids, positions, FullRecompute())
        logits = model.compute_logits(hidden[-1])  # only the last position predicts the next token
        next_token = int(logits.argmax())
        tokens.append(next_token)
        if next_token == eos_token_id:
            break
    return tokens[len(prompt_token_ids):]
