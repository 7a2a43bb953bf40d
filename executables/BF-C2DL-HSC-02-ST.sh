#!/usr/bin/env bash
# BF-C2DL-HSC-02-ST.sh: segmentation and tracking of BF-C2DL-HSC sequence 02 with ctc-toolkit.
#
# Prerequisites: Linux; Python >= 3.10 with numpy, scipy, scikit-image, tifffile, networkx, pandas, numba, tqdm, torch
#   (pip install -r requirements.txt); an NVIDIA GPU with CUDA is used when
#   present, else the CPU. No internet access is needed.
# Parameters: the model BF-C2DL-HSC-ST (architecture, post-processing and tracking
#   parameters in its config.json); training data configuration ST.
# Training data of BF-C2DL-HSC-ST: not recorded.
# Run from the folder holding this script:  ./BF-C2DL-HSC-02-ST.sh
#   input  ../BF-C2DL-HSC/02       (tTTT.tif)
#   output ../BF-C2DL-HSC/02_RES   (maskTTT.tif + res_track.txt), written atomically:
#   an interrupted run leaves no partial result.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"   # in the repository: executables/..
MODEL="$ROOT/models/BF-C2DL-HSC-ST"
INPUT="../BF-C2DL-HSC/02"
if [ ! -f "$MODEL/weights.pt" ]; then
    echo "BF-C2DL-HSC-02-ST.sh: model not found: $MODEL (ship models/ beside this script;" \
         "train-BF-C2DL-HSC-ST.sh trains one into models/BF-C2DL-HSC-ST)" >&2
    exit 2
fi
if [ ! -d "$INPUT" ]; then
    echo "BF-C2DL-HSC-02-ST.sh: input sequence not found: $INPUT (run from the SW folder)" >&2
    exit 2
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc run "../BF-C2DL-HSC" 02 --model "$MODEL" --overwrite
