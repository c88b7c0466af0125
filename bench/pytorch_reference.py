#!/usr/bin/env python3
"""The reference: nnlab's MNIST CNN, training step and recipe, in PyTorch on the CPU.

  pytorch_reference.py bench [--batch-size 256] [--steps 20] [--threads 2] [--json] [--module net.py]
      Times what `nnlab mnist bench` times: forward + backward + SGD update on one fixed batch
      (after 3 warm-up steps), then the evaluation forward pass, and prints images per second.
      --module takes the model from a module written by `nnlab mnist export-pytorch` (default: the
      seed CNN below).
  pytorch_reference.py train [--epochs 19] [--threads 2] [--workers 1] [--seed 12] [--module net.py]
      The full recipe of docs/recipe.md (augmentation, SGD 0.01/0.95, StepLR ×0.9 every 3 epochs),
      reading the IDX files in $MNIST_DIR, and prints per-epoch test accuracy and wall time.
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def block(cin, cout, pad, bn_momentum):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=pad, bias=False),
        nn.ReLU(),
        nn.BatchNorm2d(cout, momentum=bn_momentum),
        nn.Dropout(0.1),
    )


class Net(nn.Module):
    """The architecture table of docs/recipe.md; module names match nnlab's checkpoints."""

    def __init__(self):
        super().__init__()
        self.convblock1 = block(1, 12, 0, 0.1)
        self.convblock2 = block(12, 24, 0, 0.1)
        self.convblock3 = nn.Sequential(nn.Conv2d(24, 12, 1, bias=False))
        self.pool1 = nn.MaxPool2d(2, 2)
        self.convblock4 = block(12, 20, 0, 0.2)
        self.convblock5 = block(20, 32, 1, 0.2)
        self.convblock6 = nn.Sequential(nn.Conv2d(32, 16, 1, bias=False))
        self.pool2 = nn.MaxPool2d(2, 2)
        self.convblock7 = block(16, 16, 1, 0.2)
        self.convblock8 = block(16, 32, 1, 0.2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.convblock2(self.convblock1(x))
        x = self.pool1(self.convblock3(x))
        x = self.convblock5(self.convblock4(x))
        x = self.pool2(self.convblock6(x))
        x = self.convblock8(self.convblock7(x))
        x = self.gap(x).flatten(1)
        return F.log_softmax(self.fc(x), dim=1)


def exported_module(path):
    """A module written by `nnlab mnist export-pytorch` (its class Net and load_nnlab_checkpoint)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("exported", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def exported_net(path):
    """The class Net of a module written by `nnlab mnist export-pytorch`."""
    return exported_module(path).Net


def bench(args):
    n = args.batch_size
    i = torch.arange(n * 784)
    images = (((i * 7919) % 255).float() / 255.0).reshape(n, 1, 28, 28)
    labels = torch.arange(n) % 10
    torch.manual_seed(1)
    if args.module:
        model = exported_net(args.module)()
    else:
        model = Net()
        assert sum(p.numel() for p in model.parameters()) == 18_934
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.95)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.nll_loss(model(images), labels)
        loss.backward()
        opt.step()

    model.train()
    for _ in range(3):
        step()
    t = time.perf_counter()
    for _ in range(args.steps):
        step()
    train = args.steps * n / (time.perf_counter() - t)
    model.eval()
    with torch.no_grad():
        model(images)
        t = time.perf_counter()
        for _ in range(args.steps):
            model(images)
        evaluation = args.steps * n / (time.perf_counter() - t)
    if args.json:
        print(json.dumps({"train_images_per_sec": train, "eval_images_per_sec": evaluation}))
    else:
        print(f"PyTorch {torch.__version__}: batch {n}, {torch.get_num_threads()} threads, {args.steps} timed steps")
        print(f"train (forward + backward + update): {train:.0f} images/s")
        print(f"eval  (forward):                     {evaluation:.0f} images/s")


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4 : 4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(directory, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    sys.exit(f"MNIST_DIR: {directory} has no {stem}[.gz]")


def split(name, device="cpu"):
    """An MNIST split ("train" or "t10k") from $MNIST_DIR as normalised [N, 1, 28, 28] images and labels."""
    directory = os.environ.get("MNIST_DIR", "../shared/mnist")
    images = read_idx(find(directory, f"{name}-images-idx3-ubyte")).astype(np.float32)
    labels = read_idx(find(directory, f"{name}-labels-idx1-ubyte")).astype(np.int64)
    x = (torch.from_numpy(images) / 255.0 - 0.1307) / 0.3081
    return x.unsqueeze(1).to(device), torch.from_numpy(labels).to(device)


def evaluate(model, device="cpu"):
    """Test accuracy and the 10×10 confusion matrix (rows: true digit), as nnlab mnist eval --json has them."""
    x, y = split("t10k", device)
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(x[i : i + 1000]).argmax(1) for i in range(0, len(y), 1000)])
    confusion = np.zeros((10, 10), dtype=int)
    for t, p in zip(y.tolist(), predicted.tolist()):
        confusion[t][p] += 1
    return {"accuracy": float((predicted == y).float().mean()), "confusion": confusion.tolist()}


class Digits(torch.utils.data.Dataset):
    """Images as PIL images, as torchvision.datasets.MNIST hands them to the transforms."""

    def __init__(self, images, labels, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[i], mode="L")), int(self.labels[i])


def train(args):
    from torchvision import transforms

    directory = os.environ.get("MNIST_DIR", "../shared/mnist")
    data = {
        split: (read_idx(find(directory, f"{split}-images-idx3-ubyte")), read_idx(find(directory, f"{split}-labels-idx1-ubyte")))
        for split in ("train", "t10k")
    }
    normalise = transforms.Normalize((0.1307,), (0.3081,))
    train_tf = transforms.Compose(
        [
            transforms.RandomApply([transforms.CenterCrop(22), transforms.Resize((28, 28))], p=0.1),
            transforms.RandomRotation((-10.0, 10.0), fill=(0,)),
            transforms.ToTensor(),
            normalise,
        ]
    )
    test_tf = transforms.Compose([transforms.ToTensor(), normalise])
    torch.manual_seed(args.seed)
    loader = torch.utils.data.DataLoader(
        Digits(*data["train"], train_tf), batch_size=256, shuffle=True, num_workers=args.workers
    )
    test_loader = torch.utils.data.DataLoader(
        Digits(*data["t10k"], test_tf), batch_size=1000, shuffle=False, num_workers=args.workers
    )
    model = exported_net(args.module)() if args.module else Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.95)
    schedule = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.9)
    print(f"PyTorch {torch.__version__}: {torch.get_num_threads()} threads, {args.workers} data worker(s), seed {args.seed}")
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        t = time.perf_counter()
        model.train()
        correct = 0
        for x, y in loader:
            opt.zero_grad(set_to_none=True)
            out = model(x)
            F.nll_loss(out, y).backward()
            opt.step()
            correct += (out.argmax(1) == y).sum().item()
        schedule.step()
        model.eval()
        right = 0
        with torch.no_grad():
            for x, y in test_loader:
                right += (model(x).argmax(1) == y).sum().item()
        print(
            f"epoch {epoch:2}: train {100 * correct / len(loader.dataset):.2f} %, "
            f"test {100 * right / len(test_loader.dataset):.2f} %, {time.perf_counter() - t:.1f} s",
            flush=True,
        )
    print(f"total wall time: {time.perf_counter() - start:.0f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="train and eval images per second")
    b.add_argument("--batch-size", type=int, default=256)
    b.add_argument("--steps", type=int, default=20)
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--json", action="store_true")
    b.add_argument("--module", help="a module written by nnlab mnist export-pytorch (default: the seed CNN)")
    t = sub.add_parser("train", help="the full recipe with its augmentation")
    t.add_argument("--epochs", type=int, default=19)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--workers", type=int, default=1)
    t.add_argument("--seed", type=int, default=12)
    t.add_argument("--module", help="a module written by nnlab mnist export-pytorch (default: the seed CNN)")
    args = parser.parse_args()
    if min(getattr(args, "batch_size", 1), getattr(args, "steps", 1), args.threads) < 1:
        sys.exit("--batch-size, --steps and --threads must be at least 1")
    torch.set_num_threads(args.threads)
    (bench if args.command == "bench" else train)(args)


if __name__ == "__main__":
    main()
