"""Image data sets as one float32 tensor each, scaled to [-1, 1] to match a ``tanh`` generator.

Three data sets, all single-channel:

* ``"digits"``: scikit-learn's 8x8 handwritten digits (1,797 images, values 0..16). They ship
  inside the scikit-learn wheel, so this works offline and is the default that needs nothing.
* ``"mnist"`` and ``"fashion-mnist"``: 28x28, read from IDX files (gzipped or plain).

Where MNIST / Fashion-MNIST come from, first hit wins:

1. ``root`` if given (else :data:`DEFAULT_ROOT`): a folder holding the IDX files, either flat
   (``root/train-images-idx3-ubyte.gz``) or in torchvision's layout (``root/MNIST/raw/...``,
   ``root/FashionMNIST/raw/...``);
2. for Fashion-MNIST, Debian's ``dataset-fashion-mnist`` package (:data:`DEBIAN_FASHION_MNIST`);
3. torchvision's downloader into that same folder (needs the network).

If all fail, :class:`DataUnavailable` says what was searched and how to get the files.
The whole split is kept as one tensor: no per-sample Python transform, ever.

The messages of the errors raised here are :class:`~gan_demo.content.Msg` s (catalogue ``data``):
``str(e)`` renders them in the reader's language (English on the command line), and :func:`message`
gives the Msg itself to whoever keeps it past the request (a cache shared by every session).
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

import numpy as np
import torch

from gan_demo import settings
from gan_demo.content import Msg, t

IMAGE_DATASETS: tuple[str, ...] = ("digits", "mnist", "fashion-mnist")
DEFAULT_ROOT: Path = settings.current().data_root  # GAN_DEMO_DATA, checked at start
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

_SHAPES = {"digits": (1, 8, 8), "mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28)}
# torchvision class name, which is also its folder name: root/<name>/raw/
_TORCHVISION = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
_OFFICIAL_PAGE = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "https://github.com/zalandoresearch/fashion-mnist",
}
# IDX type codes -> big-endian numpy dtypes (0x08, unsigned byte, is what (Fashion-)MNIST use).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataUnavailable(RuntimeError):
    """A data set is neither on disk nor downloadable; the message (a Msg) says how to get it."""


def message(error: BaseException) -> Msg | str:
    """The message an error of this module carries: its Msg (rendered when shown, in the reader's
    language), or the error's text for any other exception."""
    first = error.args[0] if error.args else None
    return first if isinstance(first, Msg) else str(error)


