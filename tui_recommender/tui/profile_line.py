"""The texts about the chosen profile: its summary line above the list and the popular <->
niche dial in the status line."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui_recommender.app.service import UserSummary

NOVELTY_STEPS = (0.0, 0.25, 0.5, 0.75, 1.0)  # the dial's stops, popular to niche


def next_novelty(current: float) -> float:
    """The dial's next stop above `current`, wrapping from niche back to popular."""
    return next((step for step in NOVELTY_STEPS if step > current + 1e-9), NOVELTY_STEPS[0])


def novelty_text(novelty: float) -> str:
    """`popular ●──── niche` with the knob at `novelty` (0..1)."""
    knob = round(novelty * (len(NOVELTY_STEPS) - 1))
    return "popular " + "".join("●" if i == knob else "─" for i in range(len(NOVELTY_STEPS))) + " niche"


def summary_text(summary: UserSummary) -> str:
    """`User 7 · 15 ratings · mean 3.9★ · likes Drama, Comedy`."""
    parts = [f"User {summary.user_id}"]
    if summary.n_ratings == 0:
        parts.append("new profile, no ratings yet: popular movies first")
    else:
        parts.append(f"{summary.n_ratings} rating{'s' if summary.n_ratings != 1 else ''}")
        if summary.mean_rating is not None:
            parts.append(f"mean {summary.mean_rating:.1f}★")
        if summary.top_genres:
            parts.append("likes " + ", ".join(summary.top_genres))
        if summary.n_liked == 0:
            parts.append(f"none {summary.like_threshold:g}★ or more yet, so popular movies first")
    return " · ".join(parts)
