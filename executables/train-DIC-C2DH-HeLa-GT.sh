#!/usr/bin/env bash
# train-DIC-C2DH-HeLa-GT.sh: train the GT model of DIC-C2DH-HeLa with ctc-toolkit.
#
# Prerequisites: as for the executables; a GPU shortens training a lot.
# Data: ../DIC-C2DH-HeLa/01, ../DIC-C2DH-HeLa/02 (training sequences with NN_GT).
# Output: models/DIC-C2DH-HeLa-GT (config.json + weights.pt); rerun with --resume after an
# interruption: ./train-DIC-C2DH-HeLa-GT.sh --resume
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc train "../DIC-C2DH-HeLa" --truth GT --out "$ROOT/models/DIC-C2DH-HeLa-GT" "$@"
