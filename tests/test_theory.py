"""The Theory page shows the code that runs: section 1's code makes D's update then G's update, every
section's code is called when its feature runs, and the texts state one notation and the corrected
forms of the seeds' slips, with numbers from losses.py and presets.py."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from gan_demo import losses, onedim, plots, presets, theory, toylab, toys
from gan_demo.config import TrainConfig
from gan_demo.train import cgan, cycle, gan, loop

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- section 1: the alternating update
def _update_events(fn) -> list[tuple[int, int, str]]:
    """(line, column, event) of each call in ``fn``'s shown source that computes D's loss ("d_loss":
    ``*.d_terms(...)`` / ``*.d_loss(...)``), steps D's optimizer ("d_step": ``apply_gradients(opt_d,
    ...)`` or ``opt_d.step()``), computes G's loss ("g_loss": ``*.g_loss(...)``) or steps G's
    optimizer ("g_step")."""
    tree = ast.parse(textwrap.dedent(theory.source(fn)))
    events = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in ("d_terms", "d_loss"):
            events.append((node.lineno, node.col_offset, "d_loss"))
        elif name == "g_loss":
            events.append((node.lineno, node.col_offset, "g_loss"))
        else:
            if name == "apply_gradients" and node.args:
                target = ast.unparse(node.args[0])
            elif name in ("step", "apply") and isinstance(node.func, ast.Attribute):
                target = ast.unparse(node.func.value)
            else:
                continue
            for net in ("d", "g"):
                if target.endswith(f"opt_{net}"):
                    events.append((node.lineno, node.col_offset, f"{net}_step"))
    return sorted(events)


def test_section_1_shows_the_function_that_alternates_d_and_g_updates():
    (shown,) = theory.SECTIONS[0].code
    order = [e for _, _, e in _update_events(shown)]
    assert order == ["d_loss", "d_step", "g_loss", "g_step"], order
    # the thread-count wrapper shows none of them: the test tells the two apart
    wrapper = [e for _, _, e in _update_events(loop.Trainer.step)]
    assert shown is loop.Trainer.step or wrapper != ["d_loss", "d_step", "g_loss", "g_step"]


def test_section_1_code_runs_in_that_order_with_spies(monkeypatch):
    """Run the shown function itself, with spies on the two losses and the optimizer steps."""
    (shown,) = theory.SECTIONS[0].code
    cfg = TrainConfig.for_loss("non-saturating", "ring8", d_steps=2, batch_size=32, seed=0)
    trainer = gan.GanTrainer(cfg)
    calls: list[str] = []

    def spy(event, fn):
        def wrapped(*args, **kwargs):
            calls.append(event)
            return fn(*args, **kwargs)
        return wrapped

    trainer.loss = dataclasses.replace(trainer.loss, d_terms=spy("d_loss", trainer.loss.d_terms),
                                       g_loss=spy("g_loss", trainer.loss.g_loss))  # fmt: skip
    real_apply = gan.apply_gradients

    def apply(opt, params, grads):
        calls.append("d_step" if opt is trainer.opt_d else "g_step" if opt is trainer.opt_g else "?")
        real_apply(opt, params, grads)

    monkeypatch.setattr(gan, "apply_gradients", apply)
    g_before = [p.detach().clone() for p in trainer.G.parameters()]
    kwargs = {"with_metrics": True} if "with_metrics" in inspect.signature(shown).parameters else {}
    shown(trainer, **kwargs)
    assert calls == ["d_loss", "d_step", "d_loss", "d_step", "g_loss", "g_step"]
    assert any(not torch.equal(a, b) for a, b in zip(g_before, trainer.G.parameters(), strict=True))


# ---------------------------------------------------------------- every section: the code that runs
def _called_code(run) -> set:
    """The code objects of every Python function called while ``run()`` runs."""
    seen: set = set()

    def prof(frame, event, arg):
        if event == "call":
            seen.add(frame.f_code)

    old = sys.getprofile()
    sys.setprofile(prof)
    try:
        run()
    finally:
        sys.setprofile(old)
    return seen


def _train_every_loss() -> None:
    """The Train page's feature: a training step of each loss (as the worker thread runs it)."""
    for name in losses.NAMES:
        cfg = TrainConfig.for_loss(name, "ring8", batch_size=32, seed=0)
        gan.GanTrainer(cfg).step()


