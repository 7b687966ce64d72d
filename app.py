"""GAN Lab: the Streamlit entry point. Run with ``streamlit run app.py``.

The pages are listed once, in ``gan_demo.ui.PAGES``; this file picks the session's language first
(gan_demo.language: the sidebar switch, ``?lang=``, the browser's), builds the navigation in it, ties
the browser session to its runs, notes the device in the sidebar and, once per session, warns of an
environment variable whose value was refused (gan_demo.settings).
"""

from __future__ import annotations

import streamlit as st

from gan_demo import language, settings, ui
from gan_demo.content import t

language.choose()
st.set_page_config(page_title=t("app.title"), page_icon=":material/science:", layout="wide")
page = st.navigation(
    [
        st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path, default=i == 0)
        for i, p in enumerate(ui.PAGES)
    ]  # fmt: skip
)
ui.session_id()
if not st.session_state.get("gan_settings_warned"):  # the environment was checked at start; say it once
    st.session_state["gan_settings_warned"] = True
    for problem in settings.current().problems:
        st.warning(str(problem), icon=":material/warning:")
st.sidebar.caption(t("app.training_on", device=ui.device_label()))
page.run()
