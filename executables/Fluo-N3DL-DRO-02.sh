#!/usr/bin/env bash
# Fluo-N3DL-DRO-02.sh: no trained model for Fluo-N3DL-DRO yet (datasets.txt marks it untrained).
echo "Fluo-N3DL-DRO-02.sh: no trained model for Fluo-N3DL-DRO; train one with train-Fluo-N3DL-DRO-GT.sh" >&2
exit 2
