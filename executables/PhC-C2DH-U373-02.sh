#!/usr/bin/env bash
# PhC-C2DH-U373-02.sh: no trained model for PhC-C2DH-U373 yet (datasets.txt marks it untrained).
echo "PhC-C2DH-U373-02.sh: no trained model for PhC-C2DH-U373; train one with train-PhC-C2DH-U373-GT.sh" >&2
exit 2
