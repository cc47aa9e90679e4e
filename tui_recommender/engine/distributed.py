"""Training across processes and machines, as torchrun launches it: each process reads its
place (RANK, LOCAL_RANK, WORLD_SIZE; torchrun sets them, and MASTER_ADDR/MASTER_PORT for
the rendezvous), joins one process group (gloo on the CPU, NCCL on CUDA GPUs), and every
training step's users (or edges) are shared between the ranks (`lightgcn.steps`). Without
those variables a process trains alone, as before. No torch at import: the command line
reads its place before training starts."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta

from tui_recommender.core.errors import ConfigError, DistributedError
from tui_recommender.core.text import shorten

# Longest wait on another rank (a collective, the rendezvous) before giving up, so the
# survivors of a rank that hangs do not wait forever; a rank that dies is noticed at once.
TIMEOUT = timedelta(minutes=5)


@dataclass(frozen=True)
class Team:
    """This process's place in a training: rank `rank` of `world_size` (rank 0 alone
    writes files and prints), the `local_rank`-th on its machine (its GPU)."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Team:
        """The team torchrun's variables describe; alone (rank 0 of 1) without them.
        Raises `ConfigError` (one line) for values that are not a rank in a world."""
        if "WORLD_SIZE" not in environ:
            return cls()
        try:
            team = cls(int(environ.get("RANK", "0")), int(environ.get("LOCAL_RANK", "0")), int(environ["WORLD_SIZE"]))
        except ValueError:
            team = cls(-1, -1, -1)
        if not (team.world_size >= 1 and 0 <= team.rank < team.world_size and team.local_rank >= 0):
            shown = {name: environ.get(name) for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE")}
            raise ConfigError(f"the launcher's {shorten(repr(shown))} is not a rank in a world of processes")
        return team

    @property
    def primary(self) -> bool:
        """Whether this process writes the files and prints (rank 0)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def share(self, n: int) -> slice:
        """This rank's contiguous part of `n` entries: sizes differ by at most one, the
        first ranks taking the extra ones (as numpy's array_split)."""
        base, extra = divmod(n, self.world_size)
        start = self.rank * base + min(self.rank, extra)
        return slice(start, start + base + (self.rank < extra))

    def check_split(self, step: int, what: str) -> None:
        """Raise `ConfigError` when a step of `step` `what` (e.g. "users") leaves a rank
        with nothing to do."""
        if step < self.world_size:
            raise ConfigError(
                f"{self.world_size} processes cannot share a training step of {step} {what}:"
                f" use at most {step} processes, or larger steps"
            )

    @contextmanager
    def session(self, device_name: str) -> Iterator[None]:
        """The process group of this training, joined on entry and left on exit (nothing
        when alone). A failed collective or the launcher's SIGTERM (another rank failed)
        becomes a `DistributedError`: one line, and the caller writes nothing."""
        if not self.distributed:
            yield
            return
        import torch
        import torch.distributed as dist

        cuda = device_name != "cpu" and not device_name.startswith("mps") and torch.cuda.is_available()
        if cuda:  # each rank on its own GPU: "auto" and "cuda" resolve to the current one
            torch.cuda.set_device(self.local_rank)

        def stopped(signum: int, frame: object) -> None:
            raise DistributedError(f"rank {self.rank}: stopped by the launcher (another rank failed); nothing written")

        previous = signal.signal(signal.SIGTERM, stopped)
        try:
            dist.init_process_group("nccl" if cuda else "gloo", timeout=TIMEOUT)
            yield
            # Leave together, once rank 0 has saved: a rank that tore its group down while rank 0
            # still saved aborted once in gloo's teardown; a rank gone after the work changes nothing
            with suppress(RuntimeError):
                dist.barrier()
        except RuntimeError as error:  # torch's collective failures (DistBackendError, gloo's)
            # gloo's messages start with its source location: "[.../pair.cc:534] Connection closed by peer"
            reason = shorten(re.sub(r"^\[[^\]]*\]\s*", "", str(error).strip().split("\n")[0]) or type(error).__name__)
            raise DistributedError(
                f"rank {self.rank}: another rank of this training stopped or cannot be reached ({reason}); nothing written"
            ) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
            if dist.is_initialized():
                dist.destroy_process_group()

    def broadcast(self, value: object) -> object:
        """Rank 0's `value` (any picklable object) on every rank."""
        if not self.distributed:
            return value
        import torch.distributed as dist

        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]


SOLO = Team()
