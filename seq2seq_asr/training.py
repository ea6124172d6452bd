"""Small helpers the training scripts share: seeding, config-dataclass command-line options,
and the runtime (device, mixed precision, torchrun / DistributedDataParallel)."""
import os
import random
import shutil
import sys
from dataclasses import dataclass, fields

import click
import numpy as np
import torch
import torch.distributed as dist

from normalizer.table import CsvError

from . import checkpoint


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def config_options(cls, skip=()):
    """click options for the fields of a config dataclass: --field-name VALUE."""
    def wrap(f):
        for field in reversed([x for x in fields(cls) if x.name not in skip]):
            f = click.option(f"--{field.name.replace('_', '-')}", field.name, type=field.type,
                             default=field.default, show_default=True)(f)
        return f
    return wrap


def train_and_export(train, export: str | None, half: bool = False) -> None:
    """Run train() -> best checkpoint path; unusable CSVs or checkpoints become a one-line
    error; the best checkpoint is copied to `export` when given, with half=True its weights in
    float16 (a recognizer only: checkpoint.save_half)."""
    try:
        best = train()
        if export:
            (checkpoint.save_half if half else shutil.copy)(best, export)
            print(f"exported {best} -> {export}{' (weights in float16)' if half else ''}", file=sys.stderr)
    except (CsvError, checkpoint.CheckpointError) as e:
        raise click.ClickException(str(e)) from None


@dataclass
class Runtime:
    """Where this process trains: its rank among `world` processes (torchrun sets RANK,
    WORLD_SIZE and LOCAL_RANK; a plain run is rank 0 of 1), its device, and whether it uses
    mixed precision (CUDA only)."""
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")
    amp: bool = False

    @property
    def main(self) -> bool:
        """Rank 0 writes checkpoints, plots and logs."""
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()

    def sum(self, *values: float) -> list[float]:
        """The sums of `values` over every process (the values themselves on one)."""
        if self.world == 1:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()

    def shard(self, items: list) -> list:
        """This rank's share of `items`; every rank gets the same count (a few left over are
        dropped), so no rank waits for gradients another never sends."""
        n = len(items) // self.world * self.world if self.world > 1 else len(items)
        return items[self.rank:n:self.world]

    def close(self) -> None:
        if self.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def setup_runtime(device: str = "auto", amp: bool = True, threads: int = 2) -> Runtime:
    """device: auto (this rank's GPU if CUDA is there, else the CPU), cpu, cuda or cuda:N.
    Under torchrun the process group is started here: nccl on GPUs, gloo on CPUs."""
    world, rank = int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("RANK", 0))
    local = int(os.environ.get("LOCAL_RANK", 0))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise click.ClickException("--device cuda: no CUDA GPU is visible to torch")
        dev = torch.device(device if ":" in device else f"cuda:{local % torch.cuda.device_count()}")
        torch.cuda.set_device(dev)
    else:
        dev = torch.device("cpu")
        torch.set_num_threads(max(1, threads // world))
    if world > 1:
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return Runtime(rank, world, dev, amp and dev.type == "cuda")


def distributed(model: torch.nn.Module, rt: Runtime) -> torch.nn.Module:
    """The model wrapped for DistributedDataParallel when there is more than one process."""
    if rt.world == 1:
        return model
    return torch.nn.parallel.DistributedDataParallel(
        model, device_ids=[rt.device.index] if rt.device.type == "cuda" else None)