def _d_star_page() -> None:
    """The D* on 1-D page's feature: explore (exact densities) and a train-mode snapshot."""
    c = onedim.compare(toys.TOYS_1D["mix2"], onedim.mixture([2.0], [1.0]))
    toylab.explore_figure(c, "bce")
    trainer = gan.GanTrainer(TrainConfig.for_loss("non-saturating", "mix2", batch_size=32, seed=0))
    toylab.snapshot_1d(trainer)


def _cgan_page() -> None:
    """The Conditional GAN page's feature: a training step of the projection D."""
    cfg = TrainConfig(objective="cgan", condition="projection", batch_size=16, hidden=16, seed=0)
    cgan.CganTrainer(cfg).step()


def _cyclegan_page() -> None:
    """The CycleGAN page's feature: a training step of a CycleGAN with the identity loss on."""
    cfg = TrainConfig.for_loss("non-saturating", "ring8-stretched", objective="cyclegan", lambda_id=1.0,
                               batch_size=32, seed=0)  # fmt: skip
    cycle.CycleTrainer(cfg).step()


def test_every_section_shows_code_that_its_feature_calls():
    called = (_called_code(_train_every_loss) | _called_code(_d_star_page) | _called_code(_cgan_page)
              | _called_code(_cyclegan_page))  # fmt: skip
    for section in theory.SECTIONS:
        assert section.code, f"{section.title!r} shows no code"
        for fn in section.code:
            assert fn.__module__.startswith("gan_demo."), fn
            assert "def " in theory.source(fn)
            assert fn.__code__ in called, f"{section.title}: {fn.__qualname__} is shown but never runs"
    titles = {s.title[:2]: {fn.__qualname__ for fn in s.code} for s in theory.SECTIONS}
    assert titles["3."] == {"d_star", "_js_v_integrands", "exact_divergences"}


def test_every_loss_function_appears_on_the_page():
    names = {fn.__name__ for s in theory.SECTIONS for fn in s.code}
    for fn in ("bce_d_terms", "minimax_g_loss", "non_saturating_g_loss", "wgan_d_terms",
               "hinge_d_terms", "lsgan_d_terms", "gradient_penalty", "critic_g_loss", "lsgan_g_loss"):  # fmt: skip
        assert fn in names


# ---------------------------------------------------------------- numbers and notation
def test_equilibrium_table_has_every_loss_and_hinge_has_no_single_d():
    rows = theory.equilibrium_table()
    assert [r["loss"] for r in rows] == [str(losses.get(n).title) for n in losses.NAMES]
    minimax = rows[0]
    assert "loss_d = 1.386" in minimax["equilibrium"] and "loss_g = -0.693" in minimax["equilibrium"]
    assert "clip ±0.01" in rows[losses.NAMES.index("wgan")]["defaults"]
    hinge = rows[losses.NAMES.index("hinge")]["equilibrium"]
    assert hinge == "loss_d = 2.000, d = any value in [−1, 1]"


@pytest.mark.parametrize("d", [-1.0, -0.5, 0.0, 0.3, 1.0])
def test_any_hinge_d_in_the_margin_gives_the_equilibrium_loss(d):
    """At p_g = p_data (the same outputs on real and fake), L_D = 2 for every D in [-1, 1]."""
    spec = losses.get("hinge")
    out = torch.full((16,), d)
    assert spec.d_loss(out, out).item() == pytest.approx(spec.equilibrium["loss_d"]) == pytest.approx(2.0)
    assert spec.d_loss(torch.full((16,), 1.5), torch.full((16,), 1.5)).item() == pytest.approx(2.5)
    fig = plots.d_output_figure({"step": [1.0], "d_real": [d], "d_fake": [d], "d_fake_g": [d], "d_acc": [0.5]},
                                "hinge")  # fmt: skip
    texts = [a.text for a in fig.layout.annotations]
    assert "hinge margins ±1: at equilibrium any D in [−1, 1] gives L_D = 2" in texts
    assert not any(t.startswith("D at equilibrium") for t in texts)


def test_one_notation_is_stated_and_d_is_never_a_logit_in_a_formula():
    notation = str(theory.NOTATION)  # a Msg: rendered in the reader's language (here English)
    assert "D(x) = \\sigma(l(x))" in notation and "logit" in notation
    shown = [f for s in theory.SECTIONS for f in s.formulas] + [s.text for s in theory.SECTIONS]
    shown += [losses.get(n).d_formula + losses.get(n).g_formula for n in losses.NAMES]
    assert not any("\\sigma(D(" in f for f in shown)


