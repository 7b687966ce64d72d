"""Run archives (gan_demo.runs.archive): the download round trip and every refused upload."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest

from gan_demo.config import TrainConfig
from gan_demo.runs import archive, folder, loop
from gan_demo.runs.archive import ArchiveError
from gan_demo.train import GanTrainer


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    cfg = TrainConfig.for_loss("non-saturating", "ring8", steps=20, hidden=16, device="cpu")
    trainer = GanTrainer(cfg)
    record = loop.train(trainer, loop.Record.empty(trainer))
    return folder.encode(cfg, trainer.metric_names, record.metrics, record.snapshots, 20, trainer, name="ring")


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    return buf.getvalue()


def _with(files: dict[str, bytes], name: str, blob: bytes) -> dict[str, bytes]:
    """``files`` with one file replaced and the manifest's size and sha256 for it fixed."""
    manifest = json.loads(files["manifest.json"])
    manifest["files"][name] = {"size": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
    return {**files, name: blob, "manifest.json": json.dumps(manifest).encode()}


def test_download_round_trip(files):
    blob = archive.to_zip(files, "my run/../x")
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        assert sorted(zf.namelist()) == sorted(f"my-run-..-x/{n}" for n in files)  # one safe folder
    run = archive.from_zip(blob)
    assert run.step == 20 and run.metrics["step"][-1] == 20 and len(run.snapshots) == 2
    assert archive.from_zip(_zip(files)).step == 20  # files at the top level work too


def test_not_a_zip_names_what_to_upload():
    with pytest.raises(ArchiveError, match="not a zip file; upload the .zip .* manifest.json, config.json"):
        archive.from_zip(b"\x89PNG\r\n\x1a\n" + bytes(100), "photo.png")


def test_a_truncated_zip(files):
    blob = archive.to_zip(files)
    with pytest.raises(ArchiveError, match="truncated"):
        archive.from_zip(blob[: len(blob) // 2])


def test_a_corrupt_member_fails_its_crc(files):
    blob = bytearray(_zip(files, zipfile.ZIP_STORED))
    at = blob.find(files["metrics.csv"][:40])  # stored: the member's bytes appear as they are
    blob[at + 20] ^= 0x55
    with pytest.raises(ArchiveError, match="damaged or truncated .*CRC"):
        archive.from_zip(bytes(blob))


def test_an_oversized_upload(files, monkeypatch):
    monkeypatch.setattr(archive, "MAX_ZIP_BYTES", 1000)
    with pytest.raises(ArchiveError, match=r"MB; a run archive may be at most 0 MB"):
        archive.from_zip(archive.to_zip(files))


def test_a_zip_bomb_stops_at_the_unpacked_limit(files):
    bomb = _zip({**files, "weights.safetensors": bytes(archive.MAX_UNPACKED_BYTES + 10)})
    assert len(bomb) < 1_000_000  # a few hundred kB that would unpack to 128 MB
    with pytest.raises(ArchiveError, match="unpack to more than 128 MB .*zip bomb"):
        archive.from_zip(bomb)


def test_an_npz_bomb_inside(files):
    buf = io.BytesIO()
    np.savez_compressed(buf, **{"0.samples": np.zeros((archive.MAX_UNPACKED_BYTES // 4 + 10,), np.float32)})
    with pytest.raises(ArchiveError, match="zip bomb"):
        archive.from_zip(_zip(_with(files, "snapshots.npz", buf.getvalue())))


@pytest.mark.parametrize("name", ["../manifest.json", "/etc/manifest.json", "a/b/manifest.json",
                                  "run\\manifest.json", "C:manifest.json", "./manifest.json"])  # fmt: skip
def test_path_traversal_is_refused(files, name):
    members = {f"run/{k}": v for k, v in files.items() if k != "manifest.json"} | {name: files["manifest.json"]}
    with pytest.raises(ArchiveError, match="unsafe path; allowed: the run's files"):
        archive.from_zip(_zip(members))


def test_a_foreign_file_is_refused(files):
    with pytest.raises(ArchiveError, match=r"'run/model.pkl' is not a file of a run; allowed: manifest.json.*"
                                           r"\(JSON, CSV, npz and safetensors only\)"):  # fmt: skip
        archive.from_zip(_zip({f"run/{k}": v for k, v in files.items()} | {"run/model.pkl": b"\x80\x04N."}))


def test_a_pickle_inside_the_npz_is_refused(files):
    buf = io.BytesIO()
    np.savez(buf, **{"0.samples": np.array([{"run": "code"}], dtype=object)})
    with pytest.raises(ArchiveError, match="snapshots.npz cannot be read without pickles"):
        archive.from_zip(_zip(_with(files, "snapshots.npz", buf.getvalue())))


def test_an_unknown_format_version(files):
    manifest = json.loads(files["manifest.json"])
    blob = _zip({**files, "manifest.json": json.dumps({**manifest, "format_version": 2}).encode()})
    with pytest.raises(ArchiveError, match="run format version 2; this gan_demo .* reads version 1"):
        archive.from_zip(blob)


def test_a_changed_file_fails_its_sha256(files):
    text = files["metrics.csv"].replace(b",", b";", 1)
    with pytest.raises(ArchiveError, match="metrics.csv's sha256 differs from the manifest's"):
        archive.from_zip(_zip({**files, "metrics.csv": text}))


def test_a_missing_file(files):
    with pytest.raises(ArchiveError, match="weights.safetensors is missing"):
        archive.from_zip(_zip({k: v for k, v in files.items() if k != "weights.safetensors"}))
