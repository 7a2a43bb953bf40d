#!/usr/bin/env bash
# Fluo-N2DH-GOWT1-02.sh: segmentation and tracking of Fluo-N2DH-GOWT1 sequence 02 with ctc-toolkit.
#
# Prerequisites: Linux; Python >= 3.10 with numpy, scipy, scikit-image, tifffile, networkx, pandas, numba, tqdm, torch
#   (pip install -r requirements.txt); an NVIDIA GPU with CUDA is used when
#   present, else the CPU. No internet access is needed.
# Parameters: the model Fluo-N2DH-GOWT1-GT (architecture, post-processing and tracking
#   parameters in its config.json); training data configuration GT.
# Model Fluo-N2DH-GOWT1-GT was trained on Fluo-N2DH-GOWT1:
#   it was trained on this dataset.
# Run from the folder holding this script:  ./Fluo-N2DH-GOWT1-02.sh
#   input  ../Fluo-N2DH-GOWT1/02       (tTTT.tif)
#   output ../Fluo-N2DH-GOWT1/02_RES   (maskTTT.tif + res_track.txt), written atomically:
#   an interrupted run leaves no partial result.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"   # in the repository: executables/..
MODEL="$ROOT/models/Fluo-N2DH-GOWT1-GT"
INPUT="../Fluo-N2DH-GOWT1/02"
if [ ! -f "$MODEL/weights.pt" ]; then
    echo "Fluo-N2DH-GOWT1-02.sh: model not found: $MODEL (ship models/ beside this script;" \
         "train-Fluo-N2DH-GOWT1-GT.sh trains one into models/Fluo-N2DH-GOWT1-GT)" >&2
    exit 2
fi
if [ ! -d "$INPUT" ]; then
    echo "Fluo-N2DH-GOWT1-02.sh: input sequence not found: $INPUT (run from the SW folder)" >&2
    exit 2
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc run "../Fluo-N2DH-GOWT1" 02 --model "$MODEL" --overwrite
