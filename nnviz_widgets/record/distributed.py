"""Which process records under torch.distributed (torchrun, DDP, FSDP, Lightning, accelerate): global rank 0 only.

Every rank runs the same script, so every rank builds a Recorder; only rank 0's evaluates the model and writes.
The others skip all capture work, so nothing waits on them and no two processes write one run.
"""

from __future__ import annotations

import os


def global_rank() -> int:
    """This process's global rank: from torch.distributed once it is initialised, else from ``RANK`` (which
    torchrun, Lightning and accelerate set before it is); 0 when the process is not distributed.

    >>> global_rank()
    0
    """
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return int(dist.get_rank())
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0
