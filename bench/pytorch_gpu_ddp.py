#!/usr/bin/env python3
"""An nnlab checkpoint continues in PyTorch on a GPU under DistributedDataParallel, and comes back.

  pytorch_gpu_ddp.py --module net.py --checkpoint run/last.safetensors --out ddp.safetensors
                     [--ranks 2] [--epochs 1] [--batch-size 128] [--lr 0.01] [--momentum 0.9] [--seed 1]
                     [--device cuda|cpu]

1. Loads the nnlab checkpoint into the `Net` that `nnlab mnist export-pytorch` wrote, on the GPU, and evaluates it
   on the MNIST test set with TF32 off (the GPU then multiplies in float32, as nnlab does).
2. Trains it on for --epochs under DistributedDataParallel with --ranks processes: NCCL with one GPU per rank where
   there are that many GPUs, else gloo with every rank on GPU 0. Each rank takes its DistributedSampler share of
   the 60,000 training images, --batch-size per rank, SGD with momentum.
3. Rank 0 saves the trained module's state_dict (plain keys, no `module.` prefix) with
   safetensors.torch.save_file to --out — a file `nnlab mnist eval --model … --checkpoint` reads — and evaluates
   it again.

Prints one JSON object: device, torch, ranks, backend, before/after ({accuracy, confusion}), train_seconds.
MNIST comes from $MNIST_DIR. Run by bench/gpu_roundtrip.sh. `--device cpu` runs the same steps on the CPU (gloo),
to try the script on a machine without a GPU.
"""

import argparse
import json
import os
import socket
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_reference import evaluate, exported_module, split  # noqa: E402


def float32_only():
    """TF32 off: convolutions and matrix products on the GPU in float32, so predictions match nnlab's."""
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


def rank_device(args, backend, rank):
    """The device of one rank: its own GPU under NCCL, GPU 0 for every rank under gloo, or the CPU."""
    if args.device == "cpu":
        return torch.device("cpu")
    gpu = rank if backend == "nccl" else 0
    torch.cuda.set_device(gpu)
    return torch.device("cuda", gpu)


def worker(rank, args, backend, port, results):
    float32_only()
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group(backend, rank=rank, world_size=args.ranks)
    device = rank_device(args, backend, rank)
    torch.manual_seed(args.seed)
    module = exported_module(args.module)
    model = module.Net()
    module.load_nnlab_checkpoint(model, args.checkpoint)
    model = torch.nn.parallel.DistributedDataParallel(
        model.to(device), device_ids=[device.index] if device.type == "cuda" else None
    )
    x, y = split("train", device)
    sampler = torch.utils.data.DistributedSampler(range(len(y)), num_replicas=args.ranks, rank=rank, seed=args.seed)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    if device.type == "cuda":
        torch.cuda.synchronize()
    dist.barrier()
    start = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        order = torch.tensor(list(sampler), device=device)
        model.train()
        for i in range(0, len(order), args.batch_size):
            batch = order[i : i + args.batch_size]
            opt.zero_grad(set_to_none=True)
            F.nll_loss(model(x[batch]), y[batch]).backward()
            opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    dist.barrier()
    if rank == 0:
        from safetensors.torch import save_file

        seconds = time.perf_counter() - start
        state = {k: v.detach().cpu().contiguous() for k, v in model.module.state_dict().items()}
        save_file(state, args.out)
        results.put({"train_seconds": seconds, "after": evaluate(model.module, device)})
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--module", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("pytorch_gpu_ddp.py: no CUDA GPU is visible to PyTorch (--device cpu runs on the CPU)")
    if min(args.ranks, args.epochs, args.batch_size) < 1:
        sys.exit("pytorch_gpu_ddp.py: --ranks, --epochs and --batch-size must be at least 1")
    float32_only()
    device = torch.device(args.device)
    module = exported_module(args.module)
    model = module.Net()
    module.load_nnlab_checkpoint(model, args.checkpoint)
    before = evaluate(model.to(device), device)

    backend = "nccl" if args.device == "cuda" and torch.cuda.device_count() >= args.ranks else "gloo"
    context = mp.get_context("spawn")
    results = context.SimpleQueue()
    mp.spawn(worker, args=(args, backend, free_port(), results), nprocs=args.ranks, join=True)
    trained = results.get()
    print(
        json.dumps(
            {
                "device": torch.cuda.get_device_name(0) if args.device == "cuda" else "CPU",
                "gpus": torch.cuda.device_count() if args.device == "cuda" else 0,
                "torch": torch.__version__,
                "ranks": args.ranks,
                "backend": backend,
                "before": before,
                **trained,
            }
        )
    )


if __name__ == "__main__":
    main()
