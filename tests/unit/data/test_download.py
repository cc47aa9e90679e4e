"""Downloads without the network: GroupLens zips served from file:// URLs, pip replaced by a
fake that drops a tiny wheel, and real fast failures against addresses that cannot answer."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from tests.synthetic import write_dat, write_movielens, write_zip
from tui_recommender.core.errors import DownloadError
from tui_recommender.data import cache
from tui_recommender.data import download as dl
from tui_recommender.data.movielens import WHOLE_STARS, load_dataset

INTER = (
    "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "196\t242\t3\t881250949\n"
    "186\t302\t3\t891717742\n"
    "22\t242\t1\t878887116\n"
)
ITEM = (
    "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
    "242\tKolya\t1996\tComedy\n"
    "267\tunkonwn\tunkonwn\tunknown\n"
    "302\tMisérables, Les\t1995\tDrama Musical\n"
    '303\tThe "Quoted" One\t1997\tChildren\'s Film-Noir Sci-Fi\n'
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pin(monkeypatch: pytest.MonkeyPatch, name: str, **fields: object) -> None:
    """Replace fields of release `name` (its digest, its caps) for one test."""
    monkeypatch.setitem(dl.RELEASES, name, replace(dl.RELEASES[name], **fields))


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path, small_data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A GroupLens-shaped `ml-latest-small.zip` (the generated data) served from a file://
    URL with its checksum recorded; returns the zip."""
    site = tmp_path / "site"
    site.mkdir()
    archive = site / "ml-latest-small.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in ("ratings.csv", "movies.csv"):
            zipped.write(small_data / file, f"ml-latest-small/{file}")
        zipped.writestr("ml-latest-small/README.txt", "terms")
        zipped.writestr("ml-latest-small/../escape.txt", "outside")
    monkeypatch.setattr(dl, "GROUPLENS_URL", site.as_uri() + "/{name}.zip")
    pin(monkeypatch, "ml-latest-small", digest=sha256(archive))
    return archive


