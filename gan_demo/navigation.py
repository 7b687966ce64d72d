"""Make every page go through ``app.py``'s ``st.navigation``, even on a fresh server.

Streamlit decides per process whether to run the legacy ``pages/`` directory mode: the flag
``PagesManager.uses_pages_directory`` starts True when a ``pages/`` folder sits beside the main
script, and only a call of ``st.navigation`` sets it False. So on a freshly started server, the
first visitor who opens a page's URL directly (a teacher's ``/train?preset=...`` link) gets that
page file run on its own, without ``app.py`` (no navigation, no session wiring), and so does every
visitor after, until someone opens the root URL. Each page calls :func:`require_app` first: in
legacy mode it switches the flag off and reruns, and the rerun goes through ``app.py``.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def require_app() -> None:
    """Rerun through ``app.py`` when Streamlit ran this page file in legacy ``pages/`` mode."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
