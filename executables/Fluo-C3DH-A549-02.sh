#!/usr/bin/env bash
# Fluo-C3DH-A549-02.sh: no trained model for Fluo-C3DH-A549 yet (datasets.txt marks it untrained).
echo "Fluo-C3DH-A549-02.sh: no trained model for Fluo-C3DH-A549; train one with train-Fluo-C3DH-A549-GT.sh" >&2
exit 2
