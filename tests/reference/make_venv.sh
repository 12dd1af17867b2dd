#!/usr/bin/env bash
# Creates tests/reference/.venv with Magenta's Melody RNN graph code and the
# exact package versions in requirements.txt (PyPI only).  Not used by CI.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
"$python" - <<'PY'
import sys
if sys.version_info[:2] != (3, 11):
    sys.exit("make_venv.sh: needs Python 3.11 (tensorflow-cpu 2.12.1 wheels); "
             "got %s. Set PYTHON=/path/to/python3.11." % sys.version.split()[0])
PY
rm -rf "$here/.venv"
"$python" -m venv "$here/.venv"
"$here/.venv/bin/pip" install --disable-pip-version-check --no-deps \
    -r "$here/requirements.txt"
# Magenta's own pins do not install on Python 3.11; its code runs with the
# versions above (see README.md).
"$here/.venv/bin/pip" install --disable-pip-version-check --no-deps \
    magenta==2.1.4
"$here/.venv/bin/python" - <<'PY'
from magenta.models.melody_rnn import melody_rnn_model  # noqa: F401
from magenta.models.shared import events_rnn_graph  # noqa: F401
import tensorflow as tf
print("tests/reference/.venv ready: tensorflow", tf.__version__)
PY
