"""Pictures of a run: the fixed-noise sample grid as a PNG, and the grids over training as a GIF.

The grid is :func:`gan_demo.plots.image_grid` (torchvision's ``make_grid``, 8 per row, enlarged by
an integer factor with nearest neighbour); PIL writes the files. Only image runs have pictures: a
toy run's samples are points (``python -m gan_demo sample`` writes them as ``.npy``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from gan_demo import plots
from gan_demo.runs.live import Snapshot

CAPTION_PX = 16  # the strip under each GIF frame that names its step


class ExportError(ValueError):
    """What cannot be exported, and what can."""


def _check_images(samples: np.ndarray) -> None:
    if samples.ndim != 4:
        raise ExportError(f"pictures are made of image samples (n, C, H, W); these have shape {samples.shape} "
                          "(a toy run's points: export them with `sample --out FILE.npy`)")  # fmt: skip


def grid_image(samples: np.ndarray) -> Image.Image:
    """The samples (n, C, H, W) in [-1, 1] as one PIL image (grayscale or RGB)."""
    samples = np.asarray(samples, dtype=np.float32)
    _check_images(samples)
    pixels = plots.image_grid(np.nan_to_num(samples, nan=-1.0))
    gray = samples.shape[1] == 1  # make_grid repeats one channel into three
    return Image.fromarray(pixels[..., 0] if gray else pixels)


def png_bytes(samples: np.ndarray) -> bytes:
    """The sample grid as PNG bytes."""
    buf = io.BytesIO()
    grid_image(samples).save(buf, format="PNG")
    return buf.getvalue()


def gif_bytes(snapshots: Sequence[Snapshot], frame_ms: int = 250, last_ms: int = 1500) -> bytes:
    """An animated GIF (looping) of the fixed-noise grid at each snapshot, each frame captioned
    "step N"; the last frame stays ``last_ms`` milliseconds. Raises :class:`ExportError` for a toy run
    or no snapshots."""
    if not snapshots:
        raise ExportError("the run has no snapshots to animate")
    frames = []
    for snap in snapshots:
        grid = grid_image(snap.samples).convert("L" if snap.samples.shape[1] == 1 else "RGB")
        frame = Image.new(grid.mode, (grid.width, grid.height + CAPTION_PX), color=255 if grid.mode == "L" else "white")
        frame.paste(grid, (0, 0))
        ImageDraw.Draw(frame).text((4, grid.height + 2), f"step {snap.step:,}", fill=0 if grid.mode == "L" else "black")
        frames.append(frame)
    buf = io.BytesIO()
    durations = [frame_ms] * (len(frames) - 1) + [last_ms]
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return buf.getvalue()
