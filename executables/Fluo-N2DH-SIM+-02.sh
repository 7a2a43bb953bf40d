#!/usr/bin/env bash
# Fluo-N2DH-SIM+-02.sh: no trained model for Fluo-N2DH-SIM+ yet (datasets.txt marks it untrained).
echo "Fluo-N2DH-SIM+-02.sh: no trained model for Fluo-N2DH-SIM+; train one with train-Fluo-N2DH-SIM+-GT.sh" >&2
exit 2
