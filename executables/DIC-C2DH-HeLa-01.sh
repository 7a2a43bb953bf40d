#!/usr/bin/env bash
# DIC-C2DH-HeLa-01.sh: no trained model for DIC-C2DH-HeLa yet (datasets.txt marks it untrained).
echo "DIC-C2DH-HeLa-01.sh: no trained model for DIC-C2DH-HeLa; train one with train-DIC-C2DH-HeLa-GT.sh" >&2
exit 2
