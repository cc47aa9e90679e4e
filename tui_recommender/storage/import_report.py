"""What an import says, before it stores (the preview: what would be imported, the first
rows matched) and after: counts, what was skipped and why, every unmatched row."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from tui_recommender.storage.importers import ImportPlan

MATCHED_SHOWN = 20  # matched rows a preview lists


def report_lines(plan: ImportPlan, stored: bool) -> list[str]:
    """The import report: imported N (or "would import" before storing, then the first
    `MATCHED_SHOWN` of them with the dataset's title), skipped M (not films: by title type),
    unmatched K with each title and year."""
    removals = int(plan.ratings["rating"].isna().sum())  # our own export's removed ratings
    n = len(plan.ratings) - removals
    users = plan.users
    who = f" for user {users[0]}" if len(users) == 1 else f" for {len(users)} users" if users else ""
    verb = "imported" if stored else "would import"
    listed = f" and {len(plan.marks)} watchlist/not-interested entries" if len(plan.marks) else ""
    removed = f" and {removals} removal{'s' if removals != 1 else ''}" if removals else ""
    lines = [f"{plan.path.name} ({plan.source}): {verb} {n} rating{'s' if n != 1 else ''}{removed}{listed}{who}"]
    if not stored:
        lines += _matched_lines(plan)
    if plan.skipped:
        kinds: dict[str, int] = defaultdict(int)
        for entry in plan.skipped:
            kinds[entry.why] += 1
        detail = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items(), key=lambda kv: -kv[1]))
        lines.append(f"skipped {len(plan.skipped)} (not films or not rated): {detail}")
    if plan.unmatched:
        lines.append(f"unmatched {len(plan.unmatched)}:")
        lines += [f"  line {e.line}: {e.describe()}: {e.why}" for e in plan.unmatched]
    return lines


def _matched_lines(plan: ImportPlan) -> list[str]:
    """What a preview would store, one line per rating or list entry, `MATCHED_SHOWN` at most."""
    several = len(plan.users) > 1
    rows = [
        (user, movie, "removed" if np.isnan(stars) else f"{stars:g}★")
        for user, movie, stars in zip(plan.ratings["userId"], plan.ratings["movieId"], plan.ratings["rating"])
    ]
    rows += [
        (user, movie, name)
        for user, movie, name in zip(plan.marks["userId"], plan.marks["movieId"], plan.marks["list"])
    ]
    lines = [
        f"  {f'user {user}: ' if several else ''}{plan.titles.get(int(movie), f'#{movie}')}: {what}"
        for user, movie, what in rows[:MATCHED_SHOWN]
    ]
    if len(rows) > MATCHED_SHOWN:
        lines.append(f"  and {len(rows) - MATCHED_SHOWN} more")
    return ["matched:", *lines] if lines else []
