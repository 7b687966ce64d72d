"""Tests for gan_demo.data: scaling, the IDX reader, the folder lookup and the offline error."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.datasets

from gan_demo import data


@pytest.fixture(autouse=True)
def _fresh_cache():
    data._load_cached.cache_clear()
    yield
    data._load_cached.cache_clear()


def _idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX: 0, 0, type 0x08, ndim, big-endian uint32 dims, data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_idx(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = _idx_bytes(array)
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)
    return path


def _known_images(n: int) -> np.ndarray:
    """n 28x28 images of a ramp 0..255; image 0 starts with the pixels 255, 0, 51."""
    images = (np.arange(n * 28 * 28) % 256).astype(np.uint8).reshape(n, 28, 28)
    images[0, 0, :3] = (255, 0, 51)
    return images


def _no_download(monkeypatch, calls: list | None = None):
    """Replace torchvision's downloaders by one that fails at once, as offline."""

    def fail(root, train=True, download=False, **kwargs):
        if calls is not None:
            calls.append((root, train, download))
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network in tests")

    monkeypatch.setattr(torchvision.datasets, "MNIST", fail)
    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", fail)


# ---------------------------------------------------------------- digits and names
def test_digits_shape_dtype_and_exact_range():
    x = data.load_images("digits")
    assert x.shape == (1797, 1, 8, 8)
    assert x.dtype == torch.float32
    assert x.min().item() == -1.0  # pixel 0
    assert x.max().item() == 1.0  # pixel 16
    # (v - 8) / 8 takes only the 17 values -1, -0.875, ..., 1
    assert torch.equal(torch.unique(x), torch.arange(17, dtype=torch.float32).sub(8).div(8))


def test_digits_ignores_train_flag_and_is_cached():
    a = data.load_images("digits", train=True)
    b = data.load_images("digits", train=False)
    assert a is b  # one cached tensor, hence "do not modify in place"


def test_image_shape_without_loading():
    assert data.image_shape("digits") == (1, 8, 8)
    assert data.image_shape("mnist") == (1, 28, 28)
    assert data.image_shape("fashion-mnist") == (1, 28, 28)
    assert data._load_cached.cache_info().currsize == 0


@pytest.mark.parametrize("call", [data.load_images, data.image_shape])
def test_unknown_name_lists_valid_names(call):
    with pytest.raises(ValueError) as err:
        call("cifar10")
    for name in ("cifar10", "digits", "mnist", "fashion-mnist"):
        assert name in str(err.value)


# ---------------------------------------------------------------- the IDX reader
@pytest.mark.parametrize("suffix", [".gz", ""])
def test_read_idx_roundtrip(tmp_path, suffix):
    images = _known_images(5)
    arr = data.read_idx(_write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images))
    assert arr.dtype == np.uint8
    assert arr.shape == (5, 28, 28)
    assert np.array_equal(arr, images)
    assert arr.flags.writeable


def test_read_idx_big_endian_int32(tmp_path):
    path = tmp_path / "labels.idx"
    path.write_bytes(struct.pack(">BBBBI", 0, 0, 0x0C, 1, 2) + struct.pack(">ii", 258, -1))
    assert data.read_idx(path).tolist() == [258, -1]


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_truncated_idx_names_the_file(tmp_path, suffix):
    payload = _idx_bytes(_known_images(5))
    path = tmp_path / f"train-images-idx3-ubyte{suffix}"
    cut = payload[:-100]  # 100 bytes of pixels missing
    path.write_bytes(gzip.compress(payload)[:-30] if suffix else cut)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte") as err:
        data.read_idx(path)
    assert str(path) in str(err.value)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello, world")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(path)


