"""The delimited tables of a dataset, read and checked cell by cell: each row keeps its
1-based line in the file, and the first bad cell of a column is reported as one `DataError`
naming the file, the line and the value as written."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from tui_recommender.core.errors import DataError
from tui_recommender.core.ids import id_problem, valid_id_mask
from tui_recommender.core.private_files import read_regular
from tui_recommender.core.rating_scale import RatingScale
from tui_recommender.core.text import LINE_CHARS, shorten, shorten_path

_PARSER_LINE = re.compile(r"line (\d+)")
# Lines end at "\n"; carriage returns right before it are part of the line end (CRLF files,
# and "\r\r\n" from a second LF-to-CRLF conversion). A lone "\r" elsewhere is data, so line
# numbers are the ones `wc -l`, `sed -n Np` and editors show.
_LINE_END = re.compile(rb"\r+\n")
MAX_DATASET_FILE_BYTES = 4 << 30  # 4 GiB: ml-latest's ratings.csv is 0.9 GB; no FIFO or device is read
ID_COLUMNS = frozenset({"userId", "movieId"})  # written as digits only (see `ids`)
TIMESTAMP_LIMIT = 2**63  # seconds; exclusive, as int64 holds them (2.0**63 is exact in float64)


def unix_lines(data: bytes) -> bytes:
    """`data` with "\n" line ends (see `_LINE_END`) and no blank lines at the end."""
    if b"\r" in data:
        # No "\n" at all: a classic Mac file, whose lines end with a lone "\r".
        data = _LINE_END.sub(b"\n", data) if b"\n" in data else data.replace(b"\r", b"\n")
    return data.rstrip(b"\n")


def _without_blank_end(data: bytes) -> bytes:
    """`unix_lines(data)`, but one final "\n" is kept rather than copying a large file to drop
    it (the parser reads it as the end of the last line, not as a blank line)."""
    if b"\r" in data or data.endswith(b"\n\n") or not data.endswith(b"\n"):
        return unix_lines(data)
    return data


def read_file(file: Path) -> bytes:
    """The bytes of a dataset file; `DataError` (one line) when it cannot be read, is not a
    regular file or is over `MAX_DATASET_FILE_BYTES`."""
    try:
        return read_regular(file, MAX_DATASET_FILE_BYTES)
    except OSError as error:
        raise DataError(f"cannot read {shorten_path(file)}: {error.strerror or error}") from None


def next_row(rows: Iterator[list[str]], file: object) -> list[str] | None:
    """The next row of a `csv.reader`, None at its end; a field longer than the csv
    module's limit (131,072 characters) or a NUL byte is a `DataError` naming the line."""
    try:
        return next(rows, None)
    except csv.Error as error:
        limit = "field larger than field limit" in str(error)
        problem = f"a field is longer than {csv.field_size_limit():,} characters" if limit else str(error)
        raise DataError(f"{file} line {getattr(rows, 'line_num', '?')}: {problem}") from None


