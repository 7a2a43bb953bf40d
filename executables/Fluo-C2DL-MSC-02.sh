#!/usr/bin/env bash
# Fluo-C2DL-MSC-02.sh: segmentation and tracking of Fluo-C2DL-MSC sequence 02 with ctc-toolkit.
#
# Prerequisites: Linux; Python >= 3.10 with numpy, scipy, scikit-image, tifffile, networkx, pandas, numba, tqdm, torch
#   (pip install -r requirements.txt); an NVIDIA GPU with CUDA is used when
#   present, else the CPU. No internet access is needed.
# Parameters: the model universal-2d (architecture, post-processing and tracking
#   parameters in its config.json); training data configuration GT+ST.
# Model universal-2d was trained on DIC-C2DH-HeLa, Fluo-C2DL-MSC, Fluo-N2DH-GOWT1, Fluo-N2DH-SIM+, PhC-C2DH-U373:
#   it was trained on this dataset.
# Run from the folder holding this script:  ./Fluo-C2DL-MSC-02.sh
#   input  ../Fluo-C2DL-MSC/02       (tTTT.tif)
#   output ../Fluo-C2DL-MSC/02_RES   (maskTTT.tif + res_track.txt), written atomically:
#   an interrupted run leaves no partial result.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"   # in the repository: executables/..
MODEL="$ROOT/models/universal-2d"
INPUT="../Fluo-C2DL-MSC/02"
if [ ! -f "$MODEL/weights.pt" ]; then
    echo "Fluo-C2DL-MSC-02.sh: model not found: $MODEL (ship models/ beside this script;" \
         "train-Fluo-C2DL-MSC-GT+ST.sh trains one into models/Fluo-C2DL-MSC-GT+ST)" >&2
    exit 2
fi
if [ ! -d "$INPUT" ]; then
    echo "Fluo-C2DL-MSC-02.sh: input sequence not found: $INPUT (run from the SW folder)" >&2
    exit 2
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc run "../Fluo-C2DL-MSC" 02 --model "$MODEL" --overwrite
