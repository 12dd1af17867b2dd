#!/usr/bin/env python3
"""Cross-checks melody_rnn_export --format=tfjs with TensorFlow.js's own Python reader.

Runs in a SCRATCH venv, not tests/reference/.venv (tensorflowjs would replace its
TensorFlow):

  python3 -m venv /tmp/tfjs_venv && /tmp/tfjs_venv/bin/pip install tensorflowjs
  /tmp/tfjs_venv/bin/python tests/reference/check_tfjs_export.py --build_dir=build-tfjs

Versions this was run with (printed at the start; also in README.md "magenta.js /
TF.js"): tensorflowjs 4.22.0, tensorflow 2.19.0, numpy 2.1.3, protobuf 5.29.6, Python
3.11.7 (pip's resolution of `pip install tensorflowjs` on 2026-12-02).

`import tensorflowjs` fails in that environment: the package's __init__ imports its
converters, which import tensorflow_decision_forests, whose ydf 0.16.0 protos need
protobuf >= 6.31 while tensorflow 2.19 pins protobuf < 6. The reader does not need the
converters, so load_tfjs_modules() registers the installed package directory without
running its __init__ and imports tensorflowjs.read_weights and tensorflowjs.quantization
from it: TF.js's own reader code, unchanged.

Checks, with tensorflowjs.read_weights.read_weights (TF.js's reader) on our exports and
TensorFlow's checkpoint reader (tf.train.load_checkpoint) on the sources:
  1. a real Magenta training checkpoint (shared/data/compat/checkpoints_v2/
     attention_rnn_64x64_tf1.13, with Adam slots, beta powers and global_step), exported
     with --quantize=none, float16 and uint8: the manifest names exactly the 14 model
     variables (no slot, step or power), every shape equals the checkpoint's, values are
     bit-identical for none, equal to numpy's float16 rounding for float16, and within
     scale/2 for uint8 (levels compared with tensorflowjs.quantization.quantize_weights);
     shards are group1-shard<i>of<n>.bin of at most 4 MiB;
  2. the 2019 bundle (my_model.mag) exported likewise (its V1 checkpoint read by
     tf.compat.v1.train.NewCheckpointReader);
  3. our import of the real converted checkpoint (shared/data/compat/
     tfjs_attention_rnn_128x128): melody_rnn_generate --tfjs_dir --save_generator_bundle
     writes its model variables into a bundle, whose V1 checkpoint TF reads; every value
     equals what TF.js's reader gets from the converter-written shard.
Exit status 0 when everything matches.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

FOUR_MIB = 4 * 1024 * 1024
NON_MODEL_SUFFIXES = ("/Adam", "/Adam_1")
NON_MODEL_NAMES = ("global_step", "beta1_power", "beta2_power")

failures = []


def check(cond, message):
    if not cond:
        failures.append(message)
        print("FAIL:", message)


def is_model_variable(name):
    return not name.endswith(NON_MODEL_SUFFIXES) and name not in NON_MODEL_NAMES


def load_tfjs_modules():
    """tensorflowjs.read_weights and .quantization without the package's __init__."""
    import importlib
    import importlib.util
    import types
    if "tensorflowjs" not in sys.modules:
        spec = importlib.util.find_spec("tensorflowjs")
        if spec is None:
            sys.exit("tensorflowjs is not installed (pip install tensorflowjs in a scratch venv)")
        package = types.ModuleType("tensorflowjs")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["tensorflowjs"] = package
    version = {}
    exec(open(os.path.join(sys.modules["tensorflowjs"].__path__[0], "version.py")).read(), version)
    return (importlib.import_module("tensorflowjs.read_weights"),
            importlib.import_module("tensorflowjs.quantization"), version.get("version", "?"))


def read_export(directory):
    read_weights, _, _ = load_tfjs_modules()
    with open(os.path.join(directory, "weights_manifest.json")) as f:
        manifest = json.load(f)
    groups = read_weights.read_weights(manifest, directory)
    values = {e["name"]: np.asarray(e["data"]) for group in groups for e in group}
    return manifest, values