def read_table(
    data: bytes,
    file: str,
    sep: str,
    columns: tuple[str, ...],
    text: tuple[str, ...],
    header: bool,
    encoding: str = "utf-8",
    on_read: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Read a delimited file into `columns`; the index is each row's 1-based line in the file.

    The header line, if any, must equal `columns`. `text` columns are str ("" where empty);
    the others are parsed as numbers by the C parser (NaN where empty) and stay str only
    where some cell is not a number, which the callers then report. Lines end with "\n" or
    "\r\n"; blank lines at the end of the file are ignored. `on_read` gets the number of
    bytes the parser takes each time it reads on (for a progress bar)."""
    data = _without_blank_end(data)
    if header:
        end = data.find(b"\n")
        first = data[: end if end >= 0 else len(data)].decode(encoding, errors="replace")
        first = first.lstrip("\ufeff").rstrip("\r")
        if first.split(sep) != list(columns):
            expected = sep.join(columns)
            raise DataError(f"{file} line 1: expected header {expected!r}, found {shorten(first, LINE_CHARS)!r}")
    positions = {name: k for k, name in enumerate(columns)}

    def parse(dtype: dict[int, type], usecols: list[int] | None = None) -> pd.DataFrame:
        return pd.read_csv(
            io.BytesIO(data) if on_read is None or usecols is not None else _Reading(data, on_read),
            sep=sep,
            header=None,
            skiprows=1 if header else 0,
            usecols=usecols,
            dtype=dtype,
            keep_default_na=False,
            na_values={k: [""] for name, k in positions.items() if name not in text},
            skip_blank_lines=False,  # keeps row k on file line k + 1 (+ 1 for the header)
            encoding=encoding,
            quoting=csv.QUOTE_MINIMAL if sep == "," else csv.QUOTE_NONE,
            lineterminator="\n",  # a lone "\r" is data, not a line end (see _LINE_END)
        )

    try:
        table = parse({positions[name]: str for name in text})
        # Ids the C parser did not read as integers ("1.0", "1e0", an empty cell): as written,
        # so that `id_cells` refuses them as `ids` says (only a file with such a cell pays).
        loose = [k for name, k in positions.items() if name in ID_COLUMNS and name not in text]
        loose = [k for k in loose if k < table.shape[1] and not pd.api.types.is_integer_dtype(table[k])]
        if loose:
            exact = parse(dict.fromkeys(loose, str), usecols=loose)
            for k in loose:
                table[k] = exact[k]
    except pd.errors.EmptyDataError:
        blank = data.split(b"\n").index(b"") + 1 if b"\n\n" in data or data.startswith(b"\n") else None
        raise DataError(f"{file} line {blank} is blank" if blank else f"{file} holds no data") from None
    except pd.errors.ParserError as error:
        raise DataError(_parser_message(file, error, len(columns))) from None
    except UnicodeDecodeError:
        raise DataError(_decode_message(data, file, encoding)) from None
    first_line = 2 if header else 1
    if table.shape[1] != len(columns):
        raise DataError(f"{file} line {first_line}: expected {len(columns)} fields, found {table.shape[1]}")
    table.columns = list(columns)
    table.index = pd.RangeIndex(first_line, first_line + len(table))
    return table


class _Reading(io.BytesIO):
    """`data` as a stream that tells `on_read` how many bytes each read took."""

    def __init__(self, data: bytes, on_read: Callable[[int], None]) -> None:
        super().__init__(data)
        self._on_read = on_read

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self._on_read(len(chunk))
        return chunk


def _decode_message(data: bytes, file: str, encoding: str) -> str:
    """Where `data` first stops being `encoding` text, by line (1-based, as in the file)."""
    try:
        data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return f"{file} line {line}: byte {error.start} is not valid {encoding} text"
    return f"{file}: is not valid {encoding} text"


def _parser_message(file: str, error: pd.errors.ParserError, n_fields: int) -> str:
    match = _PARSER_LINE.search(str(error))
    if match:
        return f"{file} line {match.group(1)}: expected {n_fields} fields"
    return f"{file}: cannot be parsed ({str(error).splitlines()[-1]})"


def first_bad(bad: pd.Series) -> int:
    """The line number (index label) of the first True in `bad`."""
    return int(bad.idxmax())


def numbers(cells: pd.Series) -> pd.Series:
    """`cells` as numbers, NaN where a cell is not one; the slow path runs only on bad files."""
    return cells if pd.api.types.is_numeric_dtype(cells) else pd.to_numeric(cells, errors="coerce")


def cell_problem(cells: pd.Series, line: int, what: str) -> str:
    """`what` after the cell on `line` as written, or "is missing" for an empty cell."""
    value = cells[line]
    if pd.isna(value):
        return "is missing"
    text = f"{value:.15g}" if isinstance(value, float) else str(value)
    return f"{shorten(text)!r} {what}"


def id_cells(cells: pd.Series, file: str, column: str) -> pd.Series:
    """Parse user or movie ids (int64) by the rule in `ids`, naming the first bad line."""
    values = numbers(cells)
    bad = ~valid_id_mask(values.to_numpy(dtype=np.float64, na_value=np.nan))
    if not pd.api.types.is_numeric_dtype(cells):  # as written: digits only, so never "1.0" or "1e0"
        bad |= ~cells.str.fullmatch(r"\s*[0-9]+\s*").fillna(False).to_numpy(dtype=bool)
    if bad.any():
        line = first_bad(pd.Series(bad, index=cells.index))
        written = cells[line]
        problem = id_problem(written) if isinstance(written, str) else _cell_id_problem(values[line])
        raise DataError(f"{file} line {line}: {column} {cell_problem(cells, line, problem or '')}")
    return values.astype("int64")


def _cell_id_problem(value: object) -> str:
    """Why one parsed cell (a number, or text that is not one) is not a valid id."""
    if isinstance(value, (float, np.floating)):
        whole = np.isfinite(value) and float(value).is_integer()
        return id_problem(int(value)) or "" if whole else "is not a whole number"
    return id_problem(value) or ""


def timestamp_cells(cells: pd.Series, file: str) -> pd.Series:
    """Parse timestamps (int64 seconds, 0 or more), naming the first bad line."""
    values = numbers(cells)
    bad = values.isna() | (values < 0) | (values % 1 != 0) | (values >= TIMESTAMP_LIMIT)
    if bad.any():
        line = first_bad(bad)
        raise DataError(
            f"{file} line {line}: timestamp {cell_problem(cells, line, 'is not a whole number of seconds')}"
        )
    return values.astype("int64")


def star_cells(cells: pd.Series, file: str, scale: RatingScale) -> pd.Series:
    """Parse ratings (float32 stars) on `scale`, naming the first bad line."""
    values = numbers(cells)
    checks = (
        (values.isna(), "is not a number"),
        (pd.Series(~scale.in_range(values), index=values.index), f"is outside {scale.low:.1f} to {scale.high:.1f}"),
        (pd.Series(~scale.on_step(values), index=values.index), f"is off the {scale.step:g}-star step"),
    )
    for bad, what in checks:
        if bad.any():
            line = first_bad(bad)
            raise DataError(f"{file} line {line}: rating {cell_problem(cells, line, what)}")
    return values.astype("float32")


def unique_ids(ids: pd.Series, file: str) -> None:
    repeated = ids.duplicated()
    if repeated.any():
        line = first_bad(repeated)
        first = int(ids.index[ids == ids[line]][0])
        raise DataError(f"{file} line {line}: movieId {ids[line]} is listed twice (first on line {first})")
