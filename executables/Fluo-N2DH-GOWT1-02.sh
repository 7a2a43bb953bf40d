#!/usr/bin/env bash
# Fluo-N2DH-GOWT1-02.sh: no trained model for Fluo-N2DH-GOWT1 yet (datasets.txt marks it untrained).
echo "Fluo-N2DH-GOWT1-02.sh: no trained model for Fluo-N2DH-GOWT1; train one with train-Fluo-N2DH-GOWT1-GT.sh" >&2
exit 2
