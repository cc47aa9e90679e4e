"""tui-recommender: a keyboard-driven terminal movie recommender built on LightGCN."""

__version__ = "0.1.0"
