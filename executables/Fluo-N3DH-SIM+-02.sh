#!/usr/bin/env bash
# Fluo-N3DH-SIM+-02.sh: no trained model for Fluo-N3DH-SIM+ yet (datasets.txt marks it untrained).
echo "Fluo-N3DH-SIM+-02.sh: no trained model for Fluo-N3DH-SIM+; train one with train-Fluo-N3DH-SIM+-GT.sh" >&2
exit 2
