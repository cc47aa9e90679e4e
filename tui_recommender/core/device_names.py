"""One rule for device names (`--device`, `TUI_RECOMMENDER_DEVICE`, the config file's
`device`, `TrainConfig.device`), checked without torch: "auto", "cpu", "cuda", "cuda:N" or
"mps". Whether this machine has the device is the engine's question (`engine.device`)."""

from __future__ import annotations

import re

DEVICE_NAMES = ("auto", "cpu", "cuda", "cuda:N", "mps")
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:[0-9]{1,4})?")


def device_problem(name: object) -> str | None:
    """Why `name` is not a device name (see DEVICE_NAMES), or None."""
    if isinstance(name, str) and _DEVICE.fullmatch(name):
        return None
    return f"not a device ({', '.join(DEVICE_NAMES)})"
