"""Small helpers the training scripts share: seeding and config-dataclass command-line options."""
import random
import shutil
import sys
from dataclasses import fields

import click
import numpy as np
import torch

from normalizer.table import CsvError

from .checkpoint import CheckpointError


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


def train_and_export(train, export: str | None) -> None:
    """Run train() -> best checkpoint path; unusable CSVs or checkpoints become a one-line
    error; the best checkpoint is copied to `export` when given."""
    try:
        best = train()
    except (CsvError, CheckpointError) as e:
        raise click.ClickException(str(e)) from None
    if export:
        shutil.copy(best, export)
        print(f"exported {best} -> {export}", file=sys.stderr)
