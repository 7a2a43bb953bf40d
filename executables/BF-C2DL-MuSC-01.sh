#!/usr/bin/env bash
# BF-C2DL-MuSC-01.sh: no trained model for BF-C2DL-MuSC yet (datasets.txt marks it untrained).
echo "BF-C2DL-MuSC-01.sh: no trained model for BF-C2DL-MuSC; train one with train-BF-C2DL-MuSC-GT.sh" >&2
exit 2
