#!/usr/bin/env bash
# DIC-C2DH-HeLa-01-GT+ST.sh: segmentation and tracking of DIC-C2DH-HeLa sequence 01 with ctc-toolkit.
#
# Prerequisites: Linux; Python >= 3.10 with numpy, scipy, scikit-image, tifffile, networkx, pandas, numba, tqdm, torch
#   (pip install -r requirements.txt); an NVIDIA GPU with CUDA is used when
#   present, else the CPU. No internet access is needed.
# Parameters: the model DIC-C2DH-HeLa-GT+ST (architecture, post-processing and tracking
#   parameters in its config.json); training data configuration GT+ST.
# Model DIC-C2DH-HeLa-GT+ST was trained on DIC-C2DH-HeLa:
#   it was trained on this dataset.
# Run from the folder holding this script:  ./DIC-C2DH-HeLa-01-GT+ST.sh
#   input  ../DIC-C2DH-HeLa/01       (tTTT.tif)
#   output ../DIC-C2DH-HeLa/01_RES   (maskTTT.tif + res_track.txt), written atomically:
#   an interrupted run leaves no partial result.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"   # in the repository: executables/..
MODEL="$ROOT/models/DIC-C2DH-HeLa-GT+ST"
INPUT="../DIC-C2DH-HeLa/01"
if [ ! -f "$MODEL/weights.pt" ]; then
    echo "DIC-C2DH-HeLa-01-GT+ST.sh: model not found: $MODEL (ship models/ beside this script;" \
         "train-DIC-C2DH-HeLa-GT+ST.sh trains one into models/DIC-C2DH-HeLa-GT+ST)" >&2
    exit 2
fi
if [ ! -d "$INPUT" ]; then
    echo "DIC-C2DH-HeLa-01-GT+ST.sh: input sequence not found: $INPUT (run from the SW folder)" >&2
    exit 2
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc run "../DIC-C2DH-HeLa" 01 --model "$MODEL" --overwrite
