"""The reader's language in the app (issue 19): a sidebar switch, ``?lang=`` on any link, the browser.

The first run of a session picks the language from, in order: ``?lang=zh`` (or ``en``) in the link
(a teacher's preset links open in the class's language), then the browser's preferred language
(``st.context.locale``, what the browser sends), then English. After that the sidebar switch
decides; the session remembers it (``st.session_state``) and writes it back to the link, so a link
copied from the address bar opens in the same language. An unknown ``?lang=`` value is said once, with
the values allowed, and the app goes on in the negotiated language.

The switch registers :func:`gan_demo.content.set_language_source`, so every ``t()`` and ``Msg`` the
session renders, in a page or in a fragment's rerun, reads this session's choice.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner import get_script_run_ctx

from gan_demo import content
from gan_demo.content import t

STATE_KEY = "gan_lang"  # the switch's widget key: the session's language code
QUERY_KEY = "lang"


def _session_language() -> str:
    if get_script_run_ctx(suppress_warning=True) is None:  # a worker thread: no session here
        return content.DEFAULT_LANGUAGE
    return st.session_state.get(STATE_KEY, content.DEFAULT_LANGUAGE)


def initial_language(query_value: object, browser_locale: str | None) -> tuple[str, content.Msg | None]:
    """The language of a session's first run: ``?lang=`` when it names a language the app speaks,
    else the browser's locale (``"zh-CN"`` -> zh), else English; with the message to show when the
    query value was refused. Pure, so the order is tested without a browser."""
    problem = None
    if query_value is not None:
        code, problem = content.parse_language(query_value)
        if code is not None:
            return code, None
    return content.negotiate([browser_locale]) or content.DEFAULT_LANGUAGE, problem


def choose() -> str:
    """Draw the sidebar switch and make it the session's language; returns its code."""
    content.set_language_source(_session_language)
    if STATE_KEY not in st.session_state:
        lang, problem = initial_language(st.query_params.get(QUERY_KEY), st.context.locale)
        st.session_state[STATE_KEY] = lang
        if problem is not None:
            st.toast(str(problem), icon=":material/translate:")
    st.sidebar.segmented_control(
        t("app.language"), options=list(content.LANGUAGES), format_func=content.LANGUAGES.get,
        key=STATE_KEY, on_change=_keep_a_choice,
    )  # fmt: skip
    lang = st.session_state.get(STATE_KEY) or content.DEFAULT_LANGUAGE
    if st.query_params.get(QUERY_KEY) != lang:
        st.query_params[QUERY_KEY] = lang
    return lang


def _keep_a_choice() -> None:
    """The switch's callback. A language must stay chosen (segmented_control can be clicked off).

    Then every widget's value is set again from Python: a selectbox or radio keeps its value in the
    browser as its *shown label* (Streamlit's SelectboxSerde), so after a switch the browser would send
    back the old language's label, which matches no option of the new one ("unknown loss '非饱和'",
    found by QA while a run trained). A value set through ``st.session_state`` wins over the browser's
    and is sent to it with the new label. Only text values are set again (the options of every translated
    box are identifiers): a button's value, which holds a bool, may not be assigned."""
    if not st.session_state.get(STATE_KEY):
        st.session_state[STATE_KEY] = st.query_params.get(QUERY_KEY) or content.DEFAULT_LANGUAGE
    for key in list(st.session_state.keys()):
        value = st.session_state[key]
        if key != STATE_KEY and isinstance(value, str):
            try:
                st.session_state[key] = value
            except StreamlitAPIException:  # a widget whose value the app may not set
                pass


def href(url_path: str, **query: str) -> str:
    """A link inside the app that keeps the reader's language: ``href("cgan", preset="x")`` ->
    ``"/cgan?preset=x&lang=zh"`` (a Markdown link opens a new page load, which reads ``?lang=``)."""
    return f"/{url_path}?" + urlencode({**query, QUERY_KEY: content.current_language()})
