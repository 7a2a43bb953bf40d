#!/usr/bin/env bash
# Fluo-C2DL-MSC-02.sh: no trained model for Fluo-C2DL-MSC yet (datasets.txt marks it untrained).
echo "Fluo-C2DL-MSC-02.sh: no trained model for Fluo-C2DL-MSC; train one with train-Fluo-C2DL-MSC-GT.sh" >&2
exit 2
