"""Disk and CPU work of the jobs, off the event loop."""

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def in_thread(work: Callable[[], T]) -> T:
    """``work()`` in the loop's default executor, awaited."""
    return await asyncio.get_running_loop().run_in_executor(None, work)
