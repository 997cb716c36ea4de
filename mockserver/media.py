"""The real length of an audio file, read from its headers with mutagen (mp3, ogg/opus, flac, wav, m4a, ...).

A transcription's segments must fit the audio it was given, so the mock reads the file's own length rather
than guess it. Reading touches the disk: call it in a worker thread.
"""

from pathlib import Path

import mutagen
from mutagen import MutagenError


def duration(path: Path) -> float | None:
    """Seconds of audio in the file, or None when it is not audio mutagen can read."""
    try:
        found = mutagen.File(path)
    except (MutagenError, OSError, ValueError, EOFError, IndexError):
        return None
    if found is None or found.info is None:
        return None
    length = getattr(found.info, "length", None)
    return float(length) if isinstance(length, int | float) and length > 0 else None
