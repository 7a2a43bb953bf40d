#!/usr/bin/env bash
# Fluo-N3DL-TRIF-01.sh: no trained model for Fluo-N3DL-TRIF yet (datasets.txt marks it untrained).
echo "Fluo-N3DL-TRIF-01.sh: no trained model for Fluo-N3DL-TRIF; train one with train-Fluo-N3DL-TRIF-GT.sh" >&2
exit 2
