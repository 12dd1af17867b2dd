"""Writes tests/fixtures/float_format/numpy_float32_str.json: str(numpy.float32(x)) for a few
thousand float32 bit patterns, the reference for melody::NumpyFloat32Str
(core/float_format.h), which prints the numbers of the training console line
(shared/spec/training.md §4.2) the way the reference's numpy does.

Run with any Python that has numpy. The committed fixture was made with numpy 1.23.5 (the
version pinned in requirements.txt, installed alone in a scratch venv under /tmp, Python 3.11):

    tests/reference/.venv/bin/python tests/reference/make_float_format_fixture.py

The output is deterministic (fixed seed); rerunning with the same numpy rewrites the same file.
"""

import argparse
import json
import os
import random
import struct

import numpy as np

SEED = 20260202


def float_bits(x):
    """Bit pattern of the float32 nearest to the Python float x."""
    return struct.unpack("<I", struct.pack("<f", x))[0]


def neighbours(bits, radius=2):
    """bits and the patterns up to `radius` ulps either side (same sign, finite range)."""
    out = []
    for d in range(-radius, radius + 1):
        b = bits + d
        if 0 <= b <= 0xFFFFFFFF:
            out.append(b)
    return out


def edge_cases():
    cases = []
    # Zeros, infinities, NaNs with either sign and several payloads.
    cases += [0x00000000, 0x80000000, 0x7F800000, 0xFF800000]
    cases += [0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001, 0x7FFFFFFF, 0x7FA00000]
    # Subnormals: the smallest, the largest, a spread between, and the normal boundary.
    cases += [0x00000001, 0x00000002, 0x00000003, 0x007FFFFF, 0x007FFFFE, 0x00400000]
    cases += neighbours(0x00800000)
    cases += [1 << k for k in range(23)]
    # Largest finite and its neighbours below.
    cases += [0x7F7FFFFF, 0x7F7FFFFE, 0x7F7FFFFD]
    # Powers of two (unequal rounding margins below them) and their neighbours.
    for e in range(-149, 128):
        cases += neighbours(float_bits(2.0 ** e), 1)
    # Powers of ten and their neighbours.
    for e in range(-45, 39):
        cases += neighbours(float_bits(float("1e%d" % e)), 2)
    # The two notation boundaries: 1e-4 and 1e16, a wider window around each.
    cases += neighbours(float_bits(1e-4), 8)
    cases += neighbours(float_bits(1e16), 8)
    # Familiar values and the console-line examples of training.md §4.2.
    for x in [0.1, 0.2, 0.3, 1 / 3, 2 / 3, 0.7, 0.9, 1.1, 3.14159265, 2.718281828, 0.5703125,
              1.4234589, 4.151, 3.217, 100.0, 1234567.0, 16777216.0, 16777217.0,
              123456789.0, 0.001, 0.0001234, 9.999999e-5, 9.9999999e15, 65504.0]:
        cases += neighbours(float_bits(x), 1)
    # Small integers and halves.
    cases += [float_bits(float(i) / 2) for i in range(-40, 41)]
    return cases


def halfway_cases(rng):
    """Floats next to a decimal with few digits that lies exactly halfway between two floats.

    Whether such a decimal may be printed for a float depends on the reading rule (it reads
    back as the float with the even mantissa under round-half-even), which random patterns
    almost never exercise. The halfway point between mantissas m and m+1 at binary exponent e
    is o * 2^(e-1) with o = 2m+1 odd; it has t trailing decimal zeros when 5^t divides o and
    t <= e-1. Only e >= 1 (|x| >= 2^24) can give a halfway point shorter than the floats'.
    """
    cases = []
    for e in range(1, 105):
        half_unit = 2 ** (e - 1)
        t = max(1, len(str(2 ** 24 * half_unit)) - 8)
        if t > e - 1 or 5 ** t > 2 ** 25:
            continue
        step = 2 * 5 ** t  # o runs over the odd multiples of 5^t
        first = (2 ** 24 // step) * step + 5 ** t
        count = (2 ** 25 - first) // step
        for _ in range(min(12, count)):
            o = first + step * rng.randrange(count)
            m = (o - 1) // 2
            for mantissa in (m, m + 1):
                if 2 ** 23 <= mantissa < 2 ** 24:
                    cases.append(((e + 150) << 23) | (mantissa - 2 ** 23))
    return cases


def random_cases(rng):
    cases = []
    # Uniformly random bit patterns: every exponent and sign.
    cases += [rng.getrandbits(32) for _ in range(2000)]
    # Values in the range losses, accuracies and perplexities take.
    cases += [float_bits(rng.uniform(0.0, 10.0)) for _ in range(500)]
    cases += [float_bits(rng.uniform(0.0, 1.0)) for _ in range(300)]
    cases += [float_bits(10 ** rng.uniform(-6.0, 18.0)) for _ in range(500)]
    # Random subnormals.
    cases += [rng.getrandbits(23) for _ in range(200)]
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "fixtures", "float_format", "numpy_float32_str.json")
    parser.add_argument("--out", default=os.path.normpath(default_out))
    args = parser.parse_args()

    rng = random.Random(SEED)
    seen = set()
    rows = []
    for bits in edge_cases() + halfway_cases(rng) + random_cases(rng):
        if bits in seen:
            continue
        seen.add(bits)
        value = np.array([bits], dtype=np.uint32).view(np.float32)[0]
        rows.append(["0x%08x" % bits, str(value)])

    fixture = {
        "what": "cases: [bits, str(numpy.float32(x))] for float32 bit patterns x (hex of the "
                "IEEE-754 binary32 encoding as an unsigned integer)",
        "numpy_version": np.__version__,
        "generator": "tests/reference/make_float_format_fixture.py",
        "seed": SEED,
        "cases": rows,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    # One case per line keeps the file small and its diffs readable.
    header = {k: v for k, v in fixture.items() if k != "cases"}
    with open(args.out, "w") as f:
        f.write(json.dumps(header)[:-1] + ', "cases": [\n')
        f.write(",\n".join(json.dumps(row) for row in rows))
        f.write("\n]}\n")
    print("wrote %d cases to %s (numpy %s)" % (len(rows), args.out, np.__version__))


if __name__ == "__main__":
    main()
