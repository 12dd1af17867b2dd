#!/usr/bin/env python3
"""Recomputes each fixture's logits and loss from shared/spec/model.md alone.

An independent float64 numpy forward pass (no TensorFlow, no Magenta) over the
fixture's weights and batch, written from the spec's formulas. It shows that a
reader following the spec and the fixture's layout notes (row-major weights,
i/j/f/o gate order, forget bias +1.0 at run time, attention state layout,
residual/input-projection order) reproduces the reference numbers.
Needs only numpy:  tests/reference/.venv/bin/python check_fixtures_numpy.py
"""

import glob
import json
import os
import sys

import numpy as np

FIXTURE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                           'fixtures', 'reference_model')


def sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


class Weights(object):

  def __init__(self, records):
    self.records = records

  def get(self, name):
    rec = self.records[name]
    return np.asarray(rec['values'], np.float64).reshape(rec['shape'])

  def has(self, name):
    return name in self.records


def lstm_step(w, prefix, x, state):
  c, h = state
  kernel, bias = w.get(prefix + 'basic_lstm_cell/kernel'), w.get(
      prefix + 'basic_lstm_cell/bias')
  n = h.shape[-1]
  z = np.concatenate([x, h], -1) @ kernel + bias
  i, j, f, o = (z[..., k * n:(k + 1) * n] for k in range(4))
  c = c * sigmoid(f + 1.0) + sigmoid(i) * np.tanh(j)
  h = np.tanh(c) * sigmoid(o)
  return h, (c, h)


def attention_step(w, prefix, x, state, attn_length):
  lstm_state, attns, window = state
  scope = prefix + 'attention_cell_wrapper/'
  x = np.concatenate([x, attns], -1) @ w.get(scope + 'kernel') + w.get(
      scope + 'bias')
  h, (c, h) = lstm_step(w, scope, x, lstm_state)
  size = h.shape[-1]
  hidden = window.reshape(-1, attn_length, size)
  features = hidden @ w.get(scope + 'attention/attn_w')[0, 0]
  query = np.concatenate([c, h], -1) @ w.get(scope + 'attention/kernel') + \
      w.get(scope + 'attention/bias')
  scores = np.tanh(features + query[:, None, :]) @ w.get(
      scope + 'attention/attn_v')
  alpha = np.exp(scores - scores.max(-1, keepdims=True))
  alpha /= alpha.sum(-1, keepdims=True)
  new_attns = (alpha[:, :, None] * hidden).sum(1)
  out = np.concatenate([h, new_attns], -1) @ w.get(
      scope + 'attn_output_projection/kernel') + w.get(
          scope + 'attn_output_projection/bias')
  new_window = np.concatenate([hidden[:, 1:], out[:, None, :]], 1)
  return out, ((c, h), new_attns, new_window.reshape(len(out), -1))


def forward(fixture):
  w = Weights(fixture['weights'])
  hp = fixture['hparams']
  sizes, attn_length = hp['rnn_layer_sizes'], hp['attn_length']
  inputs = np.asarray(fixture['batch']['inputs'], np.float64)
  lengths = fixture['batch']['lengths']
  batch, steps, _ = inputs.shape
  states = []
  for k, n in enumerate(sizes):
    lstm = (np.zeros([batch, n]), np.zeros([batch, n]))
    if attn_length and k == 0:
      states.append((lstm, np.zeros([batch, n]),
                     np.zeros([batch, attn_length * n])))
    else:
      states.append(lstm)
  outputs = np.zeros([batch, steps, sizes[-1]])
  for t in range(steps):
    x = inputs[:, t]
    new_states = []
    for k, n in enumerate(sizes):
      prefix = 'rnn/multi_rnn_cell/cell_%d/' % k
      projected = hp['residual_connections'] and (
          k == 0 or sizes[k] != sizes[k - 1])
      if projected:
        prefix += 'input_projection_wrapper/'
        x = x @ w.get(prefix + 'kernel') + w.get(prefix + 'bias')
      if attn_length and k == 0:
        out, state = attention_step(w, prefix, x, states[k], attn_length)
      else:
        out, state = lstm_step(w, prefix, x, states[k])
      if hp['residual_connections']:
        out = out + x
      new_states.append(state)
      x = out
    # Rows past their length keep their state (dynamic_rnn copy-through).
    for b in range(batch):
      if t < lengths[b]:
        outputs[b, t] = x[b]
        for k in range(len(sizes)):
          states[k] = pick_row(states[k], new_states[k], b)
  flat = np.concatenate([outputs[b, :lengths[b]] for b in range(batch)])
  logits = flat @ w.get('fully_connected/weights') + w.get(
      'fully_connected/biases')
  labels = np.concatenate([fixture['batch']['labels'][b][:lengths[b]]
                           for b in range(batch)])
  shifted = logits - logits.max(-1, keepdims=True)
  log_softmax = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
  loss = -log_softmax[np.arange(len(labels)), labels].mean()
  return logits, loss


def pick_row(old, new, row):
  """Copy row `row` of every array in the nested state `new` into `old`."""
  if isinstance(old, tuple):
    return tuple(pick_row(o, n, row) for o, n in zip(old, new))
  old = old.copy()
  old[row] = new[row]
  return old


def main():
  paths = sorted(glob.glob(os.path.join(FIXTURE_DIR, '*.json')))
  if not paths:
    print('no fixtures in %s' % FIXTURE_DIR)
    return 1
  worst = 0.0
  failed = 0
  for path in paths:
    with open(path) as f:
      fixture = json.load(f)
    logits, loss = forward(fixture)
    ref_logits = np.asarray(fixture['logits'], np.float64)
    logit_err = np.abs(logits - ref_logits).max()
    loss_err = abs(loss - fixture['loss'])
    ok = logit_err < 1e-5 and loss_err < 1e-5
    failed += not ok
    worst = max(worst, logit_err, loss_err)
    print('%-24s max|dlogit|=%.3g |dloss|=%.3g %s' % (
        fixture['case'], logit_err, loss_err, 'ok' if ok else 'MISMATCH'))
  print('%d passed, %d failed' % (len(paths) - failed, failed))
  return 1 if failed else 0


if __name__ == '__main__':
  sys.exit(main())
