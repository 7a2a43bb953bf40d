#!/usr/bin/env bash
# Fluo-N3DL-TRIC-01.sh: no trained model for Fluo-N3DL-TRIC yet (datasets.txt marks it untrained).
echo "Fluo-N3DL-TRIC-01.sh: no trained model for Fluo-N3DL-TRIC; train one with train-Fluo-N3DL-TRIC-GT.sh" >&2
exit 2
