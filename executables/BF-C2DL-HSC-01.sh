#!/usr/bin/env bash
# BF-C2DL-HSC-01.sh: no trained model for BF-C2DL-HSC yet (datasets.txt marks it untrained).
echo "BF-C2DL-HSC-01.sh: no trained model for BF-C2DL-HSC; train one with train-BF-C2DL-HSC-GT.sh" >&2
exit 2
