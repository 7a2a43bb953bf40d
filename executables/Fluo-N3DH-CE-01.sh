#!/usr/bin/env bash
# Fluo-N3DH-CE-01.sh: no trained model for Fluo-N3DH-CE yet (datasets.txt marks it untrained).
echo "Fluo-N3DH-CE-01.sh: no trained model for Fluo-N3DH-CE; train one with train-Fluo-N3DH-CE-GT.sh" >&2
exit 2
