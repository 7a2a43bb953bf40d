#!/usr/bin/env bash
# Fluo-N2DL-HeLa-01.sh: no trained model for Fluo-N2DL-HeLa yet (datasets.txt marks it untrained).
echo "Fluo-N2DL-HeLa-01.sh: no trained model for Fluo-N2DL-HeLa; train one with train-Fluo-N2DL-HeLa-GT.sh" >&2
exit 2
