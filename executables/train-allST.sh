#!/usr/bin/env bash
# train-allST.sh: train the allST model of all datasets (one universal model) with ctc-toolkit.
#
# Prerequisites: as for the executables; a GPU shortens training a lot.
# Data: ../BF-C2DL-HSC, ../BF-C2DL-MuSC, ../DIC-C2DH-HeLa, ../Fluo-C2DL-MSC, ../Fluo-C3DH-A549, ../Fluo-C3DH-H157, ../Fluo-C3DL-MDA231, ../Fluo-N2DH-GOWT1, ../Fluo-N2DL-HeLa, ../Fluo-N3DH-CE, ../Fluo-N3DH-CHO, ../PhC-C2DH-U373, ../PhC-C2DL-PSC (training sequences with NN_GT and NN_ST).
# Output: models/allST (config.json + weights.pt); rerun with --resume after an
# interruption: ./train-allST.sh --resume
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc train "../BF-C2DL-HSC" "../BF-C2DL-MuSC" "../DIC-C2DH-HeLa" "../Fluo-C2DL-MSC" "../Fluo-C3DH-A549" "../Fluo-C3DH-H157" "../Fluo-C3DL-MDA231" "../Fluo-N2DH-GOWT1" "../Fluo-N2DL-HeLa" "../Fluo-N3DH-CE" "../Fluo-N3DH-CHO" "../PhC-C2DH-U373" "../PhC-C2DL-PSC" --truth ST --out "$ROOT/models/allST" "$@"
