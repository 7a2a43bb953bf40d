#!/usr/bin/env bash
# BF-C2DL-MuSC-01-ST.sh: segmentation and tracking of BF-C2DL-MuSC sequence 01 with ctc-toolkit.
#
# Prerequisites: Linux; Python >= 3.10 with numpy, scipy, scikit-image, tifffile, networkx, pandas, numba, tqdm, torch
#   (pip install -r requirements.txt); an NVIDIA GPU with CUDA is used when
#   present, else the CPU. No internet access is needed.
# Parameters: the model BF-C2DL-MuSC-ST (architecture, post-processing and tracking
#   parameters in its config.json); training data configuration ST.
# Training data of BF-C2DL-MuSC-ST: not recorded.
# Run from the folder holding this script:  ./BF-C2DL-MuSC-01-ST.sh
#   input  ../BF-C2DL-MuSC/01       (tTTT.tif)
#   output ../BF-C2DL-MuSC/01_RES   (maskTTT.tif + res_track.txt), written atomically:
#   an interrupted run leaves no partial result.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"   # in the repository: executables/..
MODEL="$ROOT/models/BF-C2DL-MuSC-ST"
INPUT="../BF-C2DL-MuSC/01"
if [ ! -f "$MODEL/weights.pt" ]; then
    echo "BF-C2DL-MuSC-01-ST.sh: model not found: $MODEL (ship models/ beside this script;" \
         "train-BF-C2DL-MuSC-ST.sh trains one into models/BF-C2DL-MuSC-ST)" >&2
    exit 2
fi
if [ ! -d "$INPUT" ]; then
    echo "BF-C2DL-MuSC-01-ST.sh: input sequence not found: $INPUT (run from the SW folder)" >&2
    exit 2
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc run "../BF-C2DL-MuSC" 01 --model "$MODEL" --overwrite
