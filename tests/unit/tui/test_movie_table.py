"""Column widths of a movie table (`fit_widths`) down to a 40-column terminal."""

from __future__ import annotations

from tui_recommender.tui.components.movie_table import fit_widths
from tui_recommender.tui.components.recommendation_table import COLUMNS


def test_every_column_fits_a_wide_table() -> None:
    widths = fit_widths(COLUMNS, 120)
    assert sum(widths.values()) + 2 * len(COLUMNS) == 120
    assert widths["genres"] >= 6 and widths["why"] >= 16 and widths["title"] == max(widths.values())


def test_a_40_column_table_drops_genres_not_the_title() -> None:
    widths = fit_widths(COLUMNS, 37)  # 40 columns less the border and the scrollbar
    assert widths["genres"] == widths["why"] == 0
    assert widths["title"] >= 8 and widths["rated"] == 4 and widths["score"] == 5
