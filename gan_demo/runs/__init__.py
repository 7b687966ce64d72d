"""Runs you can keep: the run folder format (save, load, load G without data, resume), zip archives,
exports (PNG, GIF) and the recorded presets in ``checkpoints/``.

The modules: :mod:`~gan_demo.runs.folder` (the format), :mod:`~gan_demo.runs.snapshots` (snapshots as
``.npz`` + JSON), :mod:`~gan_demo.runs.archive` (``.zip`` download and validated upload),
:mod:`~gan_demo.runs.export` (sample grid PNG, fixed-noise GIF) and :mod:`~gan_demo.runs.recordings`
(the presets' recordings and their index). Nothing here imports Streamlit.
"""

from __future__ import annotations

from gan_demo.runs.folder import FORMAT, FORMAT_VERSION, RunData, RunFormatError, load, save

__all__ = ["FORMAT", "FORMAT_VERSION", "RunData", "RunFormatError", "load", "save"]
