"""The Theory page shows the code that runs, and every section renders."""

from __future__ import annotations

import inspect
from pathlib import Path

from streamlit.testing.v1 import AppTest

from gan_demo import losses, theory

ROOT = Path(__file__).resolve().parents[1]


def test_every_section_shows_real_code():
    shown = [fn for s in theory.SECTIONS for fn in s.code]
    assert len(shown) >= 9
    for fn in shown:
        assert theory.source(fn) == inspect.getsource(fn)
        assert "def " in theory.source(fn)
    # each loss function of the losses table appears on the page
    names = {fn.__name__ for fn in shown}
    for fn in ("bce_d_terms", "minimax_g_loss", "non_saturating_g_loss", "wgan_d_terms",
               "hinge_d_terms", "lsgan_d_terms", "gradient_penalty"):
        assert fn in names


def test_equilibrium_table_has_every_loss():
    rows = theory.equilibrium_table()
    assert [r["loss"] for r in rows] == [losses.get(n).title for n in losses.NAMES]
    minimax = rows[0]
    assert "loss_d = 1.386" in minimax["equilibrium"] and "loss_g = -0.693" in minimax["equilibrium"]
    assert "clip ±0.01" in rows[losses.NAMES.index("wgan")]["classic defaults"]


def test_theory_page_renders():
    at = AppTest.from_file(str(ROOT / "app_pages" / "theory.py"), default_timeout=30).run()
    assert not at.exception
    assert len(at.expander) == len(theory.SECTIONS)
    codes = [c.value for c in at.code]
    assert inspect.getsource(losses.gradient_penalty).strip() in [c.strip() for c in codes]
    assert any("\\log 4" in latex.value for latex in at.latex)