def raw_levels(manifest, directory):
    """The stored (quantized) arrays, straight from the shards, for uint8 entries."""
    out = {}
    for group in manifest:
        data = b"".join(open(os.path.join(directory, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            q = w.get("quantization")
            dtype = np.dtype(q["dtype"] if q else w["dtype"])
            count = int(np.prod(w["shape"])) if w["shape"] else 1
            arr = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
            offset += dtype.itemsize * count
            out[w["name"]] = (arr.reshape(w["shape"]), q)
    return out


def check_shards(manifest, directory, label):
    check(len(manifest) == 1, f"{label}: one weight group")
    paths = manifest[0]["paths"]
    n = len(paths)
    for i, p in enumerate(paths):
        check(p == f"group1-shard{i + 1}of{n}.bin", f"{label}: shard name {p}")
        size = os.path.getsize(os.path.join(directory, p))
        check(size <= FOUR_MIB, f"{label}: {p} is {size} bytes (> 4 MiB)")


def compare(label, expected, manifest, got, quantize, directory):
    _, quantization, _ = load_tfjs_modules()
    model = {k: v for k, v in expected.items() if is_model_variable(k)}
    check(sorted(got) == sorted(model),
          f"{label}: manifest names {sorted(set(got) ^ set(model))} differ from the model variables")
    check_shards(manifest, directory, label)
    levels = raw_levels(manifest, directory)
    worst = 0.0
    level_mismatches = 0
    for name, want in model.items():
        if name not in got:
            continue
        have = got[name]
        check(list(have.shape) == list(want.shape), f"{label}: {name} shape {have.shape} vs {want.shape}")
        if have.shape != want.shape:
            continue
        diff = float(np.max(np.abs(have.astype(np.float64) - want.astype(np.float64)))) if want.size else 0.0
        worst = max(worst, diff)
        if quantize == "none":
            check(have.dtype == np.float32 and have.tobytes() == want.astype(np.float32).tobytes(),
                  f"{label}: {name} values are not bit-identical")
        elif quantize == "float16":
            same = want.astype(np.float16).astype(np.float32)
            check(np.array_equal(have.astype(np.float32), same),
                  f"{label}: {name} differs from numpy's float16 rounding")
        else:
            arr, q = levels[name]
            check(diff <= q["scale"] / 2 * (1 + 1e-6) + 1e-7,
                  f"{label}: {name} max |diff| {diff} > scale/2 = {q['scale'] / 2}")
            ref, meta = quantization.quantize_weights(want.astype(np.float32), np.uint8)
            check(abs(meta["scale"] - q["scale"]) <= 1e-12 * max(1.0, abs(q["scale"])) and
                  abs(meta["min"] - q["min"]) <= 1e-9,
                  f"{label}: {name} min/scale {q['min']}/{q['scale']} vs converter {meta['min']}/{meta['scale']}")
            level_mismatches += int(np.sum(np.abs(ref.astype(np.int32) - arr.astype(np.int32)) > 0))
            check(int(np.max(np.abs(ref.astype(np.int32) - arr.astype(np.int32)), initial=0)) <= 1,
                  f"{label}: {name} levels differ from the converter's by more than 1")
    extra = f", levels differing from the converter's: {level_mismatches}" if quantize == "uint8" else ""
    print(f"{label}: {len(got)} tensors, quantize={quantize}, max |diff| = {worst:.3g}{extra}")


def run(cmd):
    print("+", " ".join(cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def bundle_checkpoint(path):
    """checkpoint_file[0] (field 2) of a GeneratorBundle, by the protobuf wire rules."""
    data = open(path, "rb").read()
    i = 0

    def varint():
        nonlocal i
        shift = value = 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return value

    while i < len(data):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 2:
            n = varint()
            if field == 2:
                return data[i:i + n]
            i += n
        elif wire == 0:
            varint()
        else:
            raise ValueError(f"{path}: unexpected wire type {wire}")
    raise ValueError(f"{path}: no checkpoint_file")


def read_v1(image_bytes, tmp):
    import tensorflow as tf
    path = os.path.join(tmp, "v1.ckpt")
    with open(path, "wb") as f:
        f.write(image_bytes)
    reader = tf.compat.v1.train.NewCheckpointReader(path)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build_dir", default="build")
    parser.add_argument("--shared_dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
    args = parser.parse_args()
    import tensorflow as tf
    _, _, tfjs_version = load_tfjs_modules()
    print(f"tensorflowjs {tfjs_version}, tensorflow {tf.__version__}, numpy {np.__version__}, "
          f"python {sys.version.split()[0]}")
    export = os.path.join(args.build_dir, "apps", "melody_rnn_export")
    generate = os.path.join(args.build_dir, "apps", "melody_rnn_generate")
    compat = os.path.join(args.shared_dir, "data", "compat")
    ckpt = os.path.join(compat, "checkpoints_v2", "attention_rnn_64x64_tf1.13", "model.ckpt-12949")
    bundle = os.path.join(compat, "attention_rnn_pipeline_2019", "my_model.mag")
    converted = os.path.join(compat, "tfjs_attention_rnn_128x128")

    with tempfile.TemporaryDirectory() as tmp:
        reader = tf.train.load_checkpoint(ckpt)
        from_ckpt = {n: reader.get_tensor(n) for n in reader.get_variable_to_shape_map()}
        from_bundle = read_v1(bundle_checkpoint(bundle), tmp)
        for quantize in ("none", "float16", "uint8"):
            out = os.path.join(tmp, "ckpt_" + quantize)
            run([export, "--checkpoint_file=" + ckpt, "--config=attention_rnn",
                 "--hparams=rnn_layer_sizes=[64,64]", "--output_dir=" + out, "--quantize=" + quantize])
            manifest, got = read_export(out)
            compare("training checkpoint 12949", from_ckpt, manifest, got, quantize, out)
            out = os.path.join(tmp, "bundle_" + quantize)
            run([export, "--bundle_file=" + bundle, "--output_dir=" + out, "--quantize=" + quantize])
            manifest, got = read_export(out)
            compare("2019 bundle", from_bundle, manifest, got, quantize, out)

        # 3. Our import of the converter-written checkpoint, against TF.js's own reading.
        _, tfjs_values = read_export(converted)
        mag = os.path.join(tmp, "imported.mag")
        run([generate, "--tfjs_dir=" + converted, "--save_generator_bundle", "--bundle_file=" + mag])
        imported = read_v1(bundle_checkpoint(mag), tmp)
        model = {k: v for k, v in tfjs_values.items() if is_model_variable(k)}
        check(sorted(imported) == sorted(model), "import: variable set differs from the model variables")
        same = sum(1 for k in model if k in imported and imported[k].tobytes() == model[k].tobytes())
        check(same == len(model), f"import: {len(model) - same} tensors differ from TF.js's reading")
        print(f"converted checkpoint: {same} of {len(model)} model tensors identical to TF.js's reading "
              f"({len(tfjs_values) - len(model)} Adam slots ignored)")

    print("OK" if not failures else f"{len(failures)} FAILURES")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
