#!/usr/bin/env bash
# Fluo-N3DH-CHO-01.sh: no trained model for Fluo-N3DH-CHO yet (datasets.txt marks it untrained).
echo "Fluo-N3DH-CHO-01.sh: no trained model for Fluo-N3DH-CHO; train one with train-Fluo-N3DH-CHO-GT.sh" >&2
exit 2
