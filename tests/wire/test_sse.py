"""The one SSE reader: data payloads (``DataLines``), and events with their names (``Frames``)."""

from mistral_wire.sse import DataLines, Frame, Frames, encode, encode_event

NAMED = encode_event("response.created", {"type": "response.created"}) + encode_event(
    "response.completed", {"type": "response.completed"}
)


def test_named_events_are_read_with_their_names_across_any_cut() -> None:
    expected = [
        Frame('{"type":"response.created"}', "response.created"),
        Frame('{"type":"response.completed"}', "response.completed"),
    ]
    for cut in range(len(NAMED) + 1):
        frames = Frames()
        found = frames.feed(NAMED[:cut]) + frames.feed(NAMED[cut:]) + frames.close()
        assert found == expected, cut
        assert not frames.partial


def test_frames_read_crlf_multiline_data_and_unnamed_events() -> None:
    frames = Frames()
    found = frames.feed(
        b"event:ping\r\ndata: a\r\ndata: b\r\n\r\n: comment\n\nevent: empty\n\n" + encode({"x": 1})
    )
    assert found == [Frame("a\nb", "ping"), Frame('{"x":1}')]
    assert frames.feed(b"data: [DONE]") == [] and frames.partial
    assert frames.close() == [Frame("[DONE]")]


def test_data_lines_still_read_the_payloads_only() -> None:
    lines = DataLines()
    assert lines.feed(NAMED) == ['{"type":"response.created"}', '{"type":"response.completed"}']
    assert lines.feed(b"data: tail") == [] and lines.partial
    assert lines.close() == ["tail"]
