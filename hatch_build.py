"""Hatch build hook: compiles ``weave_nb/_csrc/*.c`` into ``weave_nb._speedups``, in place.

The extension is optional: where it cannot be built (no C compiler, no Python
headers), the package installs as pure Python, with a warning, unless
``WEAVE_NB_REQUIRE_SPEEDUPS=1`` (CI) makes that an error. After editing the C
files, ``python hatch_build.py`` rebuilds it in place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCES = "weave_nb/_csrc"


def build_speedups(root: Path) -> Path:
    """Compile the extension in place under ``root``; returns the built file's path."""
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    sources = sorted(str(p.relative_to(root)) for p in (root / SOURCES).glob("*.c"))
    extension = Extension("weave_nb._speedups", sources, include_dirs=[SOURCES])
    command = build_ext(Distribution({"name": "weave_nb", "ext_modules": [extension]}))
    command.inplace = True
    command.build_temp = str(root / "build" / "speedups")
    previous = Path.cwd()
    os.chdir(root)  # build_ext resolves the source and the in-place target from here
    try:
        command.ensure_finalized()
        command.run()
        built: str = command.get_ext_fullpath(extension.name)
        return root / built
    finally:
        os.chdir(previous)


class SpeedupsBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Builds the extension for wheels and editable installs."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        try:
            built = build_speedups(Path(self.root))
        except Exception as error:
            if os.environ.get("WEAVE_NB_REQUIRE_SPEEDUPS") == "1":
                raise
            self.app.display_warning(
                f"weave_nb: the C speedups were not built ({error}); "
                "log() and @monitor take their pure-Python paths"
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":  # an editable install finds it in place
            build_data["force_include"][str(built)] = f"weave_nb/{built.name}"


if __name__ == "__main__":
    print(build_speedups(Path(__file__).resolve().parent))
