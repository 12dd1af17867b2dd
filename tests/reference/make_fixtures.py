#!/usr/bin/env python3
"""Writes reference-model fixtures computed by Magenta's own training graph.

For each case below, this script builds the *unmodified* Melody RNN training
graph with magenta.models.shared.events_rnn_graph.get_build_graph_fn(
mode='train', ...) (Magenta's make_rnn_cell, tf.nn.dynamic_rnn, the
tf_slim linear layer, the sparse softmax cross-entropy loss and the tf_slim
train op).  The only substitution is the input reader: Magenta's
get_padded_batch (a TFRecord queue) is replaced by three placeholders with the
same dtypes and shapes it returns, so that a fixed batch can be fed.  With
--check-queue the script additionally rebuilds each graph with the real queue
reader over a TFRecord of the same SequenceExamples and checks that it yields
the same loss (see README.md).

Every trainable variable is then overwritten with deterministic
uniform(-0.3, 0.3) values (biases included), a fixed ragged batch made by the
config's own note_seq encoder from random melodies is fed, and the script
records the loss, the logits of the valid positions (batch-major) and
d loss / d variable (tf.gradients, before any clipping).

Output: tests/fixtures/reference_model/<case>.json (format in README.md).
Must run inside tests/reference/.venv (see make_venv.sh).
"""

import argparse
import copy
import json
import os
import platform
import sys
import tempfile
import zlib

import numpy as np

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
# oneDNN kernels may change float summation order between machines; the plain
# Eigen kernels keep the fixtures reproducible.
os.environ['TF_ENABLE_ONEDNN_OPTS'] = '0'

import magenta  # pylint: disable=g-import-not-at-top
import magenta.common
from magenta.models.melody_rnn import melody_rnn_model
from magenta.models.shared import events_rnn_graph
from magenta.pipelines import pipelines_common
import note_seq
import tensorflow.compat.v1 as tf
import tf_slim

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DEFAULT_OUT_DIR = os.path.join(REPO_ROOT, 'tests', 'fixtures', 'reference_model')

BATCH_LENGTHS = [10, 7, 1]  # ragged on purpose: padding and a length-1 row
WEIGHT_RANGE = 0.3
MAX_FIXTURE_BYTES = 500 * 1024

# (case name, config name, --hparams string applied on top of the config).
CASES = [
    ('basic_rnn', 'basic_rnn',
     'batch_size=3,rnn_layer_sizes=[16,16],dropout_keep_prob=1.0'),
    ('mono_rnn', 'mono_rnn',
     'batch_size=3,rnn_layer_sizes=[12,12],dropout_keep_prob=1.0'),
    ('lookback_rnn', 'lookback_rnn',
     'batch_size=3,rnn_layer_sizes=[16,16],dropout_keep_prob=1.0'),
    ('attention_rnn', 'attention_rnn',
     'batch_size=3,rnn_layer_sizes=[12,12],dropout_keep_prob=1.0,'
     'attn_length=5'),
    # Residual connections: layer 0 always gets an input projection, layer 1
    # gets one because its width differs from layer 0's.
    ('basic_rnn_residual', 'basic_rnn',
     'batch_size=3,rnn_layer_sizes=[12,16],dropout_keep_prob=1.0,'
     'residual_connections=true'),
    # Residual + attention: the attention wrapper sits under the layer-0
    # input projection (different variable names and projection widths).
    ('attention_rnn_residual', 'attention_rnn',
     'batch_size=3,rnn_layer_sizes=[12,12],dropout_keep_prob=1.0,'
     'attn_length=5,residual_connections=true'),
]


class Float32(object):
  """A float32 value that the JSON writer prints as its shortest decimal."""

  def __init__(self, value):
    self.value = np.float32(value)


def float32_text(value):
  """Shortest decimal that parses (to double, then to float32) back exactly."""
  if not np.isfinite(value):
    raise ValueError('non-finite value %r cannot be written as JSON' % value)
  text = str(np.float32(value))
  # The C++ reader parses to double and casts to float; prove that path is
  # exact for this value (bitwise, so -0.0 stays -0.0).
  back = np.float32(float(text))
  if back.tobytes() != np.float32(value).tobytes():
    raise AssertionError('%s does not round-trip to %r' % (text, value))
  return text


