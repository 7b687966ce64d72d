"""Issue 19 for the diagnosis: every finding (rules R0-R18), its advice, the history log and the panel
in English and Chinese, with the same numbers in both; one finding, computed once and cached for the
whole server, shows each reader their own language."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gan_demo import cgan_diagnosis, diagnosis_panel
from gan_demo import diagnostics as dg
from gan_demo.runs import recordings
from tests.test_cgan import _report
from tests.test_diagnostics import CASES, fake_view, history, in_language
from tests.test_metrics_r10 import calm_history, fields

NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]\d+)?")  # 0.01, 100, 1.2e-06 (signs and % aside)
ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")


def numbers(text: str) -> Counter:
    return Counter(NUMBER.findall(text))


def both(msg) -> tuple[str, str]:
    return in_language("en", msg), in_language("zh", msg)


@pytest.mark.parametrize(("rule", "state", "loss", "fire", "quiet"), CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_each_rule_reads_in_chinese_with_the_numbers_of_the_english(rule, state, loss, fire, quiet):
    hit = next(f for f in dg.diagnose(loss=loss, **fire) if f.state == state)
    en_title, zh_title = both(hit.title_msg)
    en_ev, zh_ev = both(hit.evidence_msg)
    en_adv, zh_adv = both(hit.advice_msg)
    assert en_title == hit.title and en_ev == hit.evidence and en_adv == hit.advice  # no session: English
    assert CJK.search(zh_title) and not CJK.search(en_title + en_ev + en_adv)
    assert CJK.search(zh_adv) and zh_ev != en_ev
    assert numbers(zh_ev) == numbers(en_ev) and numbers(en_ev), (en_ev, zh_ev)


def test_r10_in_chinese_with_its_numbers_and_formats():
    # 39 of 64 samples are '1' (61 %), 1 of 10 classes covered, KL 0.78 nats vs 0.06 (tests/test_metrics_r10.py)
    (f,) = [f for f in dg.diagnose(calm_history(), "non-saturating", diversity=fields([3, 39, 3, 3, 3, 3, 3, 3, 2, 2]))
            if f.rule == "R10"]  # fmt: skip
    assert in_language("zh", f.evidence_msg) == (
        "按分类器的判断，生成器的样本中有 61% 是“1”（64 个中的 39 个）；10 个类别中有 1 个得到了平均份额的一半以上；"
        "KL(直方图 ‖ 均匀分布) = 0.78 奈特，同样 64 个真实样本为 0.06"
    )
    assert in_language("zh", f.title_msg) == "模式崩溃"


def test_a_tiny_gradient_keeps_its_format_in_both_languages():
    # ‖∇G‖ falls from 20 to 1.234e-6 (< GRAD_DEAD 1e-4): written 1.2e-06 (2 digits) in both languages
    found = dg.diagnose(history(grad_g=lambda i: np.where(i < 10, 20.0, 1.234e-6)), "non-saturating")
    f = next(f for f in found if f.state == "vanishing_g_gradient")
    assert f.evidence == "‖∇G‖ 1.2e-06 (< 0.0001), was 20 at the start"
    assert in_language("zh", f.evidence_msg) == "‖∇G‖ 1.2e-06（< 0.0001），开始时为 20"


def test_the_conditional_diagnosis_in_chinese():
    (ignored,) = cgan_diagnosis.diagnose([_report(0.12, 0.9, 0.6)], "none", 0.0)
    assert in_language("zh", ignored.evidence_msg).startswith("标签准确率 12%（随机猜测为 10%，< 30%），而分类器对生成器样本的置信度为 90%（≥ 70%）")
    assert "'projection'（Miyato & Koyama 2018）" in in_language("zh", ignored.advice_msg)
    (collapsed,) = cgan_diagnosis.diagnose([_report(0.95, 0.9, 0.6) | {"diversity": [0.1] * 10}], "concat", 1.0)
    en, zh = both(collapsed.evidence_msg)
    assert en.endswith("; and 7 more") and zh.endswith("；另有 7 类")  # 10 collapsed classes, 3 named
    assert zh.startswith("“0”：平均两两距离只有真实“0”图像的 10%（< 30%），画对的比例为 95%；“1”：")
    (ok,) = cgan_diagnosis.diagnose([_report(0.95, 0.9, 0.6) | {"diversity": [0.6] * 10}], "projection", 1.0)
    assert both(ok.title_msg) == ("Labels followed: G draws the class it is asked for", "标签得到遵循：要哪一类，生成器就画哪一类")


def test_the_history_log_reads_in_both_languages():
    # healthy from step 300, then D wins (L_D 0.01) from row 60 on: tests/test_diagnostics.py
    h = history(rows=150, loss_d=lambda i: np.where(i < 60, 1.0, 0.01), d_acc=lambda i: np.where(i < 60, 0.75, 1.0))
    first, second = dg.history(h, "non-saturating")
    assert in_language("zh", first.text_msg).startswith("第 300 步：训练正常：各项数字中看不出失败（L_D 1，L_G ")
    assert in_language("zh", second.text_msg).startswith(f"第 {second.step} 步：判别器压倒了生成器（L_D 0.01（< 0.05）")
    assert second.text.startswith(f"step {second.step}: D overpowers G (L_D 0.01")


def _panel_page():
    import streamlit as st

    from gan_demo import diagnosis_panel, language

    language.choose()
    diagnosis_panel.render(st.session_state["view"])


def _session(view, lang: str) -> AppTest:
    at = AppTest.from_function(_panel_page)
    at.query_params["lang"] = lang
    at.session_state["view"] = view
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_one_cached_diagnosis_serves_an_english_and_a_chinese_reader():
    h = history(rows=150, loss_d=lambda i: np.where(i < 60, 1.0, 0.01), d_acc=lambda i: np.where(i < 60, 0.75, 1.0))
    view = dataclasses.replace(fake_view(h), run_id="i18n-diag-shared")  # a run id no other test uses
    key = (view.run_id, len(view.metrics["step"]), len(view.snapshots), view)
    english = _session(view, "en")
    cached = diagnosis_panel._findings(*key)[0]  # what the first reader's run computed, server-wide
    chinese = _session(view, "zh")
    assert diagnosis_panel._findings(*key)[0] is cached  # the second reader got the same objects
    head = cached[0]
    assert head.state == "d_overpowers_g"
    assert english.subheader[0].value == "Diagnosis" and chinese.subheader[0].value == "诊断"
    assert english.warning[0].value == f"**D overpowers G** (R1)  \n{in_language('en', head.evidence_msg)}"
    assert chinese.warning[0].value == f"**判别器压倒了生成器**（R1）  \n{in_language('zh', head.evidence_msg)}"
    assert chinese.warning[0].value.split("\n")[1].startswith("L_D 0.01（< 0.05），D(x) ")
    assert numbers(english.warning[0].value.split("\n")[1]) == numbers(chinese.warning[0].value.split("\n")[1])
    assert any(m.value.startswith("**What to try:** Weaken D: bring lr_d") for m in english.markdown)
    assert any(m.value.startswith("**可以尝试**：削弱判别器：把 lr_d") for m in chinese.markdown)
    assert chinese.expander[0].label == "诊断的历史（2 次变化）"
    assert "第 300 步：训练正常" in chinese.expander[0].markdown[0].value
    english.run()  # the English reader, after the Chinese one: still English
    assert english.warning[0].value.startswith("**D overpowers G** (R1)")
    assert english.expander[0].label == "History of the diagnosis (2 changes)"


def test_the_warm_up_note_in_chinese_names_the_steps():
    chinese = _session(fake_view(history(rows=10)), "zh")  # step 100 < WARMUP_STEPS 200
    assert chinese.info[0].value == (
        "预热中：前 200 步不做判断（现在是第 100 步）。这段时间可以观察 D(x) 和 D(G(z)) 如何逐渐分开，以及样本如何变化。"
    )


def test_a_preset_link_in_chinese_shows_the_recordings_diagnosis_in_chinese():
    name = "healthy-non-saturating"
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["preset"] = name
    at.query_params["lang"] = "zh"
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception, [e.message for e in at.exception]
    head = dg.diagnose_view(recordings.load(name).view())[0]
    boxes = [e.value for e in [*at.success, *at.info, *at.warning, *at.error]]
    title = in_language("zh", head.title_msg)
    assert CJK.search(title) and any(b.startswith(f"**{title}**（{head.rule}）") for b in boxes), boxes
    assert any(b.endswith(in_language("zh", head.evidence_msg)) for b in boxes)
    assert any(s.value == "诊断" for s in at.subheader)


@pytest.mark.parametrize("state", [*dg.STATES, *cgan_diagnosis.TITLES])
def test_every_state_has_a_title_in_both_languages(state):
    en, zh = both(cgan_diagnosis.TITLES[state] if state in cgan_diagnosis.TITLES else dg.title(state))
    assert en and not CJK.search(en) and CJK.search(zh)
