#!/usr/bin/env bash
# Fluo-N3DL-TRIC-02.sh: segmentation and tracking of Fluo-N3DL-TRIC sequence 02 with ctc-toolkit.
#
# Prerequisites: Linux; Python >= 3.10 with numpy, scipy, scikit-image, tifffile, networkx, pandas, numba, tqdm, torch
#   (pip install -r requirements.txt); an NVIDIA GPU with CUDA is used when
#   present, else the CPU. No internet access is needed.
# Parameters: the model nuclei-3d (architecture, post-processing and tracking
#   parameters in its config.json); training data configuration GT+ST.
# Model nuclei-3d was trained on DIC-C2DH-HeLa, Fluo-C2DL-MSC, Fluo-N2DH-GOWT1, Fluo-N2DH-SIM+, Fluo-N3DH-SYNTH, Fluo-N3DH-SYNTHZ5, PhC-C2DH-U373:
#   it has NOT seen this dataset (see models/README.md, leave-one-dataset-out, for what to expect).
# Run from the folder holding this script:  ./Fluo-N3DL-TRIC-02.sh
#   input  ../Fluo-N3DL-TRIC/02       (tTTT.tif)
#   output ../Fluo-N3DL-TRIC/02_RES   (maskTTT.tif + res_track.txt), written atomically:
#   an interrupted run leaves no partial result.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"   # in the repository: executables/..
MODEL="$ROOT/models/nuclei-3d"
INPUT="../Fluo-N3DL-TRIC/02"
if [ ! -f "$MODEL/weights.pt" ]; then
    echo "Fluo-N3DL-TRIC-02.sh: model not found: $MODEL (ship models/ beside this script;" \
         "train-Fluo-N3DL-TRIC-GT+ST.sh trains one into models/Fluo-N3DL-TRIC-GT+ST)" >&2
    exit 2
fi
if [ ! -d "$INPUT" ]; then
    echo "Fluo-N3DL-TRIC-02.sh: input sequence not found: $INPUT (run from the SW folder)" >&2
    exit 2
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc run "../Fluo-N3DL-TRIC" 02 --model "$MODEL" --overwrite
