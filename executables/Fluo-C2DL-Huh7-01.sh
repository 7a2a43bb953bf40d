#!/usr/bin/env bash
# Fluo-C2DL-Huh7-01.sh: no trained model for Fluo-C2DL-Huh7 yet (datasets.txt marks it untrained).
echo "Fluo-C2DL-Huh7-01.sh: no trained model for Fluo-C2DL-Huh7; train one with train-Fluo-C2DL-Huh7-GT.sh" >&2
exit 2
