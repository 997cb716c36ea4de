"""The mock's own libraries come with the ``mock`` extra; without them, one plain line says what to install.

A shim-only deployment installs ``mistral-compat`` alone (aiohttp, pydantic, orjson, mistral-common); the
mock also needs faker, pypdf, pyyaml and brotli. The pytest plugin is registered whatever was installed, so
its fixtures, like ``mistral-mock``, check first and say what is missing instead of failing on an import.
"""

import importlib.util

MODULES = ("faker", "pypdf", "yaml", "brotli", "numpy", "PIL")
INSTALL = 'pip install "mistral-compat[mock]"'


def missing() -> list[str]:
    """The mock's libraries that cannot be imported here."""
    return [name for name in MODULES if importlib.util.find_spec(name) is None]


def require(what: str = "mistral-mock") -> None:
    """Raise ``RuntimeError`` with one line naming the missing libraries and the command that adds them."""
    absent = missing()
    if absent:
        raise RuntimeError(f"{what} needs the mock's libraries ({', '.join(absent)}): {INSTALL}")
