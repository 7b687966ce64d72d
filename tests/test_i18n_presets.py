"""Issue 19 for the presets, the config form and the data sets: their text in English and Chinese.

- a validation error is a Msg whose value and range are parameters: the same numbers in both languages,
  English with no session (the command line), Chinese on a page opened with ``?lang=zh``;
- a preset's title and "watch for" text (its story, then its claims) render in Chinese on its page;
- the Chinese stories, like the English ones (tests/test_presets.py), hold no number outside the claims;
- a missing data set's message renders in Chinese with the same folders, though the check is cached.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torchvision
from streamlit.testing.v1 import AppTest

from gan_demo import config, content, data, presets, ui
from gan_demo.config import ConfigError, TrainConfig
from gan_demo.content import t

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _open(page: str, lang: str, preset: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["lang"] = lang
    if preset:
        at.query_params["preset"] = preset
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


# ------------------------------------------------------------------ validation errors
def test_an_out_of_range_value_renders_in_both_languages_with_the_same_value_and_range():
    with pytest.raises(ConfigError) as err:
        TrainConfig(batch_size=5000)
    msg = err.value.problems["batch_size"]
    assert msg.params["field"] == "batch_size" and msg.params["range"] == "[2, 4096]" and msg.params["value"] == "5000"
    assert msg.render("en") == "must be in [2, 4096], got 5000"
    assert msg.render("zh") == "应在 [2, 4096] 内，实际为 5000"
    # no session (the command line): English, as before
    assert err.value.errors == {"batch_size": "must be in [2, 4096], got 5000"}
    assert str(err.value) == "batch_size: must be in [2, 4096], got 5000"


def test_a_value_of_the_wrong_type_names_it_and_what_is_allowed_in_chinese():
    with pytest.raises(ConfigError) as err:
        TrainConfig.from_dict({"batch_size": 64.0, "lr_d": 0.0, "optimizer": "sgd"})
    zh = {name: msg.render("zh") for name, msg in err.value.problems.items()}
    assert zh == {
        "batch_size": "应为取值在 [2, 4096] 内的整数，实际得到 64.0（float）",
        "lr_d": "应在 (0, 1] 内，实际为 0",
        "optimizer": "不能取 'sgd'；请从以下选项中选择：adam, rmsprop",
    }
    assert err.value.errors["batch_size"] == "must be an integer in [2, 4096], got 64.0 (float)"


def test_a_form_entry_that_is_not_whole_renders_in_chinese():
    value, msg = config.FIELDS["batch_size"].from_form(64.5)
    assert value == 64.5 and msg.render("zh") == "应为取值在 [2, 4096] 内的整数（不能带小数），实际得到 64.5"
    assert str(msg) == "must be a whole number in [2, 4096], got 64.5"


def test_the_train_form_in_chinese_labels_its_fields_and_says_what_is_wrong_with_the_numbers():
    at = _open("train", "zh")
    box = at.number_input(key="train_batch_size")
    assert box.label == "批量大小" and box.help == "判别器每步使用的真实样本数（生成样本数与之相同）"
    assert at.number_input(key="train_lr_d").label == "D 的学习率"
    box.set_value(5000.0).run()
    at.number_input(key="train_lr_g").set_value(0.0).run()
    errors = [e.value for e in at.error]
    assert "应在 [2, 4096] 内，实际为 5000" in errors
    assert "应在 (0, 1] 内，实际为 0" in errors
    assert not [e for e in errors if "must be in" in e]
    # the same form in English: the labels and the messages as before
    at = _open("train", "en")
    box = at.number_input(key="train_batch_size")
    assert box.label == "Batch size"
    box.set_value(5000.0).run()
    assert "must be in [2, 4096], got 5000" in [e.value for e in at.error]


# ------------------------------------------------------------------ presets
def test_a_claim_renders_the_same_numbers_in_both_languages():
    claim = presets.Claim("d_acc", "end", 0.85, 0.95, presets._label("d_acc"))
    assert claim.msg.render("en") == "D's accuracy ends at 85–95 %"
    assert claim.msg.render("zh") == "D 的准确率：最终为 85–95 %"
    first = presets.Claim("loss_d", "first_above", 1e6, 30, "L_D")
    assert first.msg.render("en") == "|L_D| passes 1e6 by step 30"
    assert first.msg.render("zh") == "|L_D|：在第 30 步之前超过 1e6"


def test_a_presets_chinese_watch_for_text_renders_on_its_page():
    at = _open("toys_2d", "zh", preset="mode-collapse")
    infos = [i.value for i in at.info]
    story = "点聚集在一两个模式附近，每隔几百步就跳到另一个模式上（模式跳跃）。"
    claims = "捕获的模式数（共 8 个）：最多达到 2；高质量样本占比：最终为 0–2 %。"
    assert any(story in i and claims in i for i in infos), infos
    assert not [i for i in infos if "The points gather" in i]
    box = at.selectbox(key="toys_2d_preset")
    assert box.value == "mode-collapse" and "失败：模式崩溃（8 个高斯的圆环）" in box.options
    # the same link in English: the English text, as before
    at = _open("toys_2d", "en", preset="mode-collapse")
    assert any("The points gather near one or two modes" in i.value and "modes captured (of 8) reaches at most 2"
               in i.value for i in at.info)  # fmt: skip


@pytest.mark.parametrize("preset", list(presets.PRESETS))
def test_every_preset_has_a_chinese_title_and_story_with_no_number_outside_the_claims(preset):
    p = presets.get(preset)
    title, story = p.title_msg.render("zh"), p.story.render("zh")
    assert re.search(r"[\u4e00-\u9fff]", title) and re.search(r"[\u4e00-\u9fff]", story)
    assert title != p.title_msg.render("en") and story != p.story.render("en")
    bare = re.sub(r"\([A-Z][a-z]+ et al\. \d{4}\)", "", story).replace("W1", "").replace("β1", "")
    assert not re.search(r"\d", bare), f"a number outside the claims: {story!r}"
    full = t("presets.seeded_run", lang="zh", story=p.story, claims="；".join(c.msg.render("zh") for c in p.claims))
    assert full.startswith(story) and all(c.msg.render("zh") in full for c in p.claims)


# ------------------------------------------------------------------ data sets
def test_a_missing_data_set_says_so_in_chinese_with_the_same_folders(tmp_path, monkeypatch):
    def offline(root, train=True, download=False, **kwargs):
        raise RuntimeError("no network in tests")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    monkeypatch.setattr(data, "DEFAULT_ROOT", tmp_path)
    ui.data_problem.clear()
    try:
        with pytest.raises(data.DataUnavailable) as err:
            data.load_images("mnist")
        msg = data.message(err.value)
        assert msg.render("en") == str(err.value) and str(tmp_path / "MNIST" / "raw") in str(err.value)
        zh = msg.render("zh")
        assert zh.startswith("mnist（train 划分）无法使用。") and str(tmp_path / "MNIST" / "raw") in zh
        assert "RuntimeError: no network in tests" in zh

        en_page = _open("train", "en")  # fills the shared cache with this data set's answer
        en_page.selectbox(key="train_data").set_value("mnist").run()
        assert str(err.value) in [e.value for e in en_page.error]
        zh_page = _open("train", "zh")  # the cached answer, rendered in this reader's language
        zh_page.selectbox(key="train_data").set_value("mnist").run()
        assert zh in [e.value for e in zh_page.error]
    finally:
        ui.data_problem.clear()


def test_fashion_mnist_class_names_read_in_the_readers_language_and_stay_english_in_reports():
    assert data.class_names("fashion-mnist") == data.CLASS_NAMES["fashion-mnist"]  # no session: English
    assert data.class_names("fashion-mnist")[9] == "Ankle boot" and data.class_names("digits")[7] == "7"
    try:
        content.set_language_source(lambda: "zh")
        assert data.class_names("fashion-mnist")[0] == "T恤/上衣" and data.class_names("fashion-mnist")[9] == "短靴"
        assert len(set(data.class_names("fashion-mnist"))) == 10 and data.class_names("mnist")[3] == "3"
        assert data.CLASS_NAMES["fashion-mnist"][9] == "Ankle boot"
    finally:
        content.set_language_source(None)
