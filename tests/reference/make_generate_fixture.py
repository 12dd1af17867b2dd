"""Per-step softmax of Magenta's own generator for fixed weights (the 2019 compat bundle).

Loads shared/data/compat/attention_rnn_pipeline_2019/my_model.mag with Magenta's
MelodyRnnSequenceGenerator (sequence_generator_bundle.read_bundle_file, generator
.initialize(): the bundle's metagraph imported and its V1 checkpoint restored, exactly as
melody_rnn_generate does), squashes each test melody as generate_melody does, encodes it
with the config's encoder (get_inputs_batch, full length) and runs the generate graph from
the zero initial state: softmax for every position, teacher-forced. Writes
tests/fixtures/generate/softmax_2019_bundle.json, compared by
tests/apps/generate_reference_test.cc within 1e-5 absolute.

Run: tests/reference/.venv/bin/python tests/reference/make_generate_fixture.py
"""
import argparse
import json
import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow.compat.v1 as tf
import note_seq
from magenta.models.melody_rnn import melody_rnn_model
from magenta.models.melody_rnn import melody_rnn_sequence_generator
from magenta.models.shared import sequence_generator_bundle

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("MELODY_SHARED_DIR", os.path.join(os.path.dirname(ROOT), "shared"))
BUNDLE = "data/compat/attention_rnn_pipeline_2019/my_model.mag"


def melody_of_midi(path):
  seq = note_seq.midi_file_to_note_sequence(path)
  q = note_seq.quantize_note_sequence(seq, 4)
  m = note_seq.Melody()
  m.from_quantized_sequence(q, gap_bars=float("inf"), ignore_polyphonic_notes=True)
  return list(m)


def cases():
  rng = np.random.RandomState(2019)
  random_melody = [60]
  for _ in range(63):
    r = rng.rand()
    random_melody.append(-2 if r < 0.45 else -1 if r < 0.55 else int(rng.randint(40, 90)))
  gen_dir = os.path.join(SHARED, "data/compat/attention_rnn_pipeline_2019/generated_midi")
  return [
      ("magenta_output_2019-02-20_002628_03", melody_of_midi(
          os.path.join(gen_dir, "2019-02-20_002628_03.mid")), 1.0),
      ("random_64_steps", random_melody, 1.0),
      ("primer_worked_example_t0.7", [60, -2, 60, -2, 67, -2, 67, -2, -1, -2], 0.7),
      ("transposed_high_t1.5", [84, -2, 86, -2, 88, -1, 91, -2, 79, -2, -2, 84], 1.5),
  ]


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--out", default=os.path.join(ROOT, "tests/fixtures/generate/softmax_2019_bundle.json"))
  args = ap.parse_args()
  bundle = sequence_generator_bundle.read_bundle_file(os.path.join(SHARED, BUNDLE))
  config = melody_rnn_model.default_configs[bundle.generator_details.id]
  model = melody_rnn_model.MelodyRnnModel(config)
  generator = melody_rnn_sequence_generator.MelodyRnnSequenceGenerator(
      model=model, details=config.details, steps_per_quarter=4, bundle=bundle)
  generator.initialize()
  session = model._session
  graph = session.graph
  inputs_t = graph.get_collection("inputs")[0]
  temperature_t = graph.get_collection("temperature")[0]
  softmax_t = graph.get_collection("softmax")[0]
  initial_state_t = graph.get_collection("initial_state")
  batch = inputs_t.shape[0]
  out = {"bundle": BUNDLE, "batch_size_of_graph": int(batch), "cases": [],
         "versions": {"tensorflow": tf.__version__, "numpy": np.__version__,
                      "python": sys.version.split()[0]}}
  for name, events, temperature in cases():
    melody = note_seq.Melody(events)
    amount = melody.squash(config.min_note, config.max_note, config.transpose_to_key)
    squashed = list(melody)
    inputs = config.encoder_decoder.get_inputs_batch([melody], full_length=True)
    inputs = np.array(inputs * batch, dtype=np.float32)  # every row the same melody
    feed = {inputs_t: inputs, temperature_t: temperature}
    for t in initial_state_t:
      feed[t] = np.zeros(t.shape.as_list(), np.float32)
    softmax = session.run(softmax_t, feed)
    # Rows of the batch hold the same melody; TF's kernels may round rows differently.
    row_spread = float(np.max(np.abs(softmax - softmax[0:1])))
    out["cases"].append({"name": name, "events": [int(e) for e in events], "squash_amount": int(amount),
                         "squashed_events": [int(e) for e in squashed], "temperature": temperature, "row_spread": row_spread,
                         "softmax": [[float(x) for x in row] for row in softmax[0]]})
  # melody_log_likelihood as generation.md §10 describes it, for Magenta's own outputs:
  # squash a copy, teacher-force from the zero state at temperature 1, sum log p(label).
  out["midi_scores"] = []
  gen_dir = os.path.join(SHARED, "data/compat/attention_rnn_pipeline_2019/generated_midi")
  for name in sorted(os.listdir(gen_dir)):
    melody = note_seq.Melody(melody_of_midi(os.path.join(gen_dir, name)))
    melody.squash(config.min_note, config.max_note, config.transpose_to_key)
    inputs = config.encoder_decoder.get_inputs_batch([melody], full_length=True)
    feed = {inputs_t: np.array(inputs * batch, dtype=np.float32), temperature_t: 1.0}
    for t in initial_state_t:
      feed[t] = np.zeros(t.shape.as_list(), np.float32)
    softmax = session.run(softmax_t, feed)[0]
    total = 0.0
    for i in range(1, len(melody)):
      label = config.encoder_decoder.events_to_label(melody, i)
      total += float(np.log(softmax[i - 1][label]))
    out["midi_scores"].append({"file": name, "events": len(melody), "log_likelihood": total})
  with open(args.out, "w") as f:
    json.dump(out, f, indent=None, separators=(",", ":"))
    f.write("\n")
  print("wrote", args.out, [len(c["events"]) for c in out["cases"]])


if __name__ == "__main__":
  main()
