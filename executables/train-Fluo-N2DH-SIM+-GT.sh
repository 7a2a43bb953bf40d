#!/usr/bin/env bash
# train-Fluo-N2DH-SIM+-GT.sh: train the GT model of Fluo-N2DH-SIM+ with ctc-toolkit.
#
# Prerequisites: as for the executables; a GPU shortens training a lot.
# Data: ../Fluo-N2DH-SIM+/01, ../Fluo-N2DH-SIM+/02 (training sequences with NN_GT).
# Output: models/Fluo-N2DH-SIM+-GT (config.json + weights.pt); rerun with --resume after an
# interruption: ./train-Fluo-N2DH-SIM+-GT.sh --resume
# The settings below are the recipe of the shipped models/Fluo-N2DH-SIM+-GT (its config.json):
# the same number of steps from the same seed (it was trained on a CPU; a GPU rounds
# differently, so expect close, not identical, weights there).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc train "../Fluo-N2DH-SIM+" --truth GT --steps 2559 --batch 6 --crop 192 --lr 0.002 --restart 400 --val-every 50 --val-frames 3 --seed 0 --gain 0.1 1.5 --markers --tracking --out "$ROOT/models/Fluo-N2DH-SIM+-GT" "$@"