def to_json(obj):
  """Compact JSON text; Float32 as shortest float32 text, float via repr."""
  if isinstance(obj, Float32):
    return float32_text(obj.value)
  if isinstance(obj, bool):
    return 'true' if obj else 'false'
  if isinstance(obj, (int, np.integer)):
    return str(int(obj))
  if isinstance(obj, float):
    if not np.isfinite(obj):
      raise ValueError('non-finite float %r' % obj)
    return repr(obj)
  if isinstance(obj, str):
    return json.dumps(obj)
  if obj is None:
    return 'null'
  if isinstance(obj, dict):
    return '{' + ','.join(
        json.dumps(str(k)) + ':' + to_json(v) for k, v in obj.items()) + '}'
  if isinstance(obj, (list, tuple)):
    return '[' + ','.join(to_json(v) for v in obj) + ']'
  raise TypeError('cannot write %r as JSON' % type(obj))


def float32_list(array):
  return [Float32(v) for v in np.asarray(array, np.float32).reshape(-1)]


def nested_float32(array):
  array = np.asarray(array, np.float32)
  if array.ndim == 0:
    return Float32(array)
  return [nested_float32(row) for row in array]


def tensor_record(array):
  array = np.asarray(array, np.float32)
  return {'shape': list(array.shape), 'values': float32_list(array)}


def random_melody(rng, num_events, min_note, max_note):
  """A random monophonic melody (note_seq.Melody) with notes in range."""
  events = [int(rng.randint(min_note, max_note))]
  while len(events) < num_events:
    r = rng.uniform()
    if r < 0.45:
      events.append(note_seq.MELODY_NO_EVENT)
    elif r < 0.55:
      events.append(note_seq.MELODY_NOTE_OFF)
    else:
      events.append(int(rng.randint(min_note, max_note)))
  return note_seq.Melody(events)


def make_batch(config, rng):
  """Encodes random melodies with the config's encoder; zero-pads the batch."""
  encoder = config.encoder_decoder
  melodies, encoded = [], []
  for length in BATCH_LENGTHS:
    melody = random_melody(rng, length + 1, config.min_note, config.max_note)
    inputs, labels = encoder.encode(melody)
    assert len(inputs) == length and len(labels) == length
    melodies.append(melody)
    encoded.append((inputs, labels))
  max_len = max(BATCH_LENGTHS)
  batch_inputs = np.zeros([len(encoded), max_len, encoder.input_size],
                          np.float32)
  batch_labels = np.zeros([len(encoded), max_len], np.int64)
  for b, (inputs, labels) in enumerate(encoded):
    batch_inputs[b, :len(inputs)] = np.asarray(inputs, np.float32)
    batch_labels[b, :len(labels)] = labels
  batch_lengths = np.asarray(BATCH_LENGTHS, np.int32)
  assert batch_labels.max() < encoder.num_classes
  return melodies, encoded, batch_inputs, batch_labels, batch_lengths


class PlaceholderBatch(object):
  """Stands in for magenta.common.get_padded_batch while a graph is built."""

  def __init__(self):
    self.tensors = None

  def __call__(self, file_list, batch_size, input_size, label_shape=None,
               num_enqueuing_threads=4, shuffle=False):
    del file_list, num_enqueuing_threads, shuffle
    inputs = tf.placeholder(tf.float32, [batch_size, None, input_size],
                            name='inputs')
    labels = tf.placeholder(tf.int64, [batch_size, None] + (label_shape or []),
                            name='labels')
    lengths = tf.placeholder(tf.int32, [batch_size], name='lengths')
    self.tensors = (inputs, labels, lengths)
    return self.tensors


class RecordingBatch(object):
  """Calls the real get_padded_batch and remembers the tensors it returns."""

  def __init__(self, original):
    self.original = original
    self.tensors = None

  def __call__(self, *args, **kwargs):
    self.tensors = self.original(*args, **kwargs)
    return self.tensors


def build_train_graph(config, sequence_example_path=None):
  """Builds Magenta's train graph; returns (graph, (inputs, labels, lengths)).

  Without sequence_example_path the batch tensors are placeholders; with it
  they are the outputs of Magenta's own TFRecord queue reader.
  """
  graph = tf.Graph()
  original = magenta.common.get_padded_batch
  if sequence_example_path is None:
    batch_source = PlaceholderBatch()
  else:
    batch_source = RecordingBatch(original)
  magenta.common.get_padded_batch = batch_source
  try:
    with graph.as_default():
      build = events_rnn_graph.get_build_graph_fn(
          'train', config,
          sequence_example_file_paths=[sequence_example_path or 'unused'])
      build()
  finally:
    magenta.common.get_padded_batch = original
  return graph, batch_source.tensors


