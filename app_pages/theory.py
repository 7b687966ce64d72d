"""Theory: the seeds' formulas, each beside the code in gan_demo/ that computes it."""

from __future__ import annotations

import streamlit as st

from gan_demo import theory
from gan_demo.content import t

st.title(t("theory.page.title"))
st.markdown(t("theory.page.intro"))
st.markdown(str(theory.NOTATION))

for i, section in enumerate(theory.SECTIONS):
    with st.expander(section.title, expanded=i == 0):
        left, right = st.columns([1, 1])
        with left:
            st.markdown(section.text)
            for formula in section.formulas:  # LaTeX: the same in every language
                st.latex(formula)
        with right:
            for fn in section.code:
                st.caption(f"`{fn.__module__}.{fn.__qualname__}`")
                st.code(theory.source(fn), language="python")

st.subheader(t("theory.page.table"))
st.dataframe(
    theory.equilibrium_table(),
    hide_index=True,
    width="stretch",
    column_config={field: t(f"theory.table.col_{field}") for field in ("loss", "equilibrium", "defaults")},
)
st.markdown(theory.curves_note())
