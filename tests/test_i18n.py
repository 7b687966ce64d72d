"""Issue 19: one catalogue of student-visible text, in English and Chinese, and the app in both.

- the catalogues agree: every key in both languages, with the same parameters, none empty, each in
  the catalogue its first part names (``python -m gan_demo.content check`` prints the same list);
- no student-visible literal is left in the pages and the app layer (an AST scan, below);
- the language is picked from ``?lang=``, then the browser's locale, then English; a bad value of any
  type is refused with a message naming the languages allowed;
- every page renders in both languages with no exception and no missing key (strict mode: the
  suite runs with GAN_DEMO_STRICT_I18N=1, set in conftest.py, so a missing key raises).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_demo import content, language, ui
from gan_demo.content import Msg, t
from gan_demo.content.__main__ import problems

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ the catalogues
def test_every_key_is_in_both_languages_with_the_same_parameters():
    assert problems() == []
    en, zh = content.catalogue("en"), content.catalogue("zh")
    assert set(en) == set(zh) and len(en) >= 25


def test_a_parameter_missing_from_a_call_raises_in_strict_mode_and_a_missing_key_too():
    assert t("home.device", device="CPU") == "Device in use: **CPU** (a GPU is used automatically when there is one)."
    assert t("home.device", lang="zh", device="CPU") == "当前设备：**CPU**（有 GPU 时自动使用 GPU）。"
    with pytest.raises(KeyError):
        t("home.device")  # {device} not given
    with pytest.raises(KeyError, match="home.no_such_key"):
        t("home.no_such_key")


def test_placeholders_read_python_format_fields():
    assert content.placeholders("{n:,} of {total} ({share:.0%}), {{literal}}") == {"n", "total", "share"}
    assert content.placeholders("no fields") == set()


def test_a_msg_renders_in_the_language_asked_and_is_hashable_for_caches():
    m = Msg("app.training_on", device="CPU")
    assert m.render("en") == "Training on: **CPU**" and m.render("zh") == "训练设备：**CPU**"
    assert str(m) == "Training on: **CPU**"  # no session: English
    assert m == Msg("app.training_on", device="CPU") and len({m, Msg("app.training_on", device="CPU")}) == 1
    assert str(ValueError(m)) == "Training on: **CPU**"  # the engine raises Msgs; str() renders them
    nested = Msg("app.training_on", device=Msg("app.page_train"))  # a parameter that is a message itself
    assert nested.render("zh") == "训练设备：**训练**" and nested.render("en") == "Training on: **Train**"


def test_the_language_source_decides_and_a_failing_source_means_english():
    try:
        content.set_language_source(lambda: "zh")
        assert t("app.page_train") == "训练" and content.current_language() == "zh"
        content.set_language_source(lambda: "fr")
        assert content.current_language() == "en"
        content.set_language_source(lambda: 1 / 0)
        assert t("app.page_train") == "Train"
    finally:
        content.set_language_source(None)


# ------------------------------------------------------------------ picking the language
@pytest.mark.parametrize(
    ("query", "browser", "expected", "refused"),
    [
        ("zh", "en-US", "zh", False),  # the link wins over the browser
        ("ZH-cn", None, "zh", False),  # case and region ignored
        ("en", "zh-CN", "en", False),
        (None, "zh-CN", "zh", False),  # no ?lang=: the browser's language
        (None, "zh-Hans-CN", "zh", False),
        (None, "de-DE", "en", False),  # a language the app does not speak: English
        (None, None, "en", False),
        ("fr", "zh-TW", "zh", True),  # a refused ?lang= falls back to the browser, and says so
        ("", "en-GB", "en", True),
        (["en", "zh"], None, "zh", False),  # ?lang= given twice: the last one
        (7, None, "en", True),  # a value of another type
    ],
)
def test_the_first_language_comes_from_the_link_then_the_browser_then_english(query, browser, expected, refused):
    lang, problem = language.initial_language(query, browser)
    assert lang == expected and (problem is not None) == refused
    if refused:
        assert "en, zh" in problem.render("en") and "en, zh" in problem.render("zh")


# ------------------------------------------------------------------ no literal left
PROSE = re.compile(r"[A-Za-z]{2,}[^\n]*?\s+[^\n]*?[A-Za-z]{2,}", re.S)
WORD = re.compile(r"[A-Za-z]{2,}")
KEY = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
LATEX = re.compile(r"\\[A-Za-z]+")
DISPLAY_CALLS = {
    "title", "header", "subheader", "markdown", "caption", "write", "info", "warning", "error", "success",
    "toast", "button", "checkbox", "radio", "selectbox", "slider", "select_slider", "number_input",
    "text_input", "text_area", "toggle", "expander", "tabs", "metric", "download_button", "file_uploader",
    "page_link", "form_submit_button", "segmented_control", "pills", "popover", "link_button", "status",
    "spinner", "multiselect", "progress", "exception", "add_annotation", "add_hline", "add_vline",
    "update_layout", "update_xaxes", "update_yaxes", "Scatter", "Bar", "Heatmap", "Histogram", "Contour",
    "Figure", "Layout", "make_subplots",
}  # fmt: skip
DISPLAY_KEYWORDS = {
    "label", "help", "title", "caption", "text", "name", "placeholder", "hovertemplate", "xaxis_title",
    "yaxis_title", "legend_title", "legendgrouptitle_text", "title_text", "subplot_titles", "body",
    "annotation_text", "value",
}  # fmt: skip
NOT_TEXT = {"key", "icon", "type", "mode", "format", "unsafe_allow_html", "width", "color", "symbol", "dash",
            "mime", "file_name", "colorscale", "xref", "yref", "anchor", "uirevision", "hoverinfo", "fill",
            "annotation_position", "textposition", "xanchor", "yanchor", "align", "valign", "template",
            "line_dash", "fillcolor", "legendgroup", "barmode", "hovermode", "orientation", "side"}
SILENT = {"t", "Msg", "latex", "debug", "info_log", "getLogger", "get", "setdefault", "pop", "startswith",
          "endswith", "split", "replace", "join", "strip", "Path", "open", "environ", "getenv", "reshape",
          "einsum", "astype", "__getitem__", "format_exc"}
PRAGMA = "i18n-ok"  # "# i18n-ok: <why>" on the line: a symbol, an identifier, a log line, never prose


def app_layer_files() -> list[Path]:
    """The pages, every module that imports streamlit, and the modules whose job is text."""
    files = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]
    for path in sorted((ROOT / "gan_demo").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "import streamlit" in text or path.name in CONTENT_MODULES:
            files.append(path)
    return files


CONTENT_MODULES = {"presets.py", "theory.py", "diagnostics.py", "cgan_diagnosis.py", "plots.py", "config.py",
                   "settings.py", "cyclelab.py", "toylab.py", "cgan_views.py", "compare.py", "domains.py",
                   "toys.py"}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _values(node: ast.AST) -> set[int]:
    """The nodes of an argument that can be shown: not a dict's keys (``title=dict(text=...)``'s
    ``{"text": ...}`` names a field) and not a subscript's index."""
    keys = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Dict):
            keys.update(id(k) for k in sub.keys if k is not None)
        elif isinstance(sub, ast.Subscript):
            keys.update(id(n) for n in ast.walk(sub.slice))
    return {id(n) for n in ast.walk(node)} - keys


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def literals_left(path: Path) -> list[str]:
    """Student-visible string literals in ``path``: prose anywhere (not a docstring, a key, LaTeX, a
    log line or an argument of t()/Msg()), and any word passed to a display call or keyword."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    skip = _docstrings(tree)
    display: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            logged = isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and \
                node.func.value.id in {"_LOG", "LOG", "logger", "log", "logging"}
            if name in SILENT or logged:
                for sub in [*node.args, *(k.value for k in node.keywords)]:
                    skip.update(id(n) for n in ast.walk(sub))
                continue
            if name in DISPLAY_CALLS:
                for sub in node.args:
                    display.update(_values(sub))
            for kw in node.keywords:
                if kw.arg in NOT_TEXT:
                    skip.update(id(n) for n in ast.walk(kw.value))
                elif kw.arg in DISPLAY_KEYWORDS:
                    display.update(_values(kw.value))
        elif isinstance(node, ast.Subscript):  # st.session_state["..."], row["loss_d"]
            skip.update(id(n) for n in ast.walk(node.slice))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in skip:
            continue
        text = node.value
        if KEY.match(text) or LATEX.search(text) or PRAGMA in lines[node.lineno - 1]:
            continue
        if PROSE.search(text) or (id(node) in display and WORD.search(text)):
            found.append((node.lineno, node.col_offset, f"{path.relative_to(ROOT)}:{node.lineno}: {text[:60]!r}"))
    return [line for *_, line in sorted(found)]


@pytest.mark.parametrize("path", app_layer_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_student_visible_literal_is_left(path):
    assert literals_left(path) == []


def test_the_scan_finds_a_literal_in_a_display_call_and_prose_and_passes_keys(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        'import streamlit as st\n'
        'st.button("Start")\n'
        'x = "D wins in bursts"\n'
        'st.title(t("home.title"))\n'
        'st.latex(r"\\frac{1}{2}")\n'
        'st.session_state["gan lang"] = 1\n'
        'st.metric("λ_cyc", 1)  # i18n-ok: a symbol\n',
        encoding="utf-8",
    )
    found = [line.split(": ", 1)[1] for line in literals_left_at(probe)]
    assert found == ["'Start'", "'D wins in bursts'"]


def literals_left_at(path: Path) -> list[str]:
    global ROOT
    saved, ROOT = ROOT, path.parent
    try:
        return literals_left(path)
    finally:
        ROOT = saved


# ------------------------------------------------------------------ every page in both languages
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", [p.path for p in ui.PAGES])
def test_every_page_renders_in_both_languages_with_no_missing_key(page, lang):
    content.MISSING.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    assert {k for k in content.MISSING} == set()
    assert at.session_state[language.STATE_KEY] == lang


def test_the_home_page_in_chinese_shows_the_chinese_title_and_menu_entries():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    assert at.title[0].value == "GAN 实验室：GAN 如何训练，又如何失败"
    assert [pl.proto.label for pl in at.get("page_link")][:2] == ["训练", "一维上的 D*"]
    at.session_state[language.STATE_KEY] = "en"  # the switch
    at.run()
    assert at.title[0].value == "GAN Lab: how GANs train, and how they fail"
    assert [pl.proto.label for pl in at.get("page_link")][:2] == ["Train", "D* on 1-D"]


def test_an_unknown_lang_in_the_link_is_said_with_the_languages_allowed_and_the_app_goes_on():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "fr"
    at.run()
    assert not at.exception
    assert [toast.value for toast in at.toast] == [
        "?lang=fr is not a language this app speaks: use one of en, zh. The page is shown in your browser's language."
    ]
    assert at.session_state[language.STATE_KEY] == "en" and at.title[0].value.startswith("GAN Lab")


def test_merge_replaces_an_existing_text_in_both_languages(tmp_path, monkeypatch):
    from gan_demo.content import __main__ as upkeep

    monkeypatch.setattr(content, "LOCALE_DIR", tmp_path)
    content.catalogue.cache_clear()
    try:
        upkeep.merge("home", {"home.pages": {"en": "Pages", "zh": "各页面"}})
        upkeep.merge("home", {"home.pages": {"en": "All pages", "zh": "全部页面"}, "home.x": {"en": "X", "zh": "叉"}})
        assert content.catalogue("en") == {"home.pages": "All pages", "home.x": "X"}
        assert content.catalogue("zh") == {"home.pages": "全部页面", "home.x": "叉"}
    finally:
        content.catalogue.cache_clear()


def test_the_loss_names_and_notes_read_in_the_readers_language():
    from gan_demo import losses

    spec = losses.get("wgan-gp")
    assert spec.title.render("en") == "WGAN-GP (gradient penalty)" and spec.title.render("zh") == "WGAN-GP（梯度惩罚）"
    assert "(0, 0.9)" in spec.note.render("en") and "(0, 0.9)" in spec.note.render("zh")
    assert len({losses.get(n).title.render("zh") for n in losses.NAMES}) == 6  # six distinct names
