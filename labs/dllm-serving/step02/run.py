"""The masked-diffusion model: train it (once, cached) and look at what one denoising forward predicts."""
import argparse

import torch
from tabulate import tabulate

from mdm import canvas, denoise, mask_answer
from task import MASK, eval_problems, exact_match, make_batch
from train import mdm_model


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--problems", type=int, default=500, help="how many test problems (default 500)")
    args = ap.parse_args()
    if args.problems < 1:
        ap.error("--problems must be at least 1")
    torch.set_num_threads(1)        # tiny matmuls: a second thread costs more than it gives
    problems = [p for p in eval_problems(max(args.problems, 5)) if len(p) == 8][:args.problems]
    model = mdm_model()
    prompts = torch.tensor(problems)
    gen = torch.Generator().manual_seed(0)
    x = make_batch(gen, len(problems), 8)                       # fresh problems, each with one right answer
    rows = []
    for ratio in (0.25, 0.5, 0.75, 1.0):
        noisy, masked = mask_answer(x, 9, torch.full((len(x), 1), ratio), gen)
        pred = denoise(model, noisy)[:, 9:].argmax(-1)
        rows.append([ratio, f"{(pred == x[:, 9:])[masked].float().mean():.3f}"])
    print(f"[1] one forward, n = 8 ({len(problems)} problems): accuracy on the masked tokens")
    print(tabulate(rows, headers=["mask ratio t", "masked-token accuracy"]))
    x = canvas(prompts)
    probs = denoise(model, x)[:, 9:].softmax(-1)
    p = problems[0]
    top = probs[0, 0].topk(3)
    print(f"\n[2] all 8 answer tokens masked, prompt {' '.join(map(str, p))}: first answer token")
    print(tabulate([[int(i), f"{float(v):.3f}"] for v, i in zip(top.values, top.indices)], headers=["digit", "p"]))
    one_shot = probs.argmax(-1).tolist()
    print(f"\n[3] every token at once from the all-MASK canvas (argmax each): exact match "
          f"{exact_match(problems, one_shot):.3f}")
    for q, out in list(zip(problems, one_shot))[:3]:
        print(" ", " ".join(map(str, q)), "|", " ".join(map(str, out)))
    assert MASK not in sum(one_shot, [])


if __name__ == "__main__":
    main()
