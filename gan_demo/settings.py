"""The app's settings from environment variables, read and checked once per process, at start.

==================  ==================  =============================================================
variable            default             allowed
==================  ==================  =============================================================
GAN_DEMO_MAX_RUNS   2                   a whole number from 1 to 64: runs that may train at once on
                                        this server (the Space has 2 vCPUs)
GAN_DEMO_DATA       ~/.cache/gan_demo   a folder path (it need not exist yet) where the MNIST and
                                        Fashion-MNIST IDX files are looked for; not a file
GAN_DEMO_RECONNECT  60                  a number of seconds from 0 to 3600: how long a disconnected
_GRACE_S                                session's runs wait for it to come back (the app caps it
                                        at Streamlit's server.disconnectedSessionTTL)
GAN_DEMO_RUNS_PER   1                   a whole number from 1 to 64: runs one browser session may
_SESSION                                have training or waiting in the queue at once (watching a
                                        run another session started does not count)
==================  ==================  =============================================================

A bad value never stops the app: the variable falls back to its default, and the message, which
names the variable, the value and what is allowed, is logged once per process and shown once to
each browser session (app.py). Both defaults are safe to run with, so refusing to start would only
turn a typo into an outage. Only the engine's modules read this one; none imports streamlit.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gan_demo.content import Msg

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnvVar:
    """One environment variable: its default (as text), what it allows (in words) and its parser,
    which raises ValueError for a value it does not allow."""

    name: str
    default: str
    allowed: Msg
    parse: Callable[[str], Any]


def _max_runs(text: str) -> int:
    value = int(text.strip())  # "two", "2.5" -> ValueError
    if not 1 <= value <= 64:
        raise ValueError(text)
    return value


def _per_session(text: str) -> int:
    return _max_runs(text)  # the same range: a whole number from 1 to 64


def _train_in(text: str) -> str:
    value = text.strip().lower()
    if value not in ("process", "thread"):
        raise ValueError(text)
    return value


def _folder(text: str) -> Path:
    if not text.strip():
        raise ValueError(text)
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(text)
    return path


def _seconds(text: str) -> float:
    value = float(text.strip())  # "two" -> ValueError
    if not 0 <= value <= 3600:  # also refuses nan (every comparison is False) and inf
        raise ValueError(text)
    return value


VARS: tuple[EnvVar, ...] = (
    EnvVar("GAN_DEMO_MAX_RUNS", "2", Msg("app.env_whole_1_64"), _max_runs),
    EnvVar("GAN_DEMO_DATA", "~/.cache/gan_demo", Msg("app.env_folder"), _folder),
    EnvVar("GAN_DEMO_RECONNECT_GRACE_S", "60", Msg("app.env_seconds"), _seconds),
    EnvVar("GAN_DEMO_RUNS_PER_SESSION", "1", Msg("app.env_whole_1_64"), _per_session),
    EnvVar("GAN_DEMO_TRAIN_IN", "process", Msg("app.env_train_in"), _train_in),
)


@dataclass(frozen=True)
class Settings:
    max_runs: int  # GAN_DEMO_MAX_RUNS: runs that may train at once on this server
    data_root: Path  # GAN_DEMO_DATA: where the image data sets are looked for
    reconnect_grace_s: float = 60.0  # GAN_DEMO_RECONNECT_GRACE_S: a disconnected session's runs wait
    problems: tuple[Msg, ...] = ()  # one message per variable whose value was refused (str() renders it)
    runs_per_session: int = 1  # GAN_DEMO_RUNS_PER_SESSION: a session's own runs, training or queued
    train_in: str = "process"  # GAN_DEMO_TRAIN_IN: "process" (worker processes) or "thread"


def load(environ: Mapping[str, str]) -> Settings:
    """Every variable of :data:`VARS` from ``environ``, parsed; a refused value falls back to the
    variable's default, with a message in ``problems``."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for var in VARS:
        text = environ.get(var.name)
        try:
            values[var.name] = var.parse(var.default if text is None else text)
        except ValueError:
            values[var.name] = var.parse(var.default)
            problems.append(Msg("app.env_refused", name=var.name, value=repr(text), allowed=var.allowed,
                                default=var.default))  # fmt: skip
    return Settings(values["GAN_DEMO_MAX_RUNS"], values["GAN_DEMO_DATA"],
                    values["GAN_DEMO_RECONNECT_GRACE_S"], tuple(problems),
                    values["GAN_DEMO_RUNS_PER_SESSION"], values["GAN_DEMO_TRAIN_IN"])  # fmt: skip


@functools.cache
def current() -> Settings:
    """This process's settings: read from ``os.environ`` on the first call, then kept."""
    settings = load(os.environ)
    for problem in settings.problems:
        _LOG.warning(str(problem))
    return settings
