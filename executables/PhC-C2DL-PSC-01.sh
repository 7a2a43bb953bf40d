#!/usr/bin/env bash
# PhC-C2DL-PSC-01.sh: no trained model for PhC-C2DL-PSC yet (datasets.txt marks it untrained).
echo "PhC-C2DL-PSC-01.sh: no trained model for PhC-C2DL-PSC; train one with train-PhC-C2DL-PSC-GT.sh" >&2
exit 2
