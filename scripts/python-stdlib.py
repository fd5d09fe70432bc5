"""Writes the Python standard library that componentize-py's CPython was
built with as a zip, for python_buildpack to put in each droplet.

componentize-py carries the library inside its extension module as a
zstd-compressed tar and maps it into CPython only while it builds a
component: a component holds the modules imported then and nothing else.
An app imports more (email, decimal, sqlite3…), at staging or later, so
the buildpack ships the library beside the runtime and the runtime puts
the zip on sys.path (zipimport). The zip is made to be the same bytes on
every run: entries sorted, one timestamp, one compression level.

    python-stdlib.py COMPONENTIZE_PY_EXTENSION OUT.zip
"""

import io
import sys
import tarfile
import zipfile

import zstandard

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# A module only the standard library has: tells its tar from the others
# componentize-py carries (its own bindings helpers).
MARKER = "traceback.py"


def tars_in(blob):
    """Every zstd frame in `blob` that decompresses to a tar."""
    position = 0
    while (start := blob.find(ZSTD_MAGIC, position)) >= 0:
        position = start + len(ZSTD_MAGIC)
        try:
            data = zstandard.ZstdDecompressor().decompressobj().decompress(blob[start:])
        except zstandard.ZstdError:
            continue
        if data[257:262] == b"ustar":
            yield tarfile.open(fileobj=io.BytesIO(data))


def main(extension, out):
    with open(extension, "rb") as file:
        blob = file.read()
    library = next((tar for tar in tars_in(blob) if MARKER in tar.getnames()), None)
    if library is None:
        sys.exit(f"no standard library (a tar with {MARKER}) in {extension}")
    members = sorted((m for m in library.getmembers() if m.isfile()), key=lambda m: m.name)
    with zipfile.ZipFile(out, "w") as archive:
        for member in members:
            entry = zipfile.ZipInfo(member.name, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, library.extractfile(member).read(), compresslevel=9)
    print(f"{len(members)} modules and files of the standard library -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:])
