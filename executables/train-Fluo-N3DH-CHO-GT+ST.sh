#!/usr/bin/env bash
# train-Fluo-N3DH-CHO-GT+ST.sh: train the GT+ST model of Fluo-N3DH-CHO with ctc-toolkit.
#
# Prerequisites: as for the executables; a GPU shortens training a lot.
# Data: ../Fluo-N3DH-CHO/01, ../Fluo-N3DH-CHO/02 (training sequences with NN_GT and NN_ST).
# Output: models/Fluo-N3DH-CHO-GT+ST (config.json + weights.pt); rerun with --resume after an
# interruption: ./train-Fluo-N3DH-CHO-GT+ST.sh --resume
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc train "../Fluo-N3DH-CHO" --truth GT+ST --out "$ROOT/models/Fluo-N3DH-CHO-GT+ST" "$@"