def deterministic_weights(variables, seed):
  rng = np.random.RandomState(seed)
  values = {}
  for var in variables:
    shape = var.shape.as_list()
    values[var.op.name] = rng.uniform(
        -WEIGHT_RANGE, WEIGHT_RANGE, size=shape).astype(np.float32)
  return values


def logits_tensor(graph, num_classes):
  logits = graph.get_tensor_by_name('fully_connected/BiasAdd:0')
  assert logits.shape.as_list() == [None, num_classes], logits.shape
  return logits


def run_case(case, config_name, hparams_text, out_dir, check_queue):
  config = copy.deepcopy(melody_rnn_model.default_configs[config_name])
  config.hparams.parse(hparams_text)
  hparams = config.hparams
  encoder = config.encoder_decoder
  assert hparams.batch_size == len(BATCH_LENGTHS)
  seed = zlib.crc32(case.encode('utf-8'))
  rng = np.random.RandomState(seed)
  melodies, encoded, inputs, labels, lengths = make_batch(config, rng)

  graph, (inputs_ph, labels_ph, lengths_ph) = build_train_graph(config)
  with graph.as_default():
    variables = tf.trainable_variables()
    loss = tf.get_collection('loss')[0]
    logits = logits_tensor(graph, encoder.num_classes)
    gradients = tf.gradients(loss, variables)
    weights = deterministic_weights(variables, seed)
    # Dropout must be absent so the C++ side can reproduce values exactly.
    dropout_ops = [op.name for op in graph.get_operations()
                   if 'dropout' in op.type.lower() or '/dropout/' in op.name]
    assert not dropout_ops, dropout_ops
    global_norm = tf.linalg.global_norm(gradients)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      for var in variables:
        var.load(weights[var.op.name], sess)

      def evaluate(batch_inputs, batch_labels, batch_lengths):
        return sess.run(
            [loss, logits, gradients, global_norm],
            feed_dict={inputs_ph: batch_inputs, labels_ph: batch_labels,
                       lengths_ph: batch_lengths})

      loss_v, logits_v, grads_v, global_norm_v = evaluate(
          inputs, labels, lengths)
      assert logits_v.shape == (int(lengths.sum()), encoder.num_classes)
      queue_check = None
      if check_queue:
        queue_check = check_with_queue_reader(config, encoded, weights,
                                              evaluate)

  fixture = {
      'config': config_name,
      'case': case,
      'hparams': dict(hparams.values()),
      'hparams_string': hparams_text,
      'graph': {
          'input_size': encoder.input_size,
          'num_classes': encoder.num_classes,
          'no_event_label': encoder.default_event_label,
          'dropout': 'off (dropout_keep_prob is the Python float 1.0: '
                     'DropoutWrapper adds no dropout op)',
          'attn_length': hparams.attn_length,
          'residual_connections': hparams.residual_connections,
          'lstm_forget_bias': 1.0,
          'lstm_forget_bias_note': 'added at run time by BasicLSTMCell, not '
                                   'stored in the bias variable',
          'loss': 'mean over valid positions of sparse softmax '
                  'cross-entropy',
          'logits_order': 'valid positions t < lengths[b], b ascending then '
                          't ascending',
          'gradients': 'tf.gradients(loss, trainable variables), before '
                       'clip_norm clipping',
          'variable_order': [v.op.name for v in variables],
          'weight_init': 'numpy RandomState(crc32(case)).uniform(-%r, %r) '
                         'drawn per variable in variable_order, float32'
                         % (WEIGHT_RANGE, WEIGHT_RANGE),
      },
      'batch': {
          'melodies': [list(m) for m in melodies],
          'inputs': nested_float32(inputs),
          'labels': labels.tolist(),
          'lengths': lengths.tolist(),
      },
      'weights': {v.op.name: tensor_record(weights[v.op.name])
                  for v in variables},
      'loss': Float32(loss_v),
      'logits': nested_float32(logits_v),
      'gradients': {v.op.name: tensor_record(g)
                    for v, g in zip(variables, grads_v)},
      'gradient_global_norm': Float32(global_norm_v),
      'versions': versions(),
  }
  if queue_check is not None:
    fixture['queue_reader_check'] = queue_check
  text = to_json(fixture) + '\n'
  json.loads(text)  # must be valid JSON
  if len(text) > MAX_FIXTURE_BYTES:
    raise AssertionError('%s: fixture is %d bytes (> %d)'
                         % (case, len(text), MAX_FIXTURE_BYTES))
  path = os.path.join(out_dir, case + '.json')
  with open(path, 'w') as f:
    f.write(text)
  print('%-24s loss=%-12s logits=%s vars=%d bytes=%d' % (
      case, float32_text(loss_v), list(logits_v.shape), len(variables),
      len(text)))


