#!/usr/bin/env bash
# Fluo-C3DH-A549-SIM-02.sh: no trained model for Fluo-C3DH-A549-SIM yet (datasets.txt marks it untrained).
echo "Fluo-C3DH-A549-SIM-02.sh: no trained model for Fluo-C3DH-A549-SIM; train one with train-Fluo-C3DH-A549-SIM-GT.sh" >&2
exit 2
