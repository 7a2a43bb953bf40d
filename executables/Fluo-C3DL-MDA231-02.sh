#!/usr/bin/env bash
# Fluo-C3DL-MDA231-02.sh: no trained model for Fluo-C3DL-MDA231 yet (datasets.txt marks it untrained).
echo "Fluo-C3DL-MDA231-02.sh: no trained model for Fluo-C3DL-MDA231; train one with train-Fluo-C3DL-MDA231-GT.sh" >&2
exit 2
