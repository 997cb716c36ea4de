"""``mistral-shim``: not built yet; it arrives with the shim issue."""

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    print("mistral-shim is not built yet: the OpenAI-compatible shim is a later milestone.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
