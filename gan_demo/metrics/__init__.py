"""Sample-quality metrics for image GANs, offline.

- :mod:`~gan_demo.metrics.frechet`: the Fréchet distance between two Gaussians fitted to features
  (Heusel et al. 2017, "GANs trained by a two time-scale update rule ...", eq. 6: FID).
- :mod:`~gan_demo.metrics.classifier`: a small CNN per image data set whose penultimate layer gives
  the features (FID uses Inception-v3, which needs a download; a small in-domain classifier is the
  usual offline stand-in for MNIST-like data), its weights in ``checkpoints/`` with an index.
- :mod:`~gan_demo.metrics.quality`: the report on a batch of G's samples (distance with its
  real-vs-real floor, label histogram, coverage, KL to uniform, confidence).
"""
