"""GAN teaching lab: the engine behind the Streamlit app (losses, models, data, trainer, runs)."""

__version__ = "0.1.0"
