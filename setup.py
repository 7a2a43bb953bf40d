"""Packaging of ctc-toolkit (import name ``ctc``, console script ``ctc``)."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "ctc" / "__init__.py").read_text())[1]

setup(
    name="ctc-toolkit",
    version=VERSION,
    description="Cell Tracking Challenge toolkit: CTC I/O, validation, exact measures, "
                "segmentation, tracking and submission packaging",
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    packages=find_packages(include=["ctc", "ctc.*"]),
    # torch: the README installs the CPU build first (pip install torch==2.13.0), which
    # this range accepts, so pip never pulls the CUDA wheels.
    install_requires=[
        "torch>=2.1",
        "numpy>=1.24",
        "scipy>=1.10",
        "scikit-image>=0.21",
        "tifffile>=2023.1",
        "networkx>=3.0",
        "pandas>=2.0",
        "numba>=0.58",
        "tqdm>=4.60",
        "dask[distributed]>=2023.1",
        "matplotlib>=3.6",
    ],
    extras_require={
        # py-ctcmetrics is the reference of the differential tests of the measures.
        "test": ["pytest>=7", "hypothesis>=6", "py-ctcmetrics>=1.3"],
        "dev": ["pytest>=7", "hypothesis>=6", "py-ctcmetrics>=1.3", "ruff>=0.5"],
    },
    entry_points={"console_scripts": ["ctc=ctc.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Image Recognition",
        "Topic :: Scientific/Engineering :: Bio-Informatics",
    ],
)
