#!/usr/bin/env bash
# Fluo-N3DH-CHO-02-GT+ST.sh: segmentation and tracking of Fluo-N3DH-CHO sequence 02 with ctc-toolkit.
#
# Prerequisites: Linux; Python >= 3.10 with numpy, scipy, scikit-image, tifffile, networkx, pandas, numba, tqdm, torch
#   (pip install -r requirements.txt); an NVIDIA GPU with CUDA is used when
#   present, else the CPU. No internet access is needed.
# Parameters: the model Fluo-N3DH-CHO-GT+ST (architecture, post-processing and tracking
#   parameters in its config.json); training data configuration GT+ST.
# Training data of Fluo-N3DH-CHO-GT+ST: not recorded.
# Run from the folder holding this script:  ./Fluo-N3DH-CHO-02-GT+ST.sh
#   input  ../Fluo-N3DH-CHO/02       (tTTT.tif)
#   output ../Fluo-N3DH-CHO/02_RES   (maskTTT.tif + res_track.txt), written atomically:
#   an interrupted run leaves no partial result.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"   # in the repository: executables/..
MODEL="$ROOT/models/Fluo-N3DH-CHO-GT+ST"
INPUT="../Fluo-N3DH-CHO/02"
if [ ! -f "$MODEL/weights.pt" ]; then
    echo "Fluo-N3DH-CHO-02-GT+ST.sh: model not found: $MODEL (ship models/ beside this script;" \
         "train-Fluo-N3DH-CHO-GT+ST.sh trains one into models/Fluo-N3DH-CHO-GT+ST)" >&2
    exit 2
fi
if [ ! -d "$INPUT" ]; then
    echo "Fluo-N3DH-CHO-02-GT+ST.sh: input sequence not found: $INPUT (run from the SW folder)" >&2
    exit 2
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc run "../Fluo-N3DH-CHO" 02 --model "$MODEL" --overwrite
