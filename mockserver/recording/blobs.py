"""Binary answers kept beside the recordings (``blobs/<sha256>``), written as they stream, never held whole.

Record mode relays a file's download to its client as it arrives; the copy goes to a temporary file under
the recordings' ``blobs`` folder in bounded slices (written in a thread), hashed on the way, and is renamed
to its digest at the end, so the same bytes recorded twice are one file. A replay sends it back from disk.
"""

import asyncio
import contextlib
import hashlib
import os
import uuid
from pathlib import Path

from mockserver.recording import persister
from mockserver.recording.format import BLOBS, Blob

SLICE = 1024 * 1024
BINARY_TYPES = ("application/octet-stream", "audio/", "video/")


def is_binary(content_type: str) -> bool:
    """Whether an answer of this type is kept as a blob rather than as text in the recording."""
    main = content_type.split(";", 1)[0].strip().lower()
    return main.startswith(BINARY_TYPES)


class BlobWriter:
    def __init__(self, root: Path) -> None:
        self.folder = root / BLOBS
        self.temporary = self.folder / f".blob.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        self.digest = hashlib.sha256()
        self.size = 0
        self._pending = bytearray()
        self._handle: int | None = None

    def _open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        persister.in_flight(self.temporary.name, True)
        self._handle = os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)

    def _write(self, data: bytes) -> None:
        if self._handle is None:
            self._open()
        assert self._handle is not None
        view = memoryview(data)
        while view:
            view = view[os.write(self._handle, view) :]

    async def feed(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.size += len(chunk)
        self._pending.extend(chunk)
        if len(self._pending) >= SLICE:
            await self._flush()

    async def _flush(self) -> None:
        data, self._pending = bytes(self._pending), bytearray()
        await asyncio.get_running_loop().run_in_executor(None, self._write, data)

    async def finish(self) -> Blob:
        """The blob, published under its digest."""
        await self._flush()
        sha256 = self.digest.hexdigest()
        await asyncio.get_running_loop().run_in_executor(None, self._publish, sha256)
        return Blob(f"{BLOBS}/{sha256}", self.size, sha256)

    def _publish(self, sha256: str) -> None:
        if self._handle is None:
            self._open()
        assert self._handle is not None
        os.fsync(self._handle)
        os.close(self._handle)
        self._handle = None
        final = self.folder / sha256
        if final.exists():
            self.temporary.unlink()
        else:
            os.replace(self.temporary, final)
        persister.in_flight(self.temporary.name, False)

    def discard(self) -> None:
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None
        with contextlib.suppress(FileNotFoundError):
            self.temporary.unlink()
        persister.in_flight(self.temporary.name, False)
