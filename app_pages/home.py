"""Home: what a GAN is, in five lines, and where to go next."""

from __future__ import annotations

import streamlit as st

from gan_demo import theory, ui
from gan_demo.content import t

st.title(t("home.title"))
st.markdown(t("home.intro"))
st.latex(
    r"\min_G \max_D V(D,G) = \mathbb{E}_{x\sim p_\text{data}}[\log D(x)]"
    r" + \mathbb{E}_{z\sim p_z}[\log(1 - D(G(z)))]"
)
st.markdown(str(theory.NOTATION))
st.subheader(t("home.pages"))
for p in ui.PAGES[1:]:
    st.page_link(p.path, label=p.title, icon=p.icon)
    st.caption(p.blurb)
st.caption(t("home.device", device=ui.device_label()))
