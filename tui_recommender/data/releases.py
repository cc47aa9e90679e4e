"""The MovieLens releases `data download` fetches from GroupLens, each with its checksum
pinned from a published source and size caps fitted to it (a bit above its zip and its
unpacked files, so an endless response or a zip bomb stops early)."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1 << 20


@dataclass(frozen=True)
class Release:
    """One GroupLens zip: `folder` is the top folder inside it (unpacked as `name`);
    `algorithm` and `digest` its checksum (None: GroupLens's own `.md5` file beside the zip
    is fetched and checked against, for a release that changes); `zip_bytes` its published
    size; the caps in bytes."""

    name: str
    folder: str
    algorithm: str
    digest: str | None
    zip_bytes: int
    max_download: int
    max_unpacked: int


RELEASES = {
    release.name: release
    for release in (
        # SHA-256 and size from TensorFlow Datasets (tensorflow_datasets/url_checksums/movielens.txt).
        Release("ml-latest-small", "ml-latest-small", "sha256",
                "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436", 978_202, 4 * MiB, 16 * MiB),
        # TensorFlow Datasets, as above.
        Release("ml-100k", "ml-100k", "sha256",
                "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229", 4_924_029, 8 * MiB, 32 * MiB),
        # TensorFlow Datasets, as above.
        Release("ml-1m", "ml-1m", "sha256",
                "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20", 5_917_549, 8 * MiB, 48 * MiB),
        # MD5 from GroupLens's ml-10m.zip.md5 (as quoted by FedLab and papers_with_code's
        # dl_config.py); size 65,566,137 bytes as recorded beside that MD5 in public code.
        Release("ml-10m", "ml-10M100K", "md5",
                "ce571fd55effeba0271552578f2648bd", 65_566_137, 80 * MiB, 384 * MiB),
        # TensorFlow Datasets, as above.
        Release("ml-20m", "ml-20m", "sha256",
                "96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3", 198_702_078, 224 * MiB, 1024 * MiB),
        # TensorFlow Datasets, as above.
        Release("ml-25m", "ml-25m", "sha256",
                "8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa", 261_978_986, 288 * MiB, 1536 * MiB),
        # MD5 from GroupLens's ml-32m.zip.md5 (as quoted in public download scripts); GroupLens
        # gives the zip as 239 MB.
        Release("ml-32m", "ml-32m", "md5",
                "d472be332d4daa821edc399621853b57", 239_000_000, 272 * MiB, 1280 * MiB),
        # ml-latest is GroupLens's development release and changes in place: no checksum can
        # be pinned, so the ml-latest.zip.md5 GroupLens publishes beside it is fetched and
        # checked. GroupLens gives the zip as 335 MB.
        Release("ml-latest", "ml-latest", "md5", None, 335_000_000, 448 * MiB, 2560 * MiB),
    )
}  # fmt: skip
