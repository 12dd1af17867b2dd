// Philox4x32-10 counter-based generator (Salmon et al., SC'11). The same function runs on
// the host and in CUDA kernels, so a random number depends only on (key, counter): dropout
// masks agree between CPU and GPU and a run is reproducible from its seed.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define MELODY_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define MELODY_HOST_DEVICE inline
#endif

namespace melody {

struct Philox4x32 {
  uint32_t v[4];
};

MELODY_HOST_DEVICE void PhiloxMulHiLo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

// Ten rounds of Philox4x32 on `counter` with the 64-bit `key`.
MELODY_HOST_DEVICE Philox4x32 Philox4x32_10(Philox4x32 counter, uint32_t key0, uint32_t key1) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    PhiloxMulHiLo(kMul0, counter.v[0], &hi0, &lo0);
    PhiloxMulHiLo(kMul1, counter.v[2], &hi1, &lo1);
    Philox4x32 next;
    next.v[0] = hi1 ^ counter.v[1] ^ key0;
    next.v[1] = lo1;
    next.v[2] = hi0 ^ counter.v[3] ^ key1;
    next.v[3] = lo0;
    counter = next;
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  return counter;
}

// Uniform float in [0, 1) from the top 24 bits of a 32-bit word (exactly representable,
// identical on every device).
MELODY_HOST_DEVICE float UniformFloatFromBits(uint32_t bits) {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
}

// One uniform float for element `index` of stream (seed, c1, c2): counter = (index lo,
// index hi, c1, c2). Use c1/c2 to separate independent uses (e.g. step and layer).
MELODY_HOST_DEVICE float PhiloxUniform(uint64_t seed, uint32_t c1, uint32_t c2, uint64_t index) {
  Philox4x32 ctr{{static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), c1, c2}};
  Philox4x32 out = Philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  return UniformFloatFromBits(out.v[0]);
}

// Element `index` of a stream whose elements come four to a Philox call: block index / 4
// (counter = (block lo, block hi, c1, c2)) gives four words, element index takes word
// index % 4. A quarter of PhiloxUniform's cost for long runs of consecutive indices
// (dropout masks), with the same per-element definition on every device.
MELODY_HOST_DEVICE float PhiloxUniformPacked(uint64_t seed, uint32_t c1, uint32_t c2,
                                             uint64_t index) {
  const uint64_t block = index >> 2;
  Philox4x32 ctr{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), c1, c2}};
  Philox4x32 out = Philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  return UniformFloatFromBits(out.v[index & 3]);
}

// out[i] = PhiloxUniformPacked(seed, c1, c2, first + i) for i < n, one Philox call per
// aligned block of four.
inline void PhiloxUniformPackedRun(uint64_t seed, uint32_t c1, uint32_t c2, uint64_t first,
                                   int64_t n, float* out) {
  int64_t i = 0;
  for (; i < n && ((first + i) & 3) != 0; ++i) out[i] = PhiloxUniformPacked(seed, c1, c2, first + i);
  const uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (; i + 4 <= n; i += 4) {
    const uint64_t block = (first + i) >> 2;
    const Philox4x32 r = Philox4x32_10(
        Philox4x32{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), c1, c2}}, k0, k1);
    for (int w = 0; w < 4; ++w) out[i + w] = UniformFloatFromBits(r.v[w]);
  }
  for (; i < n; ++i) out[i] = PhiloxUniformPacked(seed, c1, c2, first + i);
}

}  // namespace melody
