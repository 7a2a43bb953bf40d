#!/usr/bin/env bash
# train-DIC-C2DH-HeLa-GT+ST.sh: train the GT+ST model of DIC-C2DH-HeLa with ctc-toolkit.
#
# Prerequisites: as for the executables; a GPU shortens training a lot.
# Data: ../DIC-C2DH-HeLa/01, ../DIC-C2DH-HeLa/02 (training sequences with NN_GT and NN_ST).
# Output: models/DIC-C2DH-HeLa-GT+ST (config.json + weights.pt); rerun with --resume after an
# interruption: ./train-DIC-C2DH-HeLa-GT+ST.sh --resume
# The settings below are the recipe of the shipped models/DIC-C2DH-HeLa-GT+ST (its config.json):
# the same number of steps from the same seed (it was trained on a CPU; a GPU rounds
# differently, so expect close, not identical, weights there).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc train "../DIC-C2DH-HeLa" --truth GT+ST --steps 1651 --batch 6 --crop 256 --lr 0.002 --restart 400 --val-every 50 --val-frames 3 --seed 0 --gain 0.7 1.3 --tracking --out "$ROOT/models/DIC-C2DH-HeLa-GT+ST" "$@"
