"""ctc-toolkit: the Cell Tracking Challenge end to end.

I/O of CTC folders (:mod:`ctc.io`), the track table (:mod:`ctc.lineage`),
validation (:mod:`ctc.validation`) and repair (:mod:`ctc.repair`) of results.
"""

__version__ = "0.1.0"

from ctc.errors import CTCError, CTCFormatError, CTCInputError, CTCWarning  # noqa: E402
from ctc.lineage import Track, TrackTable, read_tracks, write_tracks  # noqa: E402
from ctc.repair import repair_result  # noqa: E402
from ctc.validation import validate_result  # noqa: E402

__all__ = [
    "CTCError", "CTCFormatError", "CTCInputError", "CTCWarning", "Track", "TrackTable",
    "__version__", "read_tracks", "repair_result", "validate_result", "write_tracks",
]
