"""Trains the tiny policy of tinyrl.py with a GRPO-style policy gradient (REINFORCE, advantages normalised within each
group of samples of the same prompt) on the (a + b) mod k task, CPU only, and saves W0 and a checkpoint every
--save-every steps in the layout a trainer would use:

  --layout trl   OUT/base/ (W0), OUT/checkpoint-N/{model.safetensors,config.json}             (TRL / HF Trainer)
  --layout verl  OUT/base/ (W0), OUT/global_step_N/actor/huggingface/{model.safetensors,config.json}   (verl)
  --layout bare  OUT/model-0.safetensors (W0), OUT/model-N.safetensors

Each checkpoint is written under a hidden temporary name and renamed into place, so a follower never sees half of one.
Per-checkpoint rewards go to stderr.  Usage: python3 train.py --out runs/trl [--layout trl] [--steps 300] ...
"""
import argparse
import json
import os
import shutil
import sys
import time

import torch

import tinyrl


def save_checkpoint(out, layout, step, w, config):
    """Writes step's weights atomically in the layout; returns the path a tool is given (folder, or file for bare)."""
    tensors = {name: t.detach() for name, t in w.items()}
    metadata = {"format": "pt"}
    if layout == "bare":
        path = os.path.join(out, f"model-{step}.safetensors")
        tinyrl.save_safetensors(path, tensors, metadata)  # temporary name, then os.replace
        return path
    if step == 0:
        name, inner = "base", ""
    elif layout == "trl":
        name, inner = f"checkpoint-{step}", ""
    else:
        name, inner = f"global_step_{step}", os.path.join("actor", "huggingface")
    tmp = os.path.join(out, f".tmp-{name}")
    shutil.rmtree(tmp, ignore_errors=True)
    folder = os.path.join(tmp, inner)
    os.makedirs(folder)
    tinyrl.save_safetensors(os.path.join(folder, tinyrl.SINGLE_FILE), tensors, metadata)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    final = os.path.join(out, name)
    os.replace(tmp, final)  # the whole folder appears at once
    return os.path.join(final, inner) if inner else final


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="run folder (created; must be empty or absent)")
    p.add_argument("--layout", choices=["trl", "verl", "bare"], default="trl")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--save-every", type=int, default=25)
    p.add_argument("--lr", type=float, default=3e-4, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--k", type=int, default=16, help="number of actions; a, b in [0, k)")
    p.add_argument("--prompts", type=int, default=32, help="prompts (a, b pairs) per step")
    p.add_argument("--group", type=int, default=8, help="samples per prompt (the group of GRPO)")
    p.add_argument("--pause", type=float, default=0.0, help="seconds to sleep after each checkpoint (to watch a run)")
    args = p.parse_args()

    if os.path.isdir(args.out) and os.listdir(args.out):
        sys.exit(f"{args.out} is not empty: give a new --out")
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest and keeps runs identical
    g = torch.Generator().manual_seed(args.seed)

    w = tinyrl.init_weights(args.k, seed=args.seed)
    for t in w.values():
        t.requires_grad_(True)
    config = {"architectures": ["TinyRLPolicy"], "model_type": "tinyrl-mlp", "hidden_size": 64, "intermediate_size": 128,
              "num_hidden_layers": 2, "vocab_size": args.k, "torch_dtype": "float32"}
    optimizer = torch.optim.Adam(list(w.values()), lr=args.lr)

    def report(step, batch_reward, path):
        expected, greedy = tinyrl.evaluate(w)
        batch = f"batch reward {batch_reward:.3f}, " if batch_reward is not None else ""
        print(f"step {step:4d}: {batch}eval expected reward {expected:.4f} greedy {greedy:.4f} -> {path}", file=sys.stderr, flush=True)

    start = time.time()
    report(0, None, save_checkpoint(args.out, args.layout, 0, w, config))
    recent = []
    for step in range(1, args.steps + 1):
        a = torch.randint(args.k, (args.prompts,), generator=g).repeat_interleave(args.group)
        b = torch.randint(args.k, (args.prompts,), generator=g).repeat_interleave(args.group)
        logp = torch.log_softmax(tinyrl.logits(w, a, b), dim=-1)
        action = torch.multinomial(logp.detach().exp(), 1, generator=g).squeeze(1)
        reward = (action == tinyrl.target(a, b, args.k)).float()
        r = reward.view(args.prompts, args.group)
        advantage = ((r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True) + 1e-4)).view(-1)  # GRPO: within the group
        loss = -(advantage * logp.gather(1, action[:, None]).squeeze(1)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        recent.append(reward.mean().item())
        if step % args.save_every == 0 or step == args.steps:
            report(step, sum(recent) / len(recent), save_checkpoint(args.out, args.layout, step, w, config))
            recent = []
            if args.pause > 0:
                time.sleep(args.pause)
    print(f"trained {args.steps} steps in {time.time() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
