"""The Fréchet distance between two sets of feature vectors (FID's formula, any feature extractor).

For Gaussians N(μ1, Σ1) and N(μ2, Σ2) the squared Fréchet (2-Wasserstein) distance is

    d² = ‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^{1/2})

(Dowson & Landau 1982; used as FID by Heusel et al. 2017, eq. 6, with Inception-v3 features).
``Tr((Σ1 Σ2)^{1/2})`` is computed as ``Σ sqrt(λ_i)`` over the eigenvalues of the symmetric PSD
matrix ``Σ1^{1/2} Σ2 Σ1^{1/2}``, which has the same eigenvalues as ``Σ1 Σ2``: two symmetric
eigen-decompositions (``numpy.linalg.eigh``), real by construction, where ``scipy.linalg.sqrtm``
of the non-symmetric product can return a complex matrix from rounding (tests check the two agree).
Like FID, the number is the squared distance, and it is biased upward at small sample sizes: compare
it only with a real-vs-real floor at the same sample size.
"""

from __future__ import annotations

import numpy as np


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and covariance ``(d, d)`` (unbiased, ``n − 1``) of ``features`` ``(n, d)``, in
    float64. Raises ``ValueError`` for fewer than 2 rows or non-finite values."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"features must have shape (n, d) with n >= 2, got {f.shape}")
    if not np.isfinite(f).all():
        raise ValueError("features contain NaN or Inf")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def _psd_sqrt(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(m)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """``‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^{1/2})`` for means ``(d,)`` and covariances ``(d, d)``
    (symmetric PSD); ≥ 0, in squared feature units. Raises ``ValueError`` on mismatched shapes."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"shapes do not match: μ1 {mu1.shape}, Σ1 {s1.shape}, μ2 {mu2.shape}, Σ2 {s2.shape}")
    s1, s2 = 0.5 * (s1 + s1.T), 0.5 * (s2 + s2.T)
    r1 = _psd_sqrt(s1)
    cross = np.linalg.eigvalsh(r1 @ s2 @ r1)  # same eigenvalues as Σ1 Σ2
    tr_sqrt = float(np.sqrt(np.clip(cross, 0.0, None)).sum())
    diff = mu1 - mu2
    return max(0.0, float(diff @ diff) + float(np.trace(s1) + np.trace(s2)) - 2.0 * tr_sqrt)


def frechet_distance_features(a: np.ndarray, b: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to feature sets ``a`` ``(n, d)`` and ``b`` ``(m, d)``."""
    return frechet_distance(*feature_stats(a), *feature_stats(b))
