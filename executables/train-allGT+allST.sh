#!/usr/bin/env bash
# train-allGT+allST.sh: train the allGT+allST model of all datasets (one universal model) with ctc-toolkit.
#
# Prerequisites: as for the executables; a GPU shortens training a lot.
# Data: ../DIC-C2DH-HeLa (training sequences with NN_GT and NN_ST).
# Output: models/allGT+allST (config.json + weights.pt); rerun with --resume after an
# interruption: ./train-allGT+allST.sh --resume
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc train "../DIC-C2DH-HeLa" --truth GT+ST --out "$ROOT/models/allGT+allST" "$@"
