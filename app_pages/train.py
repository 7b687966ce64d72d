"""Train: pick a data set, a loss and its hyperparameters, then watch D and G train live."""

from __future__ import annotations

import streamlit as st

from gan_demo import runs_panel, theory, ui
from gan_demo.data import IMAGE_DATASETS
from gan_demo.metrics import quality

PAGE = "train"

st.title("Train a GAN")
st.markdown(
    "Choose the data, the model and the loss (changing the loss loads its classic settings), then "
    "**Start**. Always check the samples: a loss that looks fine can come with garbage images."
)
with st.expander("How to read the curves and their dashed lines"):
    st.markdown(theory.curves_note())
    st.markdown(theory.NOTATION)
values, errors = ui.config_form(PAGE, IMAGE_DATASETS)
ui.run_controls(PAGE, errors, quality.snapshot_extras)  # the Quality panel's numbers
with st.expander("Open a saved run (.zip)", icon=":material/upload_file:"):
    runs_panel.upload(PAGE, IMAGE_DATASETS)
ui.live_view(PAGE, ui.image_run_panel(PAGE))
