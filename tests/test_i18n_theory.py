"""Issue 19, the Theory area in Chinese: the Theory page shows each section's Chinese title and text with
the same formulas and code as in English; the numbers inside the sentences (hinge's L_D = 2, LSGAN's
0.5 / 0.25 / 0.125, the healthy preset's end values) are the same in both languages; the notation shared
with Home and Train, and the CycleGAN objective shared with the CycleGAN page, follow the reader's
language."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_demo import content, losses, presets, theory
from gan_demo.content import t

ROOT = Path(__file__).resolve().parents[1]
HAN = re.compile(r"[\u4e00-\u9fff]")  # a Chinese character
INLINE_MATH = re.compile(r"\$[^$]+\$")

ZH_TITLES = [
    "1. 极小极大博弈",
    "2. D 的损失就是二元交叉熵（三种等价写法）",
    "3. 最优判别器与 JS 散度",
    "4. G 的损失：饱和与非饱和",
    "5. WGAN：Wasserstein 距离",
    "6. Hinge 损失",
    "7. 最小二乘（LSGAN）",
    "8. 条件 GAN：会检查标签的判别器",
    "9. CycleGAN：两个转换器、两个判别器和循环",
]
EN_TITLES = [
    "1. The minimax game",
    "2. D's loss is binary cross-entropy (three equal forms)",
    "3. The optimal discriminator and the JS divergence",
    "4. G's loss: saturating and non-saturating",
    "5. WGAN: the Wasserstein distance",
    "6. Hinge loss",
    "7. Least squares (LSGAN)",
    "8. The conditional GAN: a discriminator that checks the label",
    "9. CycleGAN: two translators, two discriminators, the cycle",
]


@pytest.fixture
def in_language():
    """Render engine text in a language, as a session would (the source the app registers)."""

    def use(lang: str) -> None:
        content.set_language_source(lambda: lang)

    yield use
    content.set_language_source(None)


def _page(path: str, lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(path).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_theory_page_in_chinese_shows_each_sections_chinese_title_and_the_same_formulas_and_code():
    en, zh = _page("app_pages/theory.py", "en"), _page("app_pages/theory.py", "zh")
    assert [e.label for e in en.expander] == EN_TITLES
    assert [e.label for e in zh.expander] == ZH_TITLES
    assert zh.title[0].value == "理论：公式，以及运行它们的代码"
    # the same LaTeX blocks, string for string, and the same code listings, in both languages
    formulas = [f for s in theory.SECTIONS for f in s.formulas]
    assert len(formulas) == 20
    assert [x.value for x in zh.latex] == [x.value for x in en.latex] == [f"$$\n{f}\n$$" for f in formulas]
    assert [c.value for c in zh.code] == [c.value for c in en.code] and len(zh.code) == 20
    # each section's text is Chinese on the Chinese page, English on the English one
    zh_md, en_md = [m.value for m in zh.markdown], [m.value for m in en.markdown]
    for i in range(len(theory.SECTIONS)):
        key = f"theory.s{i + 1}.text"
        assert any(HAN.search(m) and m.startswith(t(key, lang="zh", **theory.SECTIONS[i].params)[:20]) for m in zh_md)
        assert not any(m.startswith(t(key, lang="zh", **theory.SECTIONS[i].params)[:20]) for m in en_md)
    assert "**记号。**" in zh_md[1] and "$D(x) = \\sigma(l(x))$" in zh_md[1]  # the notation, once, at the top
    assert en_md[1].startswith("**Notation.**") and "$D(x) = \\sigma(l(x))$" in en_md[1]
    # the table's column labels and the hinge row in each language
    assert [c["label"] for c in _column_labels(zh)] == ["损失", "均衡值", "经典默认设置"]
    assert [c["label"] for c in _column_labels(en)] == ["loss", "equilibrium", "classic defaults"]
    assert zh.dataframe[0].value["equilibrium"][losses.NAMES.index("hinge")] == "loss_d = 2.000, d = [−1, 1] 内的任意值"
    assert en.dataframe[0].value["equilibrium"][losses.NAMES.index("hinge")] == "loss_d = 2.000, d = any value in [−1, 1]"


def _column_labels(at: AppTest) -> list[dict]:
    config = json.loads(at.dataframe[0].proto.columns)  # the column_config, as JSON
    return [config[field] for field in ("loss", "equilibrium", "defaults")]


def test_each_sections_numbers_and_inline_maths_are_the_same_in_both_languages(in_language):
    texts = {}
    for lang in ("en", "zh"):
        in_language(lang)
        texts[lang] = [s.text for s in theory.SECTIONS]
    for en, zh in zip(texts["en"], texts["zh"], strict=True):
        assert HAN.search(zh) and not HAN.search(en)
        assert set(INLINE_MATH.findall(zh)) == set(INLINE_MATH.findall(en)) != set()
        assert "{{" not in zh + en and "}}" not in zh + en  # LaTeX braces rendered single
    hinge, lsgan = losses.get("hinge").equilibrium, losses.get("lsgan").equilibrium
    assert (hinge["loss_d"], lsgan["d"], lsgan["loss_d"], lsgan["loss_g"]) == (2.0, 0.5, 0.25, 0.125)
    for lang in ("en", "zh"):
        s6, s7 = texts[lang][5], texts[lang][6]
        assert "$L_D = 2$" in s6
        assert "$L_D = 0.25$" in s7 and "$L_G = 0.125$" in s7 and " 0.5" in s7
    assert "在均衡点 D 输出 0.5：$L_D = 0.25$，$L_G = 0.125$。" in texts["zh"][6]
    # the seeds' slips are named as corrected in Chinese too
    assert "参考博文 000" in texts["zh"][0] and "$-\\infty$（此处已更正）" in texts["zh"][0]
    assert "`criterion(discriminator(gen_imgs), real_labels)`" in texts["zh"][3] and "此处已更正" in texts["zh"][3]
    assert "博文写成了 $D_Y(F(y))$" in texts["zh"][8] and "博文写成了 $\\lVert F(G(y)) - y\\rVert_1$" in texts["zh"][8]


def test_the_curves_note_and_the_table_show_the_same_numbers_in_both_languages(in_language):
    claims = {c.metric: c for c in presets.get("healthy-non-saturating").claims if c.stat == "end"}
    ld, acc = claims["loss_d"], claims["d_acc"]
    line = losses.get("non-saturating").equilibrium["loss_d"]
    notes, tables = {}, {}
    for lang in ("en", "zh"):
        in_language(lang)
        notes[lang], tables[lang] = theory.curves_note(), theory.equilibrium_table()
    assert f"$L_D$ {ld.lo:g}–{ld.hi:g} (the line is 1.386)" in notes["en"] and f"{line:.3f}" == "1.386"
    assert f"$L_D$ 在 {ld.lo:g}–{ld.hi:g} 之间（虚线为 1.386）" in notes["zh"]
    for note in notes.values():
        assert f"{100 * acc.lo:.0f}–{100 * acc.hi:.0f} %" in note
    assert HAN.search(notes["zh"]) and "过拟合" in notes["zh"] and "此处已更正" in notes["zh"]
    wgan = losses.NAMES.index("wgan")
    assert tables["en"][wgan]["defaults"] == "rmsprop lr 5e-05, 5 D step(s), clip ±0.01"
    assert tables["zh"][wgan]["defaults"] == "rmsprop，学习率 5e-05，每轮 D 训练 5 步，权重裁剪 ±0.01"
    gp = losses.NAMES.index("wgan-gp")
    assert tables["en"][gp]["defaults"] == "adam lr 0.0001, β=(0, 0.9), 5 D step(s), λ = 10"
    assert tables["zh"][gp]["defaults"] == "adam，学习率 0.0001，β=(0, 0.9)，每轮 D 训练 5 步，梯度惩罚 λ = 10"
    assert [r["equilibrium"] for r in tables["en"]][:2] == [r["equilibrium"] for r in tables["zh"]][:2]


def test_a_message_without_parameters_keeps_its_latex_braces(in_language):
    """CYCLE_SLIPS has no parameter: its escaped LaTeX braces ("{{") still render single; CYCLE_TEXT
    holds it as a parameter."""
    for lang in ("en", "zh"):
        in_language(lang)
        slips = str(theory.CYCLE_SLIPS)
        assert bool(HAN.search(slips)) == (lang == "zh")
        assert "$\\mathbb{E}_y[\\log(1 - D_X(F(y)))]$" in slips and "{{" not in slips
        assert str(theory.CYCLE_TEXT).endswith(slips)
    # Msg.render(lang) renders a Msg parameter in that language too, whatever the session's language
    in_language("en")
    assert theory.CYCLE_TEXT.render("zh").endswith(theory.CYCLE_SLIPS.render("zh"))
    assert HAN.search(theory.CYCLE_SLIPS.render("zh")) and not HAN.search(theory.CYCLE_SLIPS.render("en"))


def test_home_train_and_cyclegan_pages_show_the_shared_theory_texts_in_the_readers_language():
    notation_zh = t("theory.notation", lang="zh")
    assert notation_zh.startswith("**记号。**")
    home = _page("app_pages/home.py", "zh")
    assert notation_zh in [m.value for m in home.markdown]
    train = _page("app_pages/train.py", "zh")
    shown = [m.value for m in train.markdown]
    assert notation_zh in shown
    assert any(m.startswith("虚线是每种损失在 $p_g = p_{data}$") for m in shown)
    cycle = _page("app_pages/cyclegan.py", "zh")
    cycle_zh = theory.CYCLE_TEXT.render("zh")
    assert cycle_zh.startswith("G 把 X 转换到 Y") and cycle_zh in [m.value for m in cycle.markdown]
