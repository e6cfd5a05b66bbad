// 8-lane float math on GCC vector extensions, shared by the batch-norm and activation kernels.
// Deliberately no include guard and no includes: a kernel file includes it once per instruction
// set, inside a namespace and a `#pragma GCC target` region, so the same source compiles to AVX2+FMA
// (ymm) and to the x86-64 baseline (two xmm halves) and the addon picks one at run time.
// Channel loops process 8 lanes at a time; a row's last partial block is loaded zero-padded and
// stored partially, so tails run the same code as the body. The includer defines CREAM_SIMD_AVX2
// for the AVX2 inclusion and includes <immintrin.h> before the namespace.

typedef float f8 __attribute__((vector_size(32)));
typedef int i8 __attribute__((vector_size(32)));

#define CREAM_INLINE inline __attribute__((always_inline))
// Helpers take vectors by reference: by value, GCC notes an ABI change for 32-byte vectors in the
// baseline (non-AVX) build, although everything here is inlined; returns warn the same way.
#pragma GCC diagnostic ignored "-Wpsabi"

CREAM_INLINE f8 splat(float v) { return f8{v, v, v, v, v, v, v, v}; }
CREAM_INLINE f8 load8(const float* p) {
  f8 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
CREAM_INLINE void store8(float* p, const f8& v) { __builtin_memcpy(p, &v, sizeof v); }
// Loads n < 8 floats, zero-filling the other lanes.
CREAM_INLINE f8 loadN(const float* p, int n) {
  f8 v = splat(0.f);
  for (int i = 0; i < n; ++i) v[i] = p[i];
  return v;
}
CREAM_INLINE void storeN(float* p, const f8& v, int n) {
  for (int i = 0; i < n; ++i) p[i] = v[i];
}
CREAM_INLINE f8 loadAny(const float* p, int n) { return n >= 8 ? load8(p) : loadN(p, n); }
CREAM_INLINE void storeAny(float* p, const f8& v, int n) {
  if (n >= 8) store8(p, v);
  else storeN(p, v, n);
}
// Calls f(c, n) for the 8-lane blocks of [0, C): full blocks in a loop of their own (n = 8 is a
// constant there, so loadAny/storeAny compile to plain vector moves), then the partial tail. f is
// an always_inline lambda.
template <typename F>
CREAM_INLINE void forBlocks(int64_t C, F f) {
  int64_t c = 0;
  for (; c + 8 <= C; c += 8) f(c, 8);
  if (c < C) f(c, static_cast<int>(C - c));
}
// Comparisons return masks (all-ones or zero lanes, kept as floats) for select/mand. Written with
// intrinsics: GCC lowers vector `?:` and compares to compare + blend at best, and without SSE4.1
// (baseline build) to scalar code.
#ifdef CREAM_SIMD_AVX2
CREAM_INLINE f8 vmax(const f8& a, const f8& b) { return (f8)_mm256_max_ps((__m256)a, (__m256)b); }
CREAM_INLINE f8 vmin(const f8& a, const f8& b) { return (f8)_mm256_min_ps((__m256)a, (__m256)b); }
CREAM_INLINE f8 gt(const f8& a, const f8& b) { return (f8)_mm256_cmp_ps((__m256)a, (__m256)b, _CMP_GT_OQ); }
CREAM_INLINE f8 lt(const f8& a, const f8& b) { return (f8)_mm256_cmp_ps((__m256)a, (__m256)b, _CMP_LT_OQ); }
CREAM_INLINE f8 mand(const f8& m1, const f8& m2) { return (f8)_mm256_and_ps((__m256)m1, (__m256)m2); }
// mask ? a : b per lane
CREAM_INLINE f8 select(const f8& mask, const f8& a, const f8& b) {
  return (f8)_mm256_blendv_ps((__m256)b, (__m256)a, (__m256)mask);
}
#else
union Halves {
  f8 v;
  __m128 h[2];
};
template <typename Op>
CREAM_INLINE f8 byHalves(const f8& a, const f8& b, Op op) {
  Halves x{a}, y{b}, r;
  r.h[0] = op(x.h[0], y.h[0]);
  r.h[1] = op(x.h[1], y.h[1]);
  return r.v;
}
CREAM_INLINE f8 vmax(const f8& a, const f8& b) {
  return byHalves(a, b, [](__m128 p, __m128 q) { return _mm_max_ps(p, q); });
}
CREAM_INLINE f8 vmin(const f8& a, const f8& b) {
  return byHalves(a, b, [](__m128 p, __m128 q) { return _mm_min_ps(p, q); });
}
CREAM_INLINE f8 gt(const f8& a, const f8& b) {
  return byHalves(a, b, [](__m128 p, __m128 q) { return _mm_cmpgt_ps(p, q); });
}
CREAM_INLINE f8 lt(const f8& a, const f8& b) {
  return byHalves(a, b, [](__m128 p, __m128 q) { return _mm_cmplt_ps(p, q); });
}
CREAM_INLINE f8 mand(const f8& m1, const f8& m2) {
  return byHalves(m1, m2, [](__m128 p, __m128 q) { return _mm_and_ps(p, q); });
}
CREAM_INLINE f8 select(const f8& mask, const f8& a, const f8& b) {
  Halves m{mask}, x{a}, y{b}, r;
  for (int i = 0; i < 2; ++i) r.h[i] = _mm_or_ps(_mm_and_ps(m.h[i], x.h[i]), _mm_andnot_ps(m.h[i], y.h[i]));
  return r.v;
}
#endif
CREAM_INLINE float hsum(const f8& v) { return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7])); }

