"""Small helpers the training scripts share: seeding and config-dataclass command-line options."""
import random
from dataclasses import fields

import click
import numpy as np
import torch


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