def check_with_queue_reader(config, encoded, weights, evaluate):
  """Runs the unpatched graph (TFRecord queue input) on the same examples.

  Magenta's train reader shuffles and cycles through the file, so the
  dequeued batch is some choice and order of the encoded examples (possibly
  with repeats).  The placeholder graph is evaluated on exactly that dequeued
  batch and must give the same loss and logits.
  """
  with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, 'examples.tfrecord')
    with tf.python_io.TFRecordWriter(path) as writer:
      for inputs, labels in encoded:
        example = pipelines_common.make_sequence_example(inputs, labels)
        writer.write(example.SerializeToString())
    graph, batch = build_train_graph(config, sequence_example_path=path)
    with graph.as_default():
      variables = tf.trainable_variables()
      loss = tf.get_collection('loss')[0]
      logits = logits_tensor(graph, config.encoder_decoder.num_classes)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.local_variables_initializer())
        for var in variables:
          var.load(weights[var.op.name], sess)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        (q_inputs, q_labels, q_lengths), q_loss, q_logits = sess.run(
            [list(batch), loss, logits])
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=5)
  # Every dequeued row must be one of the encoded examples, zero-padded.
  rows = []
  for b, length in enumerate(q_lengths):
    matches = [i for i, (inputs, labels) in enumerate(encoded)
               if len(inputs) == length
               and np.array_equal(q_inputs[b, :length], inputs)
               and np.array_equal(q_labels[b, :length], labels)]
    assert matches, 'dequeued row %d is not one of the examples' % b
    assert not q_inputs[b, length:].any() and not q_labels[b, length:].any()
    rows.append(matches[0])
  p_loss, p_logits, _, _ = evaluate(q_inputs, q_labels, q_lengths)
  loss_diff = abs(float(q_loss) - float(p_loss))
  logits_diff = float(np.abs(q_logits - p_logits).max())
  if loss_diff > 1e-6 or logits_diff > 1e-6:
    raise AssertionError('queue-reader graph differs from placeholder graph: '
                         'loss %r vs %r, max logit diff %r'
                         % (q_loss, p_loss, logits_diff))
  print('  queue reader dequeued example rows %s: loss %s, same as the '
        'placeholder graph (max abs diff %r)'
        % (rows, float32_text(q_loss), max(loss_diff, logits_diff)))
  # The dequeued rows vary from run to run; only the agreement is recorded.
  return {'passed': True,
          'max_abs_diff_loss_and_logits': max(loss_diff, logits_diff)}


def versions():
  import importlib.metadata as metadata  # pylint: disable=g-import-not-at-top
  return {
      'tensorflow': tf.__version__,
      'magenta': metadata.version('magenta'),
      'note_seq': metadata.version('note-seq'),
      'tf_slim': metadata.version('tf-slim'),
      'numpy': np.__version__,
      'python': platform.python_version(),
      'TF_ENABLE_ONEDNN_OPTS': os.environ['TF_ENABLE_ONEDNN_OPTS'],
  }


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--out_dir', default=DEFAULT_OUT_DIR)
  parser.add_argument('--check-queue', action='store_true',
                      help='also run the real TFRecord queue reader graph')
  parser.add_argument('--case', action='append',
                      help='only this case (repeatable)')
  args = parser.parse_args()
  tf.disable_v2_behavior()
  tf.logging.set_verbosity(tf.logging.ERROR)
  os.makedirs(args.out_dir, exist_ok=True)
  for case, config_name, hparams_text in CASES:
    if args.case and case not in args.case:
      continue
    run_case(case, config_name, hparams_text, args.out_dir, args.check_queue)
  return 0


if __name__ == '__main__':
  sys.exit(main())