def test_the_seeds_slips_are_corrected_where_the_topic_is_taught():
    minimax, _, _, g_loss = theory.SECTIONS[:4]
    # seed 000: with D fixed, as D(G(z)) grows log(1 - D(G(z))) "gets closer to zero"; it goes to -inf
    assert "Seed 000" in minimax.text and "\\to 0$; it goes to $-\\infty$" in minimax.text
    assert "**fixed** D" in minimax.text  # ... and against D*, V falls toward -log 4, not without bound
    assert "$V(D^*, G)$ falls toward its minimum $-\\log 4$" in minimax.text
    assert "falls without bound" not in minimax.text
    assert "non-saturating" in g_loss.text and "real_labels" in g_loss.text and "corrected" in g_loss.text
    assert "optimise two different values" in g_loss.text  # not one value in opposite directions
    note = theory.curves_note()
    assert "overfitting" in note and "seed 001" in note and "corrected" in note


def test_the_cyclegan_section_teaches_the_corrected_objective_and_names_the_two_slips():
    section = next(s for s in theory.SECTIONS if s.title.startswith("9. CycleGAN"))
    formulas = " ".join(section.formulas)
    # F's GAN term is judged by D_X, and the backward cycle is G(F(y)); the seed's forms appear only in the note
    assert "\\log(1 - D_X(F(y)))" in formulas and "D_Y(F(y))" not in formulas
    assert "\\lVert G(F(y)) - y\\rVert_1" in formulas and "F(G(y))" not in formulas
    assert "the post writes $D_Y(F(y))$" in section.text
    assert "the post writes $\\lVert F(G(y)) - y\\rVert_1$" in section.text
    # the code shown computes exactly those terms (tests/test_cycle.py checks their values)
    shown = theory.source(cycle.CycleTrainer.g_losses)
    assert "self.D_X(fake_x)" in shown and "self.D_Y(fake_y)" in shown
    assert "losses.cycle_loss(x, self.F(fake_y), y, self.G(fake_x))" in shown


def test_the_curves_note_states_the_healthy_presets_checked_end_values():
    claims = {c.metric: c for c in presets.get("healthy-non-saturating").claims if c.stat == "end"}
    note = theory.curves_note()
    ld, acc = claims["loss_d"], claims["d_acc"]
    assert f"$L_D$ {ld.lo:g}–{ld.hi:g}" in note and f"{100 * acc.lo:.0f}–{100 * acc.hi:.0f} %" in note
    line = losses.get("non-saturating").equilibrium["loss_d"]  # 2 log 2 = 1.386
    assert line / 2 < ld.lo and ld.hi < line  # close to the line, on D's side
    assert "few classes" in note and "Quality panel" in note
    assert f"the line is {losses.get('non-saturating').equilibrium['loss_d']:.3f}" in note


# ---------------------------------------------------------------- the pages
def test_theory_page_renders():
    at = AppTest.from_file(str(ROOT / "app_pages" / "theory.py"), default_timeout=30).run()
    assert not at.exception
    assert len(at.expander) == len(theory.SECTIONS)
    codes = [c.value.strip() for c in at.code]
    assert inspect.getsource(losses.gradient_penalty).strip() in codes
    assert inspect.getsource(gan.GanTrainer._step).strip() in codes
    assert inspect.getsource(onedim.exact_divergences).strip() in codes
    assert any("\\log 4" in latex.value for latex in at.latex)
    assert any(theory.curves_note() == m.value for m in at.markdown)
    assert [m.value for m in at.markdown].count(str(theory.NOTATION)) == 1  # stated once, at the top


def test_home_says_which_game_is_zero_sum():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()  # Home is the first page
    assert not at.exception
    text = at.markdown[0].value
    assert "In the original minimax game below they optimise one value V in opposite directions" in text
    assert "non-saturating G loss" in text and "its own objective" in text
    assert any(str(theory.NOTATION) == m.value for m in at.markdown)


def test_train_page_explains_the_dashed_lines_with_the_checked_numbers():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    shown = [m.value for m in at.markdown]
    assert theory.curves_note() in shown and str(theory.NOTATION) in shown
    assert not any("Read the curves against the dashed equilibrium lines" in m for m in shown)
    assert at.selectbox(key="train_loss").value == "non-saturating"  # its formulas, in the stated notation
    spec = losses.get("non-saturating")
    assert [x.value.strip("$\n") for x in at.latex][:2] == [spec.d_formula, spec.g_formula]
    assert "D(x) = \\sigma(l(x))" in spec.d_formula
