"""Theory: the seeds' formulas, each beside the code in gan_demo/ that computes it."""

from __future__ import annotations

import streamlit as st

from gan_demo import theory

st.title("Theory: the formulas and the code that runs them")
st.markdown(
    "Every formula below sits beside the function of `gan_demo` that computes it. The code is read "
    "from the running package with `inspect.getsource`, so it cannot drift from what trains on "
    "the other pages."
)
st.markdown(theory.NOTATION)

for i, section in enumerate(theory.SECTIONS):
    with st.expander(section.title, expanded=i == 0):
        left, right = st.columns([1, 1])
        with left:
            st.markdown(section.text)
            for formula in section.formulas:
                st.latex(formula)
        with right:
            for fn in section.code:
                st.caption(f"`{fn.__module__}.{fn.__qualname__}`")
                st.code(theory.source(fn), language="python")

st.subheader("Equilibrium values and classic defaults")
st.dataframe(theory.equilibrium_table(), hide_index=True, width="stretch")
st.markdown(theory.curves_note())
