"""A run as one ``.zip``: the download, and the upload's checks.

:func:`to_zip` puts a run folder's files (:func:`gan_demo.runs.folder.encode`) under one folder in a
zip. :func:`from_zip` reads an uploaded zip **in memory** (nothing is extracted to disk) and refuses,
with a message naming what is wrong and what is allowed, anything that is not exactly a run:

- more than :data:`MAX_ZIP_BYTES` uploaded, or more than :data:`MAX_UNPACKED_BYTES` once unpacked
  (counted from what is actually decompressed, so a zip whose headers lie about sizes is caught too:
  a zip bomb), or an npz inside whose arrays would unpack past that;
- a file that is not a zip, or a truncated or corrupt one (CRC checked);
- a member whose name is absolute, climbs out of its folder (``..``), uses backslashes or a drive
  letter, is a link or is encrypted, appears twice, or is not one of the run's files
  (``manifest.json``, ``config.json``, ``metrics.csv``, ``snapshots.npz``, ``snapshots.json``,
  ``weights.safetensors``, ``state.safetensors``: JSON, CSV, npz and safetensors only);
- then everything :func:`gan_demo.runs.folder.from_files` checks (format version, sha256, config,
  shapes; an npz holding pickled objects).
"""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Mapping
from pathlib import PurePosixPath

from gan_demo.content import Msg
from gan_demo.runs import folder
from gan_demo.runs.folder import FILES, RunData, RunFormatError

MAX_ZIP_BYTES = 32 * 2**20  # what an upload may weigh (a digits run is well under 1 MB)
MAX_UNPACKED_BYTES = 128 * 2**20  # what its files may hold once decompressed, all together
MAX_MEMBERS = 16


class ArchiveError(RunFormatError):
    """An uploaded file that is not a usable run archive; the message says what is wrong."""


ALLOWED = ", ".join(FILES)


def to_zip(files: Mapping[str, bytes], name: str = "run") -> bytes:
    """A zip of a run's files, inside one folder ``name`` (deflated)."""
    top = _safe_top(name)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member, blob in files.items():
            zf.writestr(f"{top}/{member}", blob)
    return buf.getvalue()


def _safe_top(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip(".-") or "run"
    return cleaned[:80]


def _member_name(info: zipfile.ZipInfo, where: str) -> tuple[str, str]:
    """(its folder, its file name) for a member, refusing unsafe names."""
    raw = info.filename
    path = PurePosixPath(raw)
    if ("\\" in raw or raw.startswith("/") or ":" in raw or any(part in ("..", ".", "") for part in raw.split("/"))
            or len(path.parts) > 2):  # fmt: skip
        raise ArchiveError(Msg("runs.err.unsafe_path", where=where, member=raw, allowed=ALLOWED))
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ArchiveError(Msg("runs.err.symlink", where=where, member=raw))
    if info.flag_bits & 0x1:
        raise ArchiveError(Msg("runs.err.encrypted", where=where, member=raw))
    return (path.parts[0] if len(path.parts) == 2 else ""), path.name


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, where: str) -> bytes:
    """The member's bytes, reading at most ``budget`` + 1 (whatever its header claims)."""
    with zf.open(info) as fh:
        blob = fh.read(budget + 1)
    if len(blob) > budget:
        raise ArchiveError(Msg("runs.err.zip_bomb", where=where, max_mb=MAX_UNPACKED_BYTES // 2**20))
    return blob


def _check_npz(blob: bytes, where: str) -> None:
    """An npz is a zip too: its arrays must not unpack past the limit either."""
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as npz:
            total = 0
            for info in npz.infolist():
                total += len(_read_member(npz, info, MAX_UNPACKED_BYTES - total, where))
    except (zipfile.BadZipFile, EOFError) as e:
        raise ArchiveError(Msg("runs.err.npz_unreadable", where=where, error=e)) from e


def from_zip(blob: bytes, where: str = "upload") -> RunData:
    """The run in an uploaded zip, checked (see the module's docstring); raises :class:`ArchiveError`
    (a :class:`RunFormatError`) naming the problem."""
    if len(blob) > MAX_ZIP_BYTES:
        raise ArchiveError(Msg("runs.err.too_big", where=where, size_mb=len(blob) / 2**20,
                               max_mb=MAX_ZIP_BYTES // 2**20))  # fmt: skip
    if not zipfile.is_zipfile(io.BytesIO(blob)):
        if blob[:4] == b"PK\x03\x04":  # a zip's first member, but no directory at the end
            raise ArchiveError(Msg("runs.err.truncated", where=where))
        raise ArchiveError(Msg("runs.err.not_zip", where=where, allowed=ALLOWED))
    files: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if len(infos) > MAX_MEMBERS:
                raise ArchiveError(Msg("runs.err.too_many_files", where=where, n=len(infos), max=len(FILES),
                                       allowed=ALLOWED))  # fmt: skip
            tops, used = set(), 0
            for info in infos:
                top, name = _member_name(info, where)
                tops.add(top)
                if name not in FILES:
                    raise ArchiveError(Msg("runs.err.foreign_file", where=where, member=info.filename,
                                           allowed=ALLOWED))  # fmt: skip
                if name in files:
                    raise ArchiveError(Msg("runs.err.twice", where=where, name=name))
                files[name] = _read_member(zf, info, MAX_UNPACKED_BYTES - used, where)
                used += len(files[name])
            if len(tops) > 1:
                raise ArchiveError(Msg("runs.err.several_folders", where=where, folders=sorted(tops)))
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as e:  # a bad CRC, a truncated member
        raise ArchiveError(Msg("runs.err.damaged", where=where, error=e)) from e
    except (NotImplementedError, RuntimeError) as e:  # an unknown compression method, a password
        raise ArchiveError(Msg("runs.err.compression", where=where, error=e)) from e
    if folder.SNAP_NPZ in files:
        _check_npz(files[folder.SNAP_NPZ], where)
    try:
        return folder.from_files(files, where)
    except ArchiveError:
        raise
    except RunFormatError as e:
        raise ArchiveError(*e.args) from e  # the Msg itself: rendered in the reader's language
