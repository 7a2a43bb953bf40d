#!/usr/bin/env bash
# PhC-C2DL-PSC-01-GT+ST.sh: segmentation and tracking of PhC-C2DL-PSC sequence 01 with ctc-toolkit.
#
# Prerequisites: Linux; Python >= 3.10 with numpy, scipy, scikit-image, tifffile, networkx, pandas, numba, tqdm, torch
#   (pip install -r requirements.txt); an NVIDIA GPU with CUDA is used when
#   present, else the CPU. No internet access is needed.
# Parameters: the model PhC-C2DL-PSC-GT+ST (architecture, post-processing and tracking
#   parameters in its config.json); training data configuration GT+ST.
# Training data of PhC-C2DL-PSC-GT+ST: not recorded.
# Run from the folder holding this script:  ./PhC-C2DL-PSC-01-GT+ST.sh
#   input  ../PhC-C2DL-PSC/01       (tTTT.tif)
#   output ../PhC-C2DL-PSC/01_RES   (maskTTT.tif + res_track.txt), written atomically:
#   an interrupted run leaves no partial result.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"   # in the repository: executables/..
MODEL="$ROOT/models/PhC-C2DL-PSC-GT+ST"
INPUT="../PhC-C2DL-PSC/01"
if [ ! -f "$MODEL/weights.pt" ]; then
    echo "PhC-C2DL-PSC-01-GT+ST.sh: model not found: $MODEL (ship models/ beside this script;" \
         "train-PhC-C2DL-PSC-GT+ST.sh trains one into models/PhC-C2DL-PSC-GT+ST)" >&2
    exit 2
fi
if [ ! -d "$INPUT" ]; then
    echo "PhC-C2DL-PSC-01-GT+ST.sh: input sequence not found: $INPUT (run from the SW folder)" >&2
    exit 2
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc run "../PhC-C2DL-PSC" 01 --model "$MODEL" --overwrite