def image_shape(name: str) -> tuple[int, int, int]:
    """``(channels, height, width)`` of one image of ``name``, without loading anything."""
    return _SHAPES[_check_name(name)]


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzipped if its name ends in ``.gz``) into a native-endian array.

    Layout: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions ``d``,
    then ``d`` big-endian uint32 sizes and the data. Raises ``ValueError`` naming ``path`` if the
    header is wrong or the data are shorter or longer than the header says.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (EOFError, gzip.BadGzipFile) as e:  # a cut-off or damaged .gz
        raise ValueError(Msg("data.corrupt_gzip", path=str(path), error=str(e))) from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(Msg("data.not_idx", path=str(path), magic=repr(raw[:4])))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(Msg("data.truncated_header", path=str(path), size=len(raw), header=header))
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(Msg("data.wrong_size", path=str(path), shape=str(dims), expected=expected,
                             size=len(raw) - header))  # fmt: skip
    data = np.frombuffer(raw, dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="))  # a writable, native-endian copy


def load_images(name: str, root: str | Path | None = None, train: bool = True) -> torch.Tensor:
    """All images of one split as a float32 tensor of shape ``(N, 1, H, W)`` in ``[-1, 1]``.

    Bytes are scaled as ``x / 255 * 2 - 1``, computed as ``(x - 127.5) / 127.5`` (one rounding,
    so 0 -> -1, 255 -> 1, 51 -> -0.6 exactly as float32 rounds them); the digits as
    ``(x - 8) / 8``. ``"digits"`` has a single split and ignores ``train``.

    The result is cached per ``(name, root, train)``: repeated calls return the **same** tensor,
    so callers must not modify it in place (use ``.clone()`` or an out-of-place op).
    """
    name = _check_name(name)
    key_root = None if root is None else str(Path(root).expanduser())
    return _load_cached(name, key_root, bool(train) or name == "digits")


def _check_name(name: str) -> str:
    if name not in _SHAPES:
        raise ValueError(Msg("data.unknown", name=name, choices=", ".join(IMAGE_DATASETS)))
    return name


@functools.lru_cache(maxsize=8)
def _load_cached(name: str, root: str | None, train: bool) -> torch.Tensor:
    if name == "digits":
        from sklearn.datasets import load_digits

        pixels = torch.from_numpy(load_digits().images.astype(np.float32))  # (1797, 8, 8), 0..16
        return pixels.sub_(8.0).div_(8.0).unsqueeze(1)
    return _bytes_to_unit(_load_idx_images(name, Path(root) if root else DEFAULT_ROOT, train))


def _bytes_to_unit(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, H, W)`` -> float32 ``(N, 1, H, W)`` in [-1, 1], vectorised."""
    t = torch.as_tensor(images)
    if t.dtype != torch.uint8 or t.dim() != 3:
        raise ValueError(Msg("data.not_uint8", dtype=str(t.dtype), shape=str(tuple(t.shape))))
    return t.to(torch.float32).sub_(127.5).div_(127.5).unsqueeze(1)


def _candidate_folders(name: str, base: Path) -> list[Path]:
    return [base, base / _TORCHVISION[name] / "raw"]


def _find_images_file(folder: Path, train: bool) -> Path | None:
    prefix = "train" if train else "t10k"
    for stem in (f"{prefix}-images-idx3-ubyte", f"{prefix}-images.idx3-ubyte"):
        for suffix in (".gz", ""):
            path = folder / (stem + suffix)
            if path.is_file():
                return path
    return None


def _load_idx_images(name: str, base: Path, train: bool) -> np.ndarray | torch.Tensor:
    searched = _candidate_folders(name, base)
    if name == "fashion-mnist":
        searched.append(DEBIAN_FASHION_MNIST)
    for folder in searched:
        path = _find_images_file(folder, train)
        if path is not None:
            return read_idx(path)  # a corrupt file is reported, not skipped

    import torchvision.datasets  # late: only needed for the download, and it is slow to import

    cls = getattr(torchvision.datasets, _TORCHVISION[name])
    try:
        return cls(root=str(base), train=train, download=True).data
    except (RuntimeError, OSError, ValueError) as e:
        reason = " ".join(str(e).split())[:200] or type(e).__name__  # all its lines: the first can end in ":"
        download_error = f"{type(e).__name__}: {reason}"

    split = "train" if train else "t10k"
    # Debian's package first, for Fashion-MNIST; then the download by hand, the download by
    # torchvision, and the digits, which need nothing
    apt = Msg("data.hint_apt", folder=str(DEBIAN_FASHION_MNIST)) if name == "fashion-mnist" else ""
    raise DataUnavailable(Msg("data.unavailable", name=name, split=split, searched=", ".join(str(f) for f in searched),
                              error=download_error, apt=apt, page=_OFFICIAL_PAGE[name], base=str(base)))  # fmt: skip


# ---------------------------------------------------------------- labels (for the quality classifier)
CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "digits": tuple(str(i) for i in range(10)),
    "mnist": tuple(str(i) for i in range(10)),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"),  # fmt: skip  (Xiao et al. 2017, table 1)
}


def class_names(name: str) -> tuple[str, ...]:
    """The class names of ``name`` as a student reads them, in the reader's language: Fashion-MNIST's
    from the catalogue (``data.fashion_mnist.class_<k>``), the digits' as they are. :data:`CLASS_NAMES`
    stays the English names (Xiao et al. 2017, table 1), which reports and run folders store."""
    if name == "fashion-mnist":
        return tuple(t(f"data.fashion_mnist.class_{k}") for k in range(len(CLASS_NAMES[name])))
    return CLASS_NAMES[_check_name(name)]


def load_labels(name: str, root: str | Path | None = None, train: bool = True) -> torch.Tensor:
    """The class labels (int64, shape ``(N,)``, values 0..9) of the split :func:`load_images` returns,
    in the same order. For MNIST / Fashion-MNIST they come from ``{train,t10k}-labels-idx1-ubyte[.gz]``
    beside the images (same folders, no download); raises :class:`DataUnavailable` if none is found."""
    name = _check_name(name)
    if name == "digits":
        from sklearn.datasets import load_digits

        return torch.from_numpy(load_digits().target.astype(np.int64))
    base = Path(root).expanduser() if root else DEFAULT_ROOT
    folders = _candidate_folders(name, base)
    if name == "fashion-mnist":
        folders.append(DEBIAN_FASHION_MNIST)
    prefix = "train" if train else "t10k"
    for folder in folders:
        for stem in (f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels.idx1-ubyte"):
            for suffix in (".gz", ""):
                if (folder / (stem + suffix)).is_file():
                    return torch.from_numpy(read_idx(folder / (stem + suffix)).astype(np.int64))
    raise DataUnavailable(Msg("data.no_labels", name=name, prefix=prefix, searched=", ".join(str(f) for f in folders)))


def load_labelled(name: str, root: str | Path | None = None, train: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The images of :func:`load_images` ``(N, 1, H, W)`` in [-1, 1] with their labels ``(N,)`` int64
    (0..9, :data:`CLASS_NAMES`), in the same order; for the conditional GAN. Raises
    :class:`DataUnavailable` as those two do, and ``ValueError`` if their counts differ."""
    images, labels = load_images(name, root, train), load_labels(name, root, train)
    if len(images) != len(labels):
        raise ValueError(Msg("data.count_mismatch", name=name, images=len(images), labels=len(labels)))
    return images, labels