def test_grouplens_download_unpacks_atomically(served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "data"
    moves: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def recording_replace(src: Path, dst: Path) -> None:
        moves.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(dl.os, "replace", recording_replace)
    folder = dl.download("ml-latest-small", root, progress=False)
    assert folder == root / "ml-latest-small"
    assert sorted(p.name for p in folder.iterdir()) == ["README.txt", "movies.csv", "ratings.csv"]
    assert leftovers(root) == [".ml-latest-small.cache", "ml-latest-small"]
    assert not (tmp_path / "escape.txt").exists()
    # The dataset appears in one rename, from a temp folder in the root; its cache follows.
    (src, dst), (cache_src, cache_dst) = [(src, dst) for src, dst in moves if dst.parent == root]
    assert src.parent.parent.parent == root and src.parent.parent.name.startswith(".tmp-")
    assert dst == folder
    assert (cache_src.parent, cache_dst) == (src.parent, root / ".ml-latest-small.cache")
    assert load_dataset(folder).name == "ml-latest-small"
    monkeypatch.setattr(cache, "load_dataset", pytest.fail)  # the first open reads the cache
    assert cache.open_dataset(folder).fingerprint == load_dataset(folder).fingerprint


def test_progress_bar_goes_to_stderr(served: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dl.download("ml-latest-small", tmp_path / "data", progress=True)
    assert "ml-latest-small" in capsys.readouterr().err


def test_checksum_mismatch_is_refused_and_leaves_nothing(
    served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin(monkeypatch, "ml-latest-small", digest="0" * 64)
    root = tmp_path / "data"
    with pytest.raises(DownloadError, match=f"SHA-256 {sha256(served)}, expected 0{{64}}"):
        dl.download("ml-latest-small", root, progress=False)
    assert leftovers(root) == []


def test_bad_archive_and_bad_data_leave_nothing(served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "data"
    served.write_bytes(b"not a zip")
    pin(monkeypatch, "ml-latest-small", digest=sha256(served))
    with pytest.raises(DownloadError, match="not a valid zip"):
        dl.download("ml-latest-small", root, progress=False)
    assert leftovers(root) == []

    with zipfile.ZipFile(served, "w") as zipped:
        zipped.writestr("ml-latest-small/movies.csv", "movieId,title,genres\n1,A (1999),Drama\n")
        zipped.writestr("ml-latest-small/ratings.csv", "userId,movieId,rating,timestamp\n1,2,4.0,5\n")
    pin(monkeypatch, "ml-latest-small", digest=sha256(served))
    with pytest.raises(DownloadError, match=r"does not load: ratings\.csv line 2: movieId 2 is not in movies\.csv"):
        dl.download("ml-latest-small", root, progress=False)
    assert leftovers(root) == []


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "movielens.invalid"])
def test_offline_fails_fast_with_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    url = f"http://{host.format(port=closed_port())}/{{name}}.zip"
    monkeypatch.setattr(dl, "GROUPLENS_URL", url)
    root = tmp_path / "data"
    start = time.perf_counter()
    with pytest.raises(DownloadError, match=r"^cannot download http://.*/ml-100k\.zip: "):
        dl.download("ml-100k", root, progress=False)
    assert time.perf_counter() - start < 10
    assert leftovers(root) == []


def test_existing_dataset_is_returned_without_fetching(
    small_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = small_data.parent
    small_data.rename(root / "ml-latest-small")
    monkeypatch.setattr(dl.urllib.request, "urlopen", pytest.fail)
    assert dl.download("ml-latest-small", root) == root / "ml-latest-small"
    (root / "ml-100k").mkdir()
    (root / "ml-100k" / "notes.txt").write_text("mine")
    with pytest.raises(DownloadError, match="exists but holds no dataset"):
        dl.download("ml-100k", root)


def test_unknown_name_lists_every_release(tmp_path: Path) -> None:
    known = "ml-latest-small, ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m, ml-latest, ml-100k-mirror"
    with pytest.raises(DownloadError, match=f"^unknown dataset 'ml-2m': choose one of {known}$"):
        dl.download("ml-2m", tmp_path)
    assert leftovers(tmp_path) == []


def fake_wheel(path: Path, inter: str = INTER, item: str = ITEM) -> Path:
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("recbole/__init__.py", "raise SystemExit('never imported')\n")
        wheel.writestr(dl.MIRROR_PREFIX + "ml-100k.inter", inter)
        wheel.writestr(dl.MIRROR_PREFIX + "ml-100k.item", item)
        wheel.writestr(dl.MIRROR_PREFIX + "ml-100k.user", "user_id:token\tage:token\n196\t49\n")
        wheel.writestr("recbole-1.2.1.dist-info/RECORD", "")
    return path


class FakePip:
    """Stands in for `subprocess.run`: records the command and drops `wheel` into `-d`."""

    def __init__(self, wheel: Path | None, returncode: int = 0, stderr: str = "") -> None:
        self.wheel, self.returncode, self.stderr = wheel, returncode, stderr
        self.commands: list[list[str]] = []

    def __call__(self, command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        self.commands.append(command)
        if self.wheel is not None:
            target = Path(command[command.index("-d") + 1])
            target.mkdir(parents=True, exist_ok=True)
            (target / "recbole-1.2.1-py3-none-any.whl").write_bytes(self.wheel.read_bytes())
        return subprocess.CompletedProcess(command, self.returncode, None, self.stderr)


@pytest.fixture
def pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakePip:
    wheel = fake_wheel(tmp_path / "fake.whl")
    fake = FakePip(wheel)
    monkeypatch.setattr(dl.subprocess, "run", fake)
    monkeypatch.setattr(dl, "MIRROR_WHEEL_SHA256", sha256(wheel))
    return fake


def test_mirror_converts_the_wheel_into_the_ml_100k_layout(pip: FakePip, tmp_path: Path) -> None:
    root = tmp_path / "data"
    folder = dl.download(dl.MIRROR_NAME, root, progress=False)
    assert folder == root / "ml-100k-mirror" and leftovers(root) == [".ml-100k-mirror.cache", "ml-100k-mirror"]
    [command] = pip.commands
    assert command[:5] == [sys.executable, "-I", "-m", "pip", "download"]
    assert {"recbole==1.2.1", "--no-deps"} <= set(command) and "install" not in command

    assert (folder / "u.data").read_text() == INTER.split("\n", 1)[1]
    u_item = (folder / "u.item").read_bytes().decode("latin-1").splitlines()
    assert u_item[0] == "242|Kolya (1996)||||0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0"
    assert u_item[1] == "267|unkonwn||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0"
    assert (folder / "u.genre").read_text().splitlines()[:2] == ["unknown|0", "Action|1"]

    data = load_dataset(folder)
    assert (data.layout, data.scale, data.name) == ("ml-100k", WHOLE_STARS, "ml-100k-mirror")
    assert len(data.ratings) == 3 and len(data.movies) == 4
    assert data.movies.loc[302, "title"] == "Misérables, Les" and data.movies.loc[302, "year"] == 1995
    assert data.movies.loc[303, "title"] == 'The "Quoted" One'
    assert data.movies.loc[303, "genres"] == ("Children's", "Film-Noir", "Sci-Fi")
    assert data.movies.loc[267, "genres"] == ()
    assert data.genres == ("Children's", "Comedy", "Drama", "Film-Noir", "Musical", "Sci-Fi")


def test_mirror_wheel_checksum_mismatch_leaves_nothing(
    pip: FakePip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dl, "MIRROR_WHEEL_SHA256", "f" * 64)
    root = tmp_path / "data"
    with pytest.raises(DownloadError, match=r"recbole-1\.2\.1-py3-none-any\.whl has SHA-256 .* refusing"):
        dl.download(dl.MIRROR_NAME, root)
    assert leftovers(root) == []


@pytest.mark.parametrize(
    ("inter", "item", "message"),
    [
        ("user_id:token\titem_id:token\n1\t2\n", ITEM, "ml-100k.inter starts with 'user_id:token\\titem_id:token'"),
        (INTER, ITEM.replace("Comedy", "Slapstick"), "ml-100k.item has genres outside ml-100k's: Slapstick"),
        (INTER, ITEM.replace("Kolya", "Kol|ya"), "ml-100k.item cannot be written as u.item"),
        (INTER.replace("\t3\t881250949", "\t4.5\t881250949"), ITEM, "does not load: u.data line 1: rating '4.5'"),
    ],
)
def test_mirror_rejects_unexpected_contents(
    pip: FakePip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inter: str, item: str, message: str
) -> None:
    wheel = fake_wheel(tmp_path / "odd.whl", inter=inter, item=item)
    monkeypatch.setattr(pip, "wheel", wheel)
    monkeypatch.setattr(dl, "MIRROR_WHEEL_SHA256", sha256(wheel))
    root = tmp_path / "data"
    with pytest.raises(DownloadError) as caught:
        dl.download(dl.MIRROR_NAME, root)
    assert message in str(caught.value)
    assert leftovers(root) == []


def test_pip_failure_is_reported_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = "WARNING: Retrying\nERROR: No matching distribution found for recbole==1.2.1\n"
    monkeypatch.setattr(dl.subprocess, "run", FakePip(None, returncode=1, stderr=stderr))
    with pytest.raises(DownloadError) as caught:
        dl.download(dl.MIRROR_NAME, tmp_path / "data")
    assert str(caught.value) == (
        "pip download recbole==1.2.1 failed: ERROR: No matching distribution found for recbole==1.2.1"
    )
    assert leftovers(tmp_path / "data") == []


def test_default_dataset_prefers_what_is_there(small_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dl, "download", pytest.fail)
    assert dl.default_dataset(small_data.parent) == small_data


def test_default_dataset_falls_back_to_the_mirror(
    pip: FakePip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dl, "GROUPLENS_URL", f"http://127.0.0.1:{closed_port()}/{{name}}.zip")
    status: list[str] = []
    folder = dl.default_dataset(tmp_path / "data", on_status=status.append)
    assert folder == tmp_path / "data" / "ml-100k-mirror"
    assert status[0] == "Downloading ml-latest-small…"
    assert status[1].startswith("Could not get ml-latest-small: cannot download")
    assert status[2] == "Downloading ml-100k-mirror…"


def test_default_dataset_names_every_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dl, "GROUPLENS_URL", f"http://127.0.0.1:{closed_port()}/{{name}}.zip")
    monkeypatch.setattr(dl.subprocess, "run", FakePip(None, returncode=1, stderr="ERROR: offline\n"))
    with pytest.raises(DownloadError) as caught:
        dl.default_dataset(tmp_path / "data")
    text = str(caught.value)
    assert text.startswith(f"no dataset in {tmp_path / 'data'} and none could be downloaded (")
    assert "ml-latest-small: cannot download" in text and "ml-100k-mirror: pip download" in text
    assert "\n" not in text


def test_recorded_checksums_are_hex_of_their_algorithm() -> None:
    pinned = [(r.algorithm, r.digest) for r in dl.RELEASES.values() if r.digest is not None]
    assert len(pinned) == len(dl.RELEASES) - 1  # only ml-latest, which changes in place, is not pinned
    for algorithm, digest in [*pinned, ("sha256", dl.MIRROR_WHEEL_SHA256)]:
        assert len(digest) == hashlib.new(algorithm).digest_size * 2 and set(digest) <= set("0123456789abcdef")


def test_download_over_the_size_cap_is_refused(served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pin(monkeypatch, "ml-latest-small", max_download=served.stat().st_size - 1)
    root = tmp_path / "data"
    with pytest.raises(DownloadError, match=r"ml-latest-small\.zip is larger than .* refusing it$"):
        dl.download("ml-latest-small", root, progress=False)
    assert leftovers(root) == []


def test_zip_bomb_is_refused_before_unpacking(served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with zipfile.ZipFile(served, "a", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("ml-latest-small/bomb.txt", b"0" * 5_000_000)  # ~5 kB packed
    pin(monkeypatch, "ml-latest-small", digest=sha256(served))
    pin(monkeypatch, "ml-latest-small", max_unpacked=4_000_000)
    assert served.stat().st_size < 100_000
    root = tmp_path / "data"
    extracted: list[object] = []
    monkeypatch.setattr(zipfile.ZipFile, "extractall", lambda *args: extracted.append(args))
    with pytest.raises(
        DownloadError, match=r"would unpack to 5,0\d\d,\d\d\d bytes, over the 3 MiB limit: refusing it$"
    ):
        dl.download("ml-latest-small", root, progress=False)
    assert extracted == [] and leftovers(root) == []


def test_mirror_wheel_members_have_a_size_cap(pip: FakePip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel = fake_wheel(tmp_path / "bomb.whl", inter=INTER + "1\t2\t3\t4\n" * 400_000)
    monkeypatch.setattr(pip, "wheel", wheel)
    monkeypatch.setattr(dl, "MIRROR_WHEEL_SHA256", sha256(wheel))
    monkeypatch.setattr(dl, "MIRROR_MAX_UNPACKED_BYTES", 1_000_000)
    root = tmp_path / "data"
    with pytest.raises(DownloadError, match=r"recbole-1\.2\.1-py3-none-any\.whl would unpack to .* refusing it$"):
        dl.download(dl.MIRROR_NAME, root, progress=False)
    assert leftovers(root) == []


def serve_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, top: str, folder: Path) -> Path:
    """`folder` zipped under `top/` as GroupLens's `name.zip`, served from a file:// URL."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    archive = write_zip(folder, site / f"{name}.zip", top)
    monkeypatch.setattr(dl, "GROUPLENS_URL", site.as_uri() + "/{name}.zip")
    return archive


def test_ml_10m_unpacks_from_its_ml_10M100K_folder_with_its_md5(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = serve_release(tmp_path, monkeypatch, "ml-10m", "ml-10M100K", write_dat(tmp_path / "src", "ml-10m"))
    pin(monkeypatch, "ml-10m", digest=hashlib.md5(archive.read_bytes()).hexdigest())
    root = tmp_path / "data"
    folder = dl.download("ml-10m", root, progress=False)
    assert folder == root / "ml-10m" and leftovers(root) == [".ml-10m.cache", "ml-10m"]
    assert load_dataset(folder).layout == "ml-10m"
    pin(monkeypatch, "ml-1m", digest="0" * 64)
    serve_release(tmp_path, monkeypatch, "ml-1m", "ml-1m", write_dat(tmp_path / "ml-1m"))
    with pytest.raises(
        DownloadError, match=r"ml-1m\.zip has SHA-256 [0-9a-f]{64}, expected 0{64}: refusing to use it$"
    ):
        dl.download("ml-1m", root, progress=False)


def test_ml_latest_is_checked_against_the_md5_grouplens_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = serve_release(tmp_path, monkeypatch, "ml-latest", "ml-latest", write_movielens(tmp_path / "src"))
    assert dl.RELEASES["ml-latest"].digest is None
    root = tmp_path / "data"
    with pytest.raises(DownloadError, match=r"^cannot download file://.*/ml-latest\.zip\.md5: "):
        dl.download("ml-latest", root, progress=False)
    md5 = archive.with_name("ml-latest.zip.md5")
    md5.write_text(f"MD5 (ml-latest.zip) = {'0' * 32}\n")
    with pytest.raises(DownloadError, match=r"has MD5 [0-9a-f]{32}, expected 0{32}: refusing to use it$"):
        dl.download("ml-latest", root, progress=False)
    assert leftovers(root) == []
    md5.write_text(f"{hashlib.md5(archive.read_bytes()).hexdigest()}  ml-latest.zip\n")
    assert dl.download("ml-latest", root, progress=False) == root / "ml-latest"
