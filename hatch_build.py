"""Puts the built web app into the wheel, so installing Clearway with pip needs no Node.

The wheel takes `web/dist` (built now with npm when it is missing and npm is at hand) as
`clearway/gateway/webapp_dist`, where the gateway serves it from. With neither a build nor
npm the wheel is the API alone, and says so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class WebAppBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "webapp"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return  # an editable install serves what `make up` copied into the source tree
        web = Path(self.root) / "web"
        dist = web / "dist"
        if not (dist / "index.html").is_file() and (web / "package.json").is_file():
            npm = shutil.which("npm")
            if npm is None:
                self.app.display_warning("npm not found: this wheel has no web app")
                return
            # npm found on PATH, fixed arguments: nothing here comes from outside.
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=web, check=True)  # noqa: S603
            subprocess.run([npm, "run", "build"], cwd=web, check=True)  # noqa: S603
        if (dist / "index.html").is_file():
            build_data["force_include"][str(dist)] = "clearway/gateway/webapp_dist"