// exp(-x), x clamped to [-88, 87.34] so that the result is a normal float; ~2e-7 relative error.
// Range reduction: -x = n ln2 + r with n = round(-x log2 e), |r| <= ln2 / 2. The FMA that adds
// 1.5 * 2^23 + 127 to -x log2 e rounds it to n and leaves n + 127 in the low mantissa bits, so a
// shift builds 2^n in the exponent field; r comes from two steps with ln2 split into 0.693359375,
// whose product with n is exact even without FMA (the baseline build), and the remainder. exp(r)
// is a degree-5 minimax polynomial in relative error (scripts/fit_exp.py fits it), evaluated at
// q = -r = x + n ln2 with the odd coefficients negated, which saves negating x. 13 vector ops where
// a Cephes-style exp(-x) takes 18: sigmoid ran in 7.1 instead of 9.5 cycles per 8 lanes here, at
// 2.6e-7 instead of 1.4e-7 largest relative error.
CREAM_INLINE f8 vexpNeg(const f8& in) {
  const f8 x = vmin(vmax(in, splat(-88.f)), splat(87.33654f));
  const f8 magic = splat(12582912.f + 127.f);
  const f8 k = x * splat(-1.44269504088896341f) + magic;
  const f8 n = k - magic;
  const f8 q = (n * splat(0.693359375f) + x) + n * splat(-2.12194440e-4f);
  f8 p = splat(-8.297646418213844e-3f);
  p = p * q + splat(4.191538318991661e-2f);
  p = p * q + splat(-1.6667574644088745e-1f);
  p = p * q + splat(4.9998894333839417e-1f);
  p = p * q + splat(-9.999997019767761e-1f);
  p = p * q + splat(1.0000001192092896f);
  return p * (f8)((i8)k << 23);
}

CREAM_INLINE f8 vsigmoid(const f8& x) { return splat(1.f) / (splat(1.f) + vexpNeg(x)); }

// Activation codes, shared with TypeScript (src/tensor/ops/activation.ts).
enum Act : int { kNone = 0, kRelu = 1, kRelu6 = 2, kSwish = 3, kSigmoid = 4, kHardSigmoid = 5 };

template <int A>
CREAM_INLINE f8 actForward(const f8& z) {
  if constexpr (A == kNone) return z;
  if constexpr (A == kRelu) return vmax(z, splat(0.f));
  if constexpr (A == kRelu6) return vmin(vmax(z, splat(0.f)), splat(6.f));
  if constexpr (A == kSwish) return z * vsigmoid(z);
  if constexpr (A == kSigmoid) return vsigmoid(z);
  if constexpr (A == kHardSigmoid) return vmin(vmax(z + splat(3.f), splat(0.f)), splat(6.f)) * splat(1.f / 6.f);
}

// d act(z) / dz times g, from the activation's input z.
template <int A>
CREAM_INLINE f8 actGradFromInput(const f8& z, const f8& g) {
  const f8 zero = splat(0.f);
  if constexpr (A == kNone) return g;
  if constexpr (A == kRelu) return select(gt(z, zero), g, zero);
  if constexpr (A == kRelu6) return select(mand(gt(z, zero), lt(z, splat(6.f))), g, zero);
  if constexpr (A == kSwish) {
    f8 s = vsigmoid(z);
    return g * (s * (splat(1.f) + z * (splat(1.f) - s)));
  }
  if constexpr (A == kSigmoid) {
    f8 s = vsigmoid(z);
    return g * (s * (splat(1.f) - s));
  }
  if constexpr (A == kHardSigmoid) {
    return select(mand(gt(z, splat(-3.f)), lt(z, splat(3.f))), g * splat(1.f / 6.f), zero);
  }
}

// Swish's derivative times g from its input u and its output y = u sigmoid(u): sigmoid(u) = y / u,
// which saves the exponential where y is at hand. Where |u| < 1e-30 the quotient is not to be
// trusted (y may be denormal or zero) and sigmoid(u) is 1/2 to float precision.
CREAM_INLINE f8 swishGradWithOutput(const f8& u, const f8& y, const f8& g) {
  const f8 small = lt(vmax(u, splat(0.f) - u), splat(1e-30f));
  const f8 s = select(small, splat(0.5f), y / select(small, splat(1.f), u));
  return g * (s + y * (splat(1.f) - s));
}

// The same derivative from the activation's output y, for activations where y determines it
// (saves keeping the input alive): relu y>0, relu6 0<y<6, sigmoid y(1-y), hard-sigmoid 0<y<1.
template <int A>
CREAM_INLINE f8 actGradFromOutput(const f8& y, const f8& g) {
  const f8 zero = splat(0.f);
  if constexpr (A == kRelu) return select(gt(y, zero), g, zero);
  if constexpr (A == kRelu6) return select(mand(gt(y, zero), lt(y, splat(6.f))), g, zero);
  if constexpr (A == kSigmoid) return g * (y * (splat(1.f) - y));
  if constexpr (A == kHardSigmoid) return select(mand(gt(y, zero), lt(y, splat(1.f))), g * splat(1.f / 6.f), zero);
  return g;
}
