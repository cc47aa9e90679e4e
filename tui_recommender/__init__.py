"""tui-recommender: a keyboard-driven terminal movie recommender built on LightGCN."""

import os

# Before torch loads: idle OpenMP threads sleep instead of spinning. Spinning made a
# fine-tune 2-10x slower whenever another process (or the UI thread) wanted a core.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
