"""Home: what a GAN is, in five lines, and where to go next."""

from __future__ import annotations

import streamlit as st

from gan_demo import ui

st.title("GAN Lab: how GANs train, and how they fail")
st.markdown(
    """
A **generative adversarial network** is two networks that play a game:
1. the **generator** G turns random noise z into samples G(z);
2. the **discriminator** D looks at a sample and tells real (from the data) from fake (from G);
3. D is trained to be right, G is trained to fool D: they optimise one value in opposite directions,
4. and training alternates: a few steps of D with G fixed, then a step of G with D fixed.
5. At the game's equilibrium G's samples follow the data's distribution and D can only guess (D = ½).
"""
)
st.latex(
    r"\min_G \max_D V(D,G) = \mathbb{E}_{x\sim p_\text{data}}[\log D(x)]"
    r" + \mathbb{E}_{z\sim p_z}[\log(1 - D(G(z)))]"
)
st.subheader("Pages")
for p in ui.PAGES[1:]:
    st.page_link(p.path, label=p.title, icon=p.icon)
    st.caption(p.blurb)
st.caption(
    f"Device in use: **{ui.device_label()}** (a GPU is used automatically when there is one)."
)