# ---------------------------------------------------------------- local folders
LAYOUTS = {
    "flat": lambda root, name: root,
    "torchvision": lambda root, name: (
        root / {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}[name] / "raw"
    ),
}


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("suffix", [".gz", ""])
def test_load_images_from_local_idx(tmp_path, monkeypatch, name, layout, suffix):
    calls: list = []
    _no_download(monkeypatch, calls)  # a hit on disk must never try the network
    folder = LAYOUTS[layout](tmp_path, name)
    train_images = _known_images(5)
    _write_idx(folder / f"train-images-idx3-ubyte{suffix}", train_images)
    _write_idx(folder / f"t10k-images-idx3-ubyte{suffix}", _known_images(3)[::-1])

    x = data.load_images(name, root=tmp_path)
    assert x.shape == (5, 1, 28, 28)
    assert x.dtype == torch.float32
    assert x[0, 0, 0, 0].item() == 1.0  # 255
    assert x[0, 0, 0, 1].item() == -1.0  # 0
    assert x[0, 0, 0, 2] == torch.tensor(-0.6)  # 51 / 255 * 2 - 1, as float32 rounds -0.6
    expected = torch.from_numpy(train_images.astype(np.float64) / 255 * 2 - 1).float()
    assert torch.allclose(x[:, 0], expected, atol=1e-7, rtol=0)

    test = data.load_images(name, root=tmp_path, train=False)
    assert test.shape == (3, 1, 28, 28)
    assert test[2, 0, 0, 0].item() == 1.0  # image 0 reversed to the end
    assert data.load_images(name, root=str(tmp_path)) is x  # cached, str or Path alike
    assert calls == []


def test_default_root_is_searched(tmp_path, monkeypatch):
    _no_download(monkeypatch)
    monkeypatch.setattr(data, "DEFAULT_ROOT", tmp_path)
    _write_idx(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte", _known_images(2))
    assert data.load_images("mnist").shape == (2, 1, 28, 28)


def test_download_path_uses_data_tensor(tmp_path, monkeypatch):
    """Step 3: torchvision's dataset object; only its uint8 ``.data`` is used."""
    seen: list = []

    class FakeMNIST:
        def __init__(self, root, train=True, download=False):
            seen.append((root, train, download))
            self.data = torch.full((4, 28, 28), 51, dtype=torch.uint8)

    monkeypatch.setattr(torchvision.datasets, "MNIST", FakeMNIST)
    x = data.load_images("mnist", root=tmp_path, train=False)
    assert seen == [(str(tmp_path), False, True)]
    assert x.shape == (4, 1, 28, 28)
    assert torch.all(x == torch.tensor(-0.6))


# ---------------------------------------------------------------- nothing available
def test_mnist_unavailable_offline(tmp_path, monkeypatch):
    calls: list = []
    _no_download(monkeypatch, calls)
    with pytest.raises(data.DataUnavailable) as err:
        data.load_images("mnist", root=tmp_path)
    message = str(err.value)
    assert str(tmp_path) in message
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "digits" in message
    assert "no network in tests" in message  # the download's own reason is kept
    assert calls == [(str(tmp_path), True, True)]
    assert isinstance(err.value, RuntimeError)


def test_fashion_unavailable_suggests_debian_package(tmp_path, monkeypatch):
    _no_download(monkeypatch)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "not-installed")
    with pytest.raises(data.DataUnavailable) as err:
        data.load_images("fashion-mnist", root=tmp_path / "empty", train=False)
    message = str(err.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert str(tmp_path / "not-installed") in message
    assert "t10k-images-idx3-ubyte" in message


# ---------------------------------------------------------------- the real Fashion-MNIST
def _require_debian_fashion_mnist():
    folder = data.DEBIAN_FASHION_MNIST
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        reason = f"{folder} missing: apt-get install dataset-fashion-mnist"
        if os.environ.get("CI"):
            pytest.fail(f"CI installs dataset-fashion-mnist, but {reason}")
        pytest.skip(reason)


@pytest.mark.parametrize(("train", "n"), [(True, 60_000), (False, 10_000)])
def test_real_fashion_mnist(tmp_path, monkeypatch, train, n):
    _require_debian_fashion_mnist()
    _no_download(monkeypatch)
    x = data.load_images("fashion-mnist", root=tmp_path / "empty", train=train)
    assert x.shape == (n, 1, 28, 28)
    assert x.dtype == torch.float32
    assert x.min().item() == -1.0
    assert x.max().item() == 1.0
    if train:  # the usual normalisation constants of Fashion-MNIST: mean 0.2860, std 0.3530
        unit = (x.double() + 1) / 2
        assert abs(unit.mean().item() - 0.2860) < 5e-4
        assert abs(unit.std().item() - 0.3530) < 5e-4
