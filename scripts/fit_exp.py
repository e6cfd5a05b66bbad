"""Fits the degree-5 polynomial for exp(r), |r| <= ln2 / 2, used by vexpNeg in
native/src/activation_simd.h (the exp inside every sigmoid and swish).

Minimax in relative error by Lawson's iteration (reweighted least squares on Chebyshev nodes),
then rounded to float32 and checked: prints the coefficients, lowest degree first, and the
largest relative error of the float32 polynomial. Needs numpy only.
Run: python3 scripts/fit_exp.py
"""

import numpy as np

DEGREE = 5
HALF_LN2 = np.log(2.0) / 2
nodes = np.cos(np.linspace(0, np.pi, 4001)) * HALF_LN2
target = np.exp(nodes)
basis = np.vander(nodes, DEGREE + 1, increasing=True) / target[:, None]  # p(r) / exp(r)
weights = np.ones_like(nodes)
for _ in range(60):
    coeffs, *_ = np.linalg.lstsq(basis * weights[:, None], weights, rcond=None)
    error = basis @ coeffs - 1
    weights *= np.abs(error) ** 0.3 + 1e-30
    weights /= weights.mean()

coeffs32 = coeffs.astype(np.float32)
r = np.linspace(-HALF_LN2, HALF_LN2, 200001)
value = np.polyval(coeffs32[::-1].astype(np.float64), r)
print("coefficients:", [repr(float(c)) for c in coeffs32])
print("max relative error:", float(np.max(np.abs(value / np.exp(r) - 1))))
