#!/usr/bin/env bash
# Fluo-C3DH-H157-02.sh: no trained model for Fluo-C3DH-H157 yet (datasets.txt marks it untrained).
echo "Fluo-C3DH-H157-02.sh: no trained model for Fluo-C3DH-H157; train one with train-Fluo-C3DH-H157-GT.sh" >&2
exit 2
