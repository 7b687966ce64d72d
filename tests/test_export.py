"""Pictures of a run (gan_demo.runs.export): the PNG grid and the GIF over training, and the CLI's export."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from gan_demo import cli
from gan_demo.runs import export
from gan_demo.runs.live import Snapshot


def _digits(value: float, n: int = 64) -> np.ndarray:
    return np.full((n, 1, 8, 8), value, dtype=np.float32)


def test_png_is_the_grid_of_the_samples():
    png = Image.open(io.BytesIO(export.png_bytes(_digits(1.0))))
    # make_grid: 8 per row, 2 px padding -> 8 * (8 + 2) + 2 = 82 px, enlarged x4 (ceil(320 / 82)) = 328
    assert png.format == "PNG" and png.mode == "L" and png.size == (328, 328)
    pixels = np.asarray(png)
    assert pixels[8:32, 8:32].min() == 255  # a sample at +1 is white (value_range -1..1)
    png = np.asarray(Image.open(io.BytesIO(export.png_bytes(_digits(-1.0)))))
    assert png[8:32, 8:32].max() == 0 and png[0:8, :].min() == 255  # black sample, white padding


def test_gif_has_one_captioned_frame_per_snapshot():
    shots = [Snapshot(step, _digits(v), {}) for step, v in ((0, -1.0), (100, 0.0), (200, 1.0))]
    gif = Image.open(io.BytesIO(export.gif_bytes(shots, frame_ms=250, last_ms=1500)))
    assert gif.format == "GIF" and gif.n_frames == 3 and gif.size == (328, 328 + export.CAPTION_PX)
    durations, centres = [], []
    for i in range(3):
        gif.seek(i)
        durations.append(gif.info["duration"])
        centres.append(int(np.asarray(gif.convert("L"))[20, 20]))
    assert durations == [250, 250, 1500] and centres == [0, 128, 255]  # -1, 0, +1 -> 0, 128, 255


def test_toy_points_are_not_pictures():
    with pytest.raises(export.ExportError, match=r"image samples \(n, C, H, W\); these have shape \(10, 2\)"):
        export.png_bytes(np.zeros((10, 2), np.float32))


def test_cli_export_writes_gif_and_png(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "--data", "digits", "--steps", "20", "--hidden", "16", "--snapshot-every", "5",
                     "--quiet", "--device", "cpu", "--out", str(run)]) == 0  # fmt: skip
    assert cli.main(["export", "--run", str(run), "--gif", str(tmp_path / "a.gif"), "--png", str(tmp_path / "a.png")]) == 0
    assert Image.open(tmp_path / "a.gif").n_frames == 5  # steps 0, 5, 10, 15, 20
    assert Image.open(tmp_path / "a.png").size == (328, 328)
    assert cli.main(["export", "--run", str(tmp_path / "nothing"), "--gif", str(tmp_path / "b.gif")]) == 2
    assert "no such run folder" in capsys.readouterr().err
