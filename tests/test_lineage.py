"""The L B E P track table: parsing, strict reading, writing, graphs."""

from __future__ import annotations

import pytest

from ctc.errors import CTCFormatError
from ctc.lineage import Track, TrackTable, check_tracks, parse_tracks, read_tracks, write_tracks


def test_parse_spaces_tabs_and_blank_lines():
    tracks, problems = parse_tracks("1 0 4 0\n\n2\t5\t7\t1\n  3  5 6  1  \n")
    assert problems == []
    assert tracks == [Track(1, 0, 4, 0), Track(2, 5, 7, 1), Track(3, 5, 6, 1)]


def test_write_read_round_trip(tmp_path):
    table = TrackTable([Track(7, 2, 3, 0), Track(1, 0, 1, 0), Track(9, 4, 4, 7)])
    write_tracks(tmp_path / "res_track.txt", table)
    assert (tmp_path / "res_track.txt").read_text() == "1 0 1 0\n7 2 3 0\n9 4 4 7\n"
    assert read_tracks(tmp_path / "res_track.txt") == table
    assert TrackTable.from_array(table.to_array()) == table


@pytest.mark.parametrize("text,pattern", [
    ("1 0 4\n", "line 1: 3 columns, expected 4"),
    ("1 0 4 0 9\n", "line 1: 5 columns"),
    ("1 0 4.5 0\n", "line 1: non-integer"),
    ("1 0 x 0\n", "non-integer"),
    ("1 0 4 0\n1 5 6 0\n", "label 1 is declared more than once"),
    ("1 4 2 0\n", "label 1: begin 4 > end 2"),
    ("2 5 6 9\n", "parent 9 is not declared"),
    ("2 5 6 2\n", "label 2 is its own parent"),
    ("1 -1 2 0\n", "negative value"),
    ("0 1 2 0\n", "label 0 is the background"),
])
def test_strict_read_names_file_and_problem(tmp_path, text, pattern):
    path = tmp_path / "res_track.txt"
    path.write_text(text)
    with pytest.raises(CTCFormatError, match=pattern) as err:
        read_tracks(path)
    assert "res_track.txt" in str(err.value)


def test_strict_read_lists_every_problem(tmp_path):
    path = tmp_path / "man_track.txt"
    path.write_text("1 0 x 0\n2 3 1 0\n3 0 1 8\n")
    with pytest.raises(CTCFormatError) as err:
        read_tracks(path)
    message = str(err.value)
    assert "non-integer" in message and "begin 3 > end 1" in message and "parent 8" in message


def test_check_tracks_lineage_order_and_range():
    problems = check_tracks([Track(1, 0, 5, 0), Track(2, 5, 6, 1), Track(3, 6, 12, 1)], 10)
    codes = sorted(p.code for p in problems)
    assert codes == ["parent-not-ended", "track-out-of-range"]
    assert check_tracks([Track(1, 0, 5, 0), Track(2, 6, 9, 1), Track(3, 8, 9, 1)], 10) == []


def test_lineage_and_tracking_graphs():
    table = TrackTable([Track(1, 0, 2, 0), Track(2, 3, 4, 1), Track(3, 3, 3, 1),
                        Track(4, 6, 6, 3)])
    lineage = table.lineage_graph()
    assert sorted(lineage.edges) == [(1, 2), (1, 3), (3, 4)]
    assert table.children(1) == [2, 3]
    graph = table.tracking_graph()
    assert graph.number_of_nodes() == 3 + 2 + 1 + 1
    track_edges = sorted(e for e, k in nx_edge_kinds(graph).items() if k == "track")
    parent_edges = sorted(e for e, k in nx_edge_kinds(graph).items() if k == "parent")
    assert track_edges == [((0, 1), (1, 1)), ((1, 1), (2, 1)), ((3, 2), (4, 2))]
    assert parent_edges == [((2, 1), (3, 2)), ((2, 1), (3, 3)), ((3, 3), (6, 4))]


def test_tracking_graph_from_presence():
    table = TrackTable([Track(1, 0, 3, 0), Track(2, 5, 5, 1)])
    graph = table.tracking_graph({0: [1], 1: [1], 2: [], 3: [1], 5: [2]})
    kinds = nx_edge_kinds(graph)
    assert kinds == {((0, 1), (1, 1)): "track", ((1, 1), (3, 1)): "track",
                     ((3, 1), (5, 2)): "parent"}


def nx_edge_kinds(graph):
    return {(u, v): d["kind"] for u, v, d in graph.edges(data=True)}
