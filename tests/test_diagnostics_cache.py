"""diagnostics' per-snapshot caches are shared by every session's fragment thread: one thread's
clear must never make another's lookup fail (it did: store, then read back, KeyError between)."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from types import SimpleNamespace

import numpy as np

from gan_demo import diagnostics as dg
from gan_demo.config import TrainConfig

RING = TrainConfig(data="ring8", hidden=8, z_dim=2)
DIGITS = TrainConfig(data="digits", hidden=8)


def _view(cfg: TrainConfig, run_id: str, samples: np.ndarray, n_snapshots: int = 4) -> SimpleNamespace:
    shots = [SimpleNamespace(step=10 * i, samples=samples, extras={}) for i in range(n_snapshots)]
    return SimpleNamespace(config=cfg, run_id=run_id, snapshots=shots)


def test_cached_numbers_equal_fresh_ones():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(64, 2))
    imgs = rng.uniform(-1, 1, size=(16, 1, 8, 8))
    modes, _ = dg.view_quality(_view(RING, "eq-a", pts))
    _, div = dg.view_quality(_view(DIGITS, "eq-b", imgs))
    toy = dg._toy_modes("ring8")
    assert modes[0] == dg.mode_summary(pts, toy[0], toy[1], 0)
    assert div[0]["fake"] == dg.mean_pairwise_distance(imgs)
    assert dg.view_quality(_view(RING, "eq-a", pts))[0] == modes  # a second look hits the cache


def test_lookups_survive_another_thread_clearing_the_caches():
    rng = np.random.default_rng(1)
    pts, imgs = rng.normal(size=(8, 2)), rng.uniform(-1, 1, size=(4, 1, 8, 8))
    dg.real_diversity("digits", None, 4)  # load the digits once, outside the race
    errors: list[BaseException] = []
    stop = threading.Event()
    ids = itertools.count()

    def reader(cfg: TrainConfig, samples: np.ndarray) -> None:
        try:
            while not stop.is_set():  # every call stores new keys, then uses them
                dg.view_quality(_view(cfg, f"race-{next(ids)}", samples, n_snapshots=8))
        except BaseException as e:  # noqa: BLE001 - the test reports it
            errors.append(e)
            stop.set()

    def clearer() -> None:
        while not stop.is_set():
            dg._MODES.clear()
            dg._FAKE_MPD.clear()

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as CPython allows
    threads = [threading.Thread(target=reader, args=(RING, pts)) for _ in range(2)]
    threads += [threading.Thread(target=reader, args=(DIGITS, imgs)) for _ in range(2)]
    threads += [threading.Thread(target=clearer) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline and not stop.is_set():
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
        sys.setswitchinterval(old)
    assert not errors, f"{type(errors[0]).__name__}: {errors[0]!r}"


def test_the_cache_keeps_the_most_recently_used_entries():
    memo, calls = dg._Memo(2), []
    for key in ("a", "b", "a", "c", "a", "b"):  # c evicts b (a was used later); b is computed again
        memo.get(key, lambda key=key: calls.append(key) or key.upper())
    assert calls == ["a", "b", "c", "b"] and len(memo) == 2
