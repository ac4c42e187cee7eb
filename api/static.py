"""The built web app's files, gzip-compressed at build time: a browser that accepts gzip gets `<file>.gz`
(made by web/scripts/precompress.mjs) with Content-Encoding: gzip, so a phone downloads ~130 KB instead
of ~450 KB for the intake screen, and the API spends no CPU compressing (API responses stay uncompressed)."""

from __future__ import annotations

import mimetypes
import stat

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

COMPRESSED = (".js", ".css", ".html", ".svg", ".json", ".webmanifest")


class PrecompressedStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if not isinstance(response, FileResponse) or response.status_code != 200:
            return response
        served = str(response.path)
        if not served.endswith(COMPRESSED) or "gzip" not in Headers(scope=scope).get("accept-encoding", ""):
            response.headers.setdefault("Vary", "Accept-Encoding")
            return response
        gz_path, gz_stat = self.lookup_path(self._relative(served) + ".gz")
        if gz_stat is None or not stat.S_ISREG(gz_stat.st_mode):
            return response
        media_type = mimetypes.guess_type(served)[0] or "application/octet-stream"
        if served.endswith(".webmanifest"):
            media_type = "application/manifest+json"
        out = FileResponse(gz_path, stat_result=gz_stat, media_type=media_type)
        out.headers["Content-Encoding"] = "gzip"
        out.headers["Vary"] = "Accept-Encoding"
        return out

    def _relative(self, full_path: str) -> str:
        for directory in self.all_directories:
            prefix = str(directory).rstrip("/") + "/"
            if full_path.startswith(prefix):
                return full_path[len(prefix):]
        return full_path
