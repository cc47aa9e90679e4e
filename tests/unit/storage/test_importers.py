"""Reading IMDb, Letterboxd and our own exports, matched to the dataset (tui_recommender.storage.importers).

The fixtures in tests/fixtures/imports are written by hand in each format's public column
layout; no real person's export."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED_ML_SMALL
from tests.paths import FIXTURES as TEST_FIXTURES
from tui_recommender.core.errors import DataError
from tui_recommender.data.movielens import HALF_STARS, WHOLE_STARS, MovieLensData, load_dataset, load_links
from tui_recommender.storage.import_report import MATCHED_SHOWN, report_lines
from tui_recommender.storage.importers import IMDB, LETTERBOXD, OWN, MovieMatcher, read_import, to_scale

FIXTURES = TEST_FIXTURES / "imports"
IMDB_HEADER = "Const,Your Rating,Date Rated,Title,Original Title,URL,Title Type,IMDb Rating,Runtime (mins),Year,Genres,Num Votes,Release Date,Directors"
LETTERBOXD_HEADER = "Date,Name,Year,Letterboxd URI,Rating"


@pytest.fixture(scope="module")
def real() -> MovieLensData:
    if not (SHARED_ML_SMALL / "links.csv").is_file():
        pytest.skip("../shared/datasets/ml-latest-small is not present")
    return load_dataset(SHARED_ML_SMALL)


@pytest.fixture(scope="module")
def with_links(real: MovieLensData) -> MovieMatcher:
    return MovieMatcher(real.movies, load_links(real.path))


@pytest.fixture(scope="module")
def by_title(real: MovieLensData) -> MovieMatcher:
    return MovieMatcher(real.movies, None)


def _read(path: Path, matcher: MovieMatcher, data: MovieLensData, user: int | None = 611, scale=None):
    return read_import(path, matcher, scale or data.scale, set(data.movies.index.tolist()), user)


def _stars(plan) -> dict[int, float]:
    return dict(zip(plan.ratings["movieId"].tolist(), plan.ratings["rating"].tolist()))


# ---- IMDb ----------------------------------------------------------------------------------


@pytest.mark.realdata
def test_imdb_export_matches_by_imdb_id_and_halves_the_stars(real, with_links) -> None:
    plan = _read(FIXTURES / "imdb_ratings.csv", with_links, real)
    assert plan.source == IMDB
    # Toy Story 9 -> 4.5, Se7en 8 -> 4, The Godfather 10 -> 5, Das Boot 7 -> 3.5,
    # A Close Shave (a Short) 6 -> 3, Amélie 1 -> 0.5.
    assert _stars(plan) == {1: 4.5, 47: 4.0, 858: 5.0, 1233: 3.5, 745: 3.0, 4973: 0.5}
    assert set(plan.ratings["userId"]) == {611}
    assert sorted((e.title, e.why) for e in plan.skipped) == [
        ("Breaking Bad", "TV Series"),
        ("Ozymandias", "TV Episode"),
        ("The Wire", "TV Series"),
    ]
    assert [(e.line, e.title, e.year) for e in plan.unmatched] == [(10, "Oppenheimer", 2023)]
    # Date Rated, as midnight UTC.
    toy_story = plan.ratings.loc[plan.ratings["movieId"] == 1, "timestamp"].item()
    assert pd.Timestamp(toy_story, unit="s") == pd.Timestamp("2024-03-02")


@pytest.mark.realdata
def test_imdb_export_without_links_matches_by_title_and_year(real, by_title) -> None:
    plan = _read(FIXTURES / "imdb_ratings.csv", by_title, real)
    assert _stars(plan) == {1: 4.5, 47: 4.0, 858: 5.0, 1233: 3.5, 4973: 0.5}
    assert {e.title for e in plan.unmatched} == {"A Close Shave", "Oppenheimer"}


@pytest.mark.realdata
def test_old_imdb_export_in_windows_1252_with_lowercase_types(real, with_links) -> None:
    plan = _read(FIXTURES / "imdb_ratings_2019_cp1252.csv", with_links, real)
    assert _stars(plan) == {4973: 4.5, 3267: 2.5}
    assert [(e.title, e.why) for e in plan.skipped] == [("Game of Thrones", "tvSeries")]


@pytest.mark.realdata
def test_imdb_stars_round_to_whole_stars_on_whole_star_data(real, with_links) -> None:
    plan = _read(FIXTURES / "imdb_ratings.csv", with_links, real, scale=WHOLE_STARS)
    # 9/2 = 4.5 -> 5, 7/2 = 3.5 -> 4, 1/2 = 0.5 -> 1 (the scale's lowest).
    assert _stars(plan) == {1: 5.0, 47: 4.0, 858: 5.0, 1233: 4.0, 745: 3.0, 4973: 1.0}


@pytest.mark.parametrize(
    "stars, scale, expected",
    [
        (4.5, HALF_STARS, 4.5),
        (4.5, WHOLE_STARS, 5.0),
        (2.5, WHOLE_STARS, 3.0),
        (0.5, WHOLE_STARS, 1.0),
        (5.0, WHOLE_STARS, 5.0),
        (0.5, HALF_STARS, 0.5),
    ],
)
def test_to_scale(stars: float, scale, expected: float) -> None:
    assert to_scale(stars, scale) == expected


@given(st.integers(1, 10), st.sampled_from([HALF_STARS, WHOLE_STARS]))
def test_every_imdb_rating_lands_on_the_scale_within_half_a_step(imdb: int, scale) -> None:
    stars = to_scale(imdb / 2, scale)
    assert scale.validate(stars) == stars
    assert abs(stars - imdb / 2) <= scale.step / 2 or stars == scale.low


# ---- Letterboxd ----------------------------------------------------------------------------


@pytest.mark.realdata
def test_letterboxd_ratings_match_by_title_and_year(real, with_links) -> None:
    plan = _read(FIXTURES / "letterboxd_ratings.csv", with_links, real)
    assert plan.source == LETTERBOXD
    assert _stars(plan) == {
        47: 4.5,  # Se7en = Seven (a.k.a. Se7en)
        4973: 5.0,  # Amélie = Amelie (Fabuleux destin d'Amélie Poulain, Le)
        1201: 4.0,  # The Good, the Bad and the Ugly
        1233: 3.5,  # Das Boot = Boot, Das (Boat, The)
        318: 5.0,  # The Shawshank Redemption, written 1995: a year off
        8957: 2.0,  # Saw 2004, not the 2003 short of the same name
        8848: 4.5,  # I Vitelloni = Vitelloni, I
        293: 0.5,  # Léon: The Professional
    }
    unmatched = {e.title: e.why for e in plan.unmatched}
    assert unmatched["Oppenheimer"] == "not in the dataset"
    assert unmatched["Emma"] == "2 movies match: Emma (1996) #838, Emma (1996) #26958"  # never guessed


@pytest.mark.realdata
def test_letterboxd_diary_skips_unrated_rows(real, with_links) -> None:
    plan = _read(FIXTURES / "letterboxd_diary.csv", with_links, real)
    assert _stars(plan) == {2571: 4.5}
    assert [(e.title, e.why) for e in plan.skipped] == [("Pulp Fiction", "no rating")]


@pytest.mark.realdata
def test_the_last_row_for_a_movie_wins(tmp_path, real, with_links) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(f"{LETTERBOXD_HEADER}\n2024-01-01,Se7en,1995,u,2\n2024-01-02,Seven,1995,u,4.5\n")
    assert _stars(_read(path, with_links, real)) == {47: 4.5}


# ---- our own export ------------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["own_export.csv", "own_export.json"])
def test_own_export_needs_no_user(real, with_links, name: str) -> None:
    plan = _read(FIXTURES / name, with_links, real, user=None)
    assert plan.source == OWN
    assert len(plan.ratings) == 2 and len(plan.users) >= 1


@pytest.mark.realdata
def test_own_export_of_one_user_moves_to_the_given_user(real, with_links) -> None:
    plan = _read(FIXTURES / "own_export.csv", with_links, real, user=12)
    assert plan.users == [12]


@pytest.mark.realdata
def test_own_export_of_several_users_refuses_a_user(real, with_links) -> None:
    with pytest.raises(DataError, match="holds ratings of 2 users"):
        _read(FIXTURES / "own_export.json", with_links, real, user=12)


# ---- bad input -----------------------------------------------------------------------------


@pytest.mark.realdata
def test_unknown_format_names_the_header_and_the_known_formats(tmp_path, real, with_links) -> None:
    path = tmp_path / "watched.csv"
    path.write_text("Position,Film,Seen\n1,Alien,yes\n")
    with pytest.raises(DataError) as caught:
        _read(path, with_links, real)
    message = str(caught.value)
    assert "\n" not in message
    assert "'Position,Film,Seen'" in message
    assert all(name in message for name in (IMDB, LETTERBOXD, OWN))


@pytest.mark.realdata
def test_an_imdb_file_needs_a_user(real, with_links) -> None:
    with pytest.raises(DataError, match=r"is an IMDb ratings file: .*--user"):
        _read(FIXTURES / "imdb_ratings.csv", with_links, real, user=None)


def test_a_letterboxd_file_needs_a_user_and_is_named_with_its_article(tmp_path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("Date,Name,Year,Letterboxd URI,Rating\n2024-01-01,Emma,1996,u,4\n")
    with pytest.raises(DataError, match=r"ratings\.csv is a Letterboxd ratings file: say which user"):
        read_import(path, MovieMatcher(_MOVIES, None), HALF_STARS, set(_MOVIES.index), None)


@pytest.mark.parametrize(
    "header, rows, message",
    [
        (
            IMDB_HEADER,
            [
                "tt0114709,9,2024-03-02,Toy Story,,u,Movie,8,81,1995,,1,,",
                "tt0114369,11,2024-03-01,Se7en,,u,Movie,8,1,1995,,1,,",
            ],
            r"line 3: Your Rating '11' is not a whole number from 1 to 10",
        ),
        (
            IMDB_HEADER,
            ["nm0000123,9,2024-03-02,Toy Story,,u,Movie,8,81,1995,,1,,"],
            r"line 2: Const 'nm0000123' is not an IMDb id",
        ),
        (
            IMDB_HEADER,
            ["tt0114709,9,02/03/2024,Toy Story,,u,Movie,8,81,1995,,1,,"],
            r"line 2: Date Rated '02/03/2024' is not a date",
        ),
        (
            IMDB_HEADER,
            ["tt0114709,9,2024-03-02,Toy Story,,u,Movie,8,81,nineteen,,1,,"],
            r"line 2: Year 'nineteen' is not a year",
        ),
        (
            LETTERBOXD_HEADER,
            ["2024-01-01,Se7en,1995,u,4", "2024-01-01,Alien,1979,u,6"],
            r"line 3: Rating '6' is not 0.5 to 5",
        ),
        (LETTERBOXD_HEADER, ["2024-01-01,Se7en,1995,u,4.25"], r"line 2: Rating '4.25' is not 0.5 to 5"),
        (LETTERBOXD_HEADER, ["2024-01-01,,1995,u,4"], r"line 2: Name is empty"),
        (
            LETTERBOXD_HEADER,
            ["2024-01-01,Se7en,1995,u,4", "", "2024-01-01,Se7en,1995,4"],
            r"line 4: 4 fields, the header has 5",
        ),
    ],
)
@pytest.mark.realdata
def test_a_malformed_row_names_the_file_and_line(
    tmp_path, real, with_links, header: str, rows: list[str], message: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    with pytest.raises(DataError, match=f"{path}.* {message}"):
        _read(path, with_links, real)


@pytest.mark.realdata
@pytest.mark.parametrize("content", [b"", b"\n\n"])
def test_an_empty_file_is_a_data_error(tmp_path, real, with_links, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match="is empty"):
        _read(path, with_links, real)


@pytest.mark.realdata
def test_a_missing_file_is_a_data_error(tmp_path, real, with_links) -> None:
    with pytest.raises(DataError, match="cannot read"):
        _read(tmp_path / "nope.csv", with_links, real)


# ---- report --------------------------------------------------------------------------------


@pytest.mark.realdata
def test_report_counts_imported_skipped_and_lists_unmatched(real, with_links) -> None:
    plan = _read(FIXTURES / "imdb_ratings.csv", with_links, real)
    lines = report_lines(plan, stored=True)
    assert lines[0] == "imdb_ratings.csv (IMDb ratings): imported 6 ratings for user 611"
    assert lines[1] == "skipped 3 (not films or not rated): 2 TV Series, 1 TV Episode"
    assert lines[2:] == ["unmatched 1:", "  line 10: Oppenheimer (2023): not in the dataset"]
    assert report_lines(plan, stored=False)[0].endswith("would import 6 ratings for user 611")


def test_a_preview_lists_what_it_matched_up_to_a_bound(tmp_path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("Date,Name,Year,Letterboxd URI,Rating\n" + "2024-01-01,The Godfather,1972,u,4.5\n")
    plan = read_import(path, MovieMatcher(_MOVIES, None), HALF_STARS, set(_MOVIES.index), 3)
    plan = replace(plan, titles={858: "The Godfather (1972) #858"})
    assert report_lines(plan, stored=False)[1:] == ["matched:", "  The Godfather (1972) #858: 4.5★"]
    assert report_lines(plan, stored=True)[1:] == []  # the stored report counts, it does not list
    many = replace(plan, ratings=pd.concat([plan.ratings] * (MATCHED_SHOWN + 3), ignore_index=True))
    lines = report_lines(many, stored=False)
    assert len(lines) == 2 + MATCHED_SHOWN + 1 and lines[-1] == "  and 3 more"


# ---- properties ----------------------------------------------------------------------------

_MOVIES = pd.DataFrame(
    {
        "title": ["Seven (a.k.a. Se7en)", "Godfather, The", "Emma", "Emma", "Boot, Das (Boat, The)"],
        "year": pd.array([1995, 1972, 1996, 1996, 1981], dtype="Int64"),
    },
    index=pd.Index([47, 858, 838, 26958, 1233], name="movieId"),
)
_NAMES = st.one_of(
    st.sampled_from(["Se7en", "The Godfather", "Emma", "Das Boot", "Alien"]),
    st.text(min_size=1, max_size=30).filter(str.strip),
)
_ROWS = st.lists(
    st.tuples(_NAMES, st.one_of(st.none(), st.integers(1890, 2030)), st.sampled_from(["", "0.5", "3", "4.5", "5"])),
    max_size=20,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(_ROWS)
def test_every_letterboxd_row_is_imported_skipped_or_unmatched(tmp_path, rows) -> None:
    out = io.StringIO()
    writer = csv.writer(out)  # "\r\n" rows: a name holding \r or \n gets quoted
    writer.writerow(LETTERBOXD_HEADER.split(","))
    for name, year, stars in rows:
        writer.writerow(["2024-01-01", name, "" if year is None else year, "https://boxd.it/x", stars])
    path = tmp_path / "ratings.csv"
    path.write_bytes(out.getvalue().encode("utf-8"))
    try:
        plan = read_import(path, MovieMatcher(_MOVIES, None), HALF_STARS, set(_MOVIES.index), 1)
    except DataError as error:
        # Only a name that is all whitespace after csv quoting can make a row malformed.
        assert "Name is empty" in str(error)
        return
    matched_rows = len(rows) - len(plan.skipped) - len(plan.unmatched)
    assert len(plan.ratings) <= matched_rows
    assert set(plan.ratings["movieId"]) <= set(_MOVIES.index)
    assert len(plan.skipped) == sum(stars == "" for _, _, stars in rows)
    assert not any(e.why == "" for e in plan.unmatched)
    assert not {838, 26958} & set(plan.ratings["movieId"])  # two Emmas of 1996: never guessed


def test_links_are_read_where_the_dataset_has_them(tmp_path) -> None:
    assert load_links(tmp_path) is None
    (tmp_path / "links.csv").write_text("movieId,imdbId,tmdbId\n1,0114709,862\n2,0113497,\n")
    links = load_links(tmp_path)
    assert links["imdbId"].tolist() == ["0114709", "0113497"] and links["tmdbId"].isna().tolist() == [False, True]
    (tmp_path / "links.csv").write_text("movieId,imdbId,tmdbId\n1,0114709,862\nx,0113497,8844\n")
    with pytest.raises(DataError, match=r"links\.csv line 3: movieId 'x'"):
        load_links(tmp_path)


@pytest.mark.realdata
@pytest.mark.parametrize("user", ["0", "99999999999", "-1", "1e3"])
def test_own_export_ids_follow_the_one_id_rule(tmp_path, real, with_links, user: str) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(f"userId,movieId,rating,timestamp\n7,1,4.5,5\n{user},1,4.5,5\n")
    with pytest.raises(DataError, match=f"line 3: userId '{user}'"):
        _read(path, with_links, real, user=None)
