#!/usr/bin/env python3
"""The PyTorch side of the both-way exchange test (crates/nnlab/tests/pytorch_exchange.rs).

  exchange.py eval  --module net.py --checkpoint run/last.safetensors
      Loads an nnlab checkpoint into the exported `Net` and evaluates it on the MNIST test set.
  exchange.py train --module net.py --out net.safetensors [--steps 150] [--seed 3]
      Trains the exported `Net` in PyTorch (SGD, batch 64, the first images of the training set), saves
      its state_dict with safetensors.torch.save_file, and evaluates it on the test set.

Both print one JSON object: {"accuracy": …, "confusion": [[…] × 10]}. MNIST comes from $MNIST_DIR.
"""

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../../../bench"))
from pytorch_reference import evaluate, exported_module, split  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["eval", "train"])
    parser.add_argument("--module", required=True)
    parser.add_argument("--checkpoint")
    parser.add_argument("--out")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    module = exported_module(args.module)
    model = module.Net()
    if args.command == "eval":
        module.load_nnlab_checkpoint(model, args.checkpoint)
    else:
        from safetensors.torch import save_file

        torch.manual_seed(args.seed)
        model = module.Net()
        x, y = split("train")
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        model.train()
        for step in range(args.steps):
            i = (step * 64) % (len(y) - 64)
            opt.zero_grad()
            F.nll_loss(model(x[i : i + 64]), y[i : i + 64]).backward()
            opt.step()
        save_file(model.state_dict(), args.out)
    print(json.dumps(evaluate(model)))


if __name__ == "__main__":
    main()
