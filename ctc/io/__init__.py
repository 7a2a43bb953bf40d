"""CTC input/output: folder discovery, frame naming, lazy reading, atomic result writing."""

from ctc.io.folders import SequenceFolders, list_sequences, sequence_folders
from ctc.io.naming import (
    GT_TRACK_FILE,
    RAW_PREFIX,
    RES_PREFIX,
    RES_TRACK_FILE,
    SEG_PREFIX,
    TRA_PREFIX,
    FrameFiles,
    find_frames,
    find_numbered_frames,
    find_slice_annotations,
    frame_name,
    slice_name,
)
from ctc.io.res_writer import ResultWriter
from ctc.io.sequence import FrameSequence
from ctc.io.tiff import (
    MAX_LABEL,
    FrameInfo,
    as_label_image,
    frame_info,
    read_frame,
    read_mask,
    write_mask,
)

__all__ = [
    "GT_TRACK_FILE", "MAX_LABEL", "RAW_PREFIX", "RES_PREFIX", "RES_TRACK_FILE",
    "SEG_PREFIX", "TRA_PREFIX", "FrameFiles", "FrameInfo", "FrameSequence",
    "ResultWriter", "SequenceFolders", "as_label_image", "find_frames",
    "find_numbered_frames", "find_slice_annotations", "frame_info", "frame_name", "list_sequences",
    "read_frame", "read_mask", "sequence_folders", "slice_name", "write_mask",
]
