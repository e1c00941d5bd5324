"""The small LightningModule the Lightning tests train (in-process, and in each process of the DDP test, which
imports it with the repository root on PYTHONPATH)."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from torch import nn


class Module(pl.LightningModule):
    def __init__(self, sync_dist: bool = False):
        super().__init__()
        self.sync_dist = sync_dist  # DDP: average the logged loss over the ranks
        self.net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, _i):
        loss = nn.functional.cross_entropy(self(batch[0]), batch[1])
        self.log("train_loss", loss, on_epoch=True, on_step=False, sync_dist=self.sync_dist)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), 1e-2)
