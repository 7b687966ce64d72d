"""Train: pick a data set, a loss and its hyperparameters, then watch D and G train live."""

from __future__ import annotations

import streamlit as st

from gan_demo import runs_panel, theory, ui
from gan_demo.content import t
from gan_demo.data import IMAGE_DATASETS
from gan_demo.metrics import quality

PAGE = "train"

st.title(t("train.title"))
st.markdown(t("train.intro"))
with st.expander(t("train.curves_help")):
    st.markdown(theory.curves_note())
    st.markdown(theory.NOTATION)
values, errors = ui.config_form(PAGE, IMAGE_DATASETS)
ui.run_controls(PAGE, errors, quality.snapshot_extras)  # the Quality panel's numbers
with st.expander(t("train.open_saved"), icon=":material/upload_file:"):
    runs_panel.upload(PAGE, IMAGE_DATASETS)
ui.live_view(PAGE, ui.image_run_panel(PAGE))
