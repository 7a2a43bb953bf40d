#!/usr/bin/env bash
# Fluo-C3DH-H157-01-GT+ST.sh: segmentation and tracking of Fluo-C3DH-H157 sequence 01 with ctc-toolkit.
#
# Prerequisites: Linux; Python >= 3.10 with numpy, scipy, scikit-image, tifffile, networkx, pandas, numba, tqdm, torch
#   (pip install -r requirements.txt); an NVIDIA GPU with CUDA is used when
#   present, else the CPU. No internet access is needed.
# Parameters: the model Fluo-C3DH-H157-GT+ST (architecture, post-processing and tracking
#   parameters in its config.json); training data configuration GT+ST.
# Training data of Fluo-C3DH-H157-GT+ST: not recorded.
# Run from the folder holding this script:  ./Fluo-C3DH-H157-01-GT+ST.sh
#   input  ../Fluo-C3DH-H157/01       (tTTT.tif)
#   output ../Fluo-C3DH-H157/01_RES   (maskTTT.tif + res_track.txt), written atomically:
#   an interrupted run leaves no partial result.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"   # in the repository: executables/..
MODEL="$ROOT/models/Fluo-C3DH-H157-GT+ST"
INPUT="../Fluo-C3DH-H157/01"
if [ ! -f "$MODEL/weights.pt" ]; then
    echo "Fluo-C3DH-H157-01-GT+ST.sh: model not found: $MODEL (ship models/ beside this script;" \
         "train-Fluo-C3DH-H157-GT+ST.sh trains one into models/Fluo-C3DH-H157-GT+ST)" >&2
    exit 2
fi
if [ ! -d "$INPUT" ]; then
    echo "Fluo-C3DH-H157-01-GT+ST.sh: input sequence not found: $INPUT (run from the SW folder)" >&2
    exit 2
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc run "../Fluo-C3DH-H157" 01 --model "$MODEL" --overwrite
