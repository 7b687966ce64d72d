"""Home: what a GAN is, in five lines, and where to go next."""

from __future__ import annotations

import streamlit as st

from gan_demo import theory, ui

st.title("GAN Lab: how GANs train, and how they fail")
st.markdown(
    """
A **generative adversarial network** is two networks that play a game:
1. the **generator** G turns random noise z into samples G(z);
2. the **discriminator** D looks at a sample x and gives the probability D(x) that it is real (from the data), not fake (from G);
3. D is trained to be right, G is trained to fool D. In the original minimax game below they optimise one value V in opposite directions; the non-saturating G loss that the app (like most code) uses by default gives G its own objective, −log D(G(z)), with the same equilibrium;
4. training alternates: one or more steps of D with G fixed, then a step of G with D fixed.
5. At the game's equilibrium G's samples follow the data's distribution and D can only guess (D = ½). Real runs, with networks of finite size, end near it, not at it: D keeps an edge (the Train page says how much).
"""
)
st.latex(
    r"\min_G \max_D V(D,G) = \mathbb{E}_{x\sim p_\text{data}}[\log D(x)]"
    r" + \mathbb{E}_{z\sim p_z}[\log(1 - D(G(z)))]"
)
st.markdown(theory.NOTATION)
st.subheader("Pages")
for p in ui.PAGES[1:]:
    st.page_link(p.path, label=p.title, icon=p.icon)
    st.caption(p.blurb)
st.caption(
    f"Device in use: **{ui.device_label()}** (a GPU is used automatically when there is one)."
)
