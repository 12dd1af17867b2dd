#!/usr/bin/env python3
"""Checks checkpoints written by our C++ code with TensorFlow itself.

Input: a directory written by the gtest
ModelCheckpoint.WritesFilesForTheTfCrossCheckWhenAsked (models_tests) when
MELODY_KEEP_CHECKPOINT_DIR is set:

  model.ckpt-2.index, model.ckpt-2.data-00000-of-00001   V2 checkpoint
  checkpoint                                            state file
  v1_image.ckpt                                         V1 image (as in .mag bundles)
  expected.json        {name: {"dtype", "shape", "values"}} of every tensor

Checks, each with TensorFlow's own code:
  1. tf.train.latest_checkpoint finds model.ckpt-2 through our state file;
  2. tf.train.load_checkpoint (V2) and tf.compat.v1.train.NewCheckpointReader
     (V1 image) list exactly the expected names, dtypes and shapes, and every
     value is bit-identical to the JSON dump;
  3. TF's writers given the same tensors produce the same bytes:
     tf.raw_ops.SaveV2 -> .index and .data, tf.raw_ops.Save -> the V1 table,
     tf.compat.v1.train.update_checkpoint_state -> the state file.

Usage: tests/reference/.venv/bin/python tests/reference/check_checkpoint_with_tf.py DIR
Exit status 0 when everything matches.
"""

import argparse
import json
import os
import sys
import tempfile

import numpy as np

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import tensorflow as tf  # pylint: disable=g-import-not-at-top

DTYPES = {'float32': np.float32, 'float64': np.float64, 'int32': np.int32, 'int64': np.int64}


class Report(object):

  def __init__(self):
    self.failures = 0

  def check(self, ok, what):
    print(('ok    ' if ok else 'FAIL  ') + what)
    if not ok:
      self.failures += 1


def expected_arrays(expected):
  out = {}
  for name, rec in expected.items():
    out[name] = np.array(rec['values'], dtype=DTYPES[rec['dtype']]).reshape(rec['shape'])
  return out


def compare_reader(report, label, reader, arrays):
  shapes = reader.get_variable_to_shape_map()
  dtypes = reader.get_variable_to_dtype_map()
  report.check(sorted(shapes) == sorted(arrays),
               '%s: %d tensor names match' % (label, len(arrays)))
  bad = []
  for name, want in arrays.items():
    if name not in shapes:
      bad.append(name + ' (missing)')
      continue
    got = reader.get_tensor(name)
    if (dtypes[name].as_numpy_dtype != want.dtype or list(shapes[name]) != list(want.shape) or
        np.asarray(got).dtype != want.dtype or
        np.asarray(got).tobytes() != want.tobytes()):
      bad.append(name)
  report.check(not bad, '%s: dtypes, shapes and values bit-identical%s' %
               (label, '' if not bad else ': ' + ', '.join(bad)))


def check_tf_writers(report, ckpt_dir, arrays):
  names = sorted(arrays)
  tensors = [tf.constant(arrays[n]) for n in names]
  with tempfile.TemporaryDirectory() as tmp:
    prefix = os.path.join(tmp, 'model.ckpt-2')
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[''] * len(names),
                      tensors=tensors)
    for suffix in ('.index', '.data-00000-of-00001'):
      with open(prefix + suffix, 'rb') as f:
        theirs = f.read()
      with open(os.path.join(ckpt_dir, 'model.ckpt-2' + suffix), 'rb') as f:
        ours = f.read()
      report.check(theirs == ours, 'tf.raw_ops.SaveV2 writes the same %s (%d bytes)' %
                   (suffix, len(theirs)))

    v1_path = os.path.join(tmp, 'v1.ckpt')
    tf.raw_ops.Save(filename=v1_path, tensor_names=names, data=tensors)
    with open(v1_path, 'rb') as f:
      theirs = f.read()
    with open(os.path.join(ckpt_dir, 'v1_image.ckpt'), 'rb') as f:
      ours = f.read()
    report.check(theirs == ours, 'tf.raw_ops.Save (V1) writes the same table (%d bytes)' %
                 len(theirs))

    tf.compat.v1.train.update_checkpoint_state(tmp, 'model.ckpt-2', ['model.ckpt-2'])
    with open(os.path.join(tmp, 'checkpoint')) as f:
      theirs = f.read()
    with open(os.path.join(ckpt_dir, 'checkpoint')) as f:
      ours = f.read()
    report.check(theirs == ours, 'update_checkpoint_state writes the same state file')


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('dir', help='the MELODY_KEEP_CHECKPOINT_DIR the gtest wrote')
  args = parser.parse_args()
  ckpt_dir = os.path.abspath(args.dir)
  with open(os.path.join(ckpt_dir, 'expected.json')) as f:
    arrays = expected_arrays(json.load(f))
  print('TensorFlow %s; %d tensors in %s' % (tf.__version__, len(arrays), ckpt_dir))
  report = Report()

  latest = tf.train.latest_checkpoint(ckpt_dir)
  report.check(latest == os.path.join(ckpt_dir, 'model.ckpt-2'),
               'tf.train.latest_checkpoint -> %s' % latest)
  state = tf.train.get_checkpoint_state(ckpt_dir)
  report.check(state is not None and list(state.all_model_checkpoint_paths) ==
               [os.path.join(ckpt_dir, 'model.ckpt-2')], 'tf.train.get_checkpoint_state parses it')

  compare_reader(report, 'V2 tf.train.load_checkpoint',
                 tf.train.load_checkpoint(os.path.join(ckpt_dir, 'model.ckpt-2')), arrays)
  compare_reader(report, 'V1 NewCheckpointReader',
                 tf.compat.v1.train.NewCheckpointReader(os.path.join(ckpt_dir, 'v1_image.ckpt')),
                 arrays)
  check_tf_writers(report, ckpt_dir, arrays)

  print('%s: %d failure(s)' % ('PASSED' if report.failures == 0 else 'FAILED', report.failures))
  return 0 if report.failures == 0 else 1


if __name__ == '__main__':
  sys.exit(main())
