"""Documents uploaded on the send page before sending, so their pages can be
previewed: ``<spool>/uploads/<token>/`` holds ``owner`` (the user it belongs
to), ``names`` (one file name a line), the documents ``d0``, ``d1``… and the
page previews ``p001.png``….  The token is random (128 bits); only its
owner may use it.  Blocking: run in the thread pool; drawing in the render
workers (:func:`draw_previews`).
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from appliance.web.model import WebError
from modem.document import DocumentError, iter_render
from modem.tiff import preview_png

__all__ = ["Upload", "draw_previews", "load_upload", "save_upload"]

KEEP_SECONDS = 86400  # an upload never sent is removed after a day
MAX_PREVIEW_PAGES = 20  # pages drawn for a preview (the fax itself may have more)


@dataclass(frozen=True)
class Upload:
    token: str
    names: tuple[str, ...]
    pages: int
    previews: tuple[str, ...]  # URLs


def _directory(spool: str, token: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", token):
        raise WebError(404, "no such upload")
    return Path(spool) / "uploads" / token


def save_upload(spool: str, owner: str, files: Sequence[tuple[str, bytes]]) -> str:
    """(blocking) Store ``(name, content)`` files for ``owner``; the upload's token."""
    _expire(Path(spool) / "uploads")
    token = secrets.token_hex(16)
    directory = _directory(spool, token)
    directory.mkdir(parents=True)
    (directory / "owner").write_text(owner, encoding="utf-8")
    (directory / "names").write_text("\n".join(n.replace("\n", " ") for n, _ in files), encoding="utf-8")
    for n, (_, data) in enumerate(files):
        (directory / f"d{n}").write_bytes(data)
    return token


def _expire(root: Path) -> None:
    """Remove uploads older than :data:`KEEP_SECONDS` (never sent)."""
    if not root.is_dir():
        return
    cutoff = time.time() - KEEP_SECONDS
    for directory in root.iterdir():
        try:
            if directory.stat().st_mtime < cutoff:
                shutil.rmtree(directory, ignore_errors=True)
        except OSError:
            continue


def load_upload(spool: str, token: str, owner: str) -> list[tuple[str, bytes]]:
    """(blocking) The ``(name, content)`` files of an upload of ``owner``; 404 for another's or none."""
    directory = _directory(spool, token)
    try:
        if (directory / "owner").read_text(encoding="utf-8") != owner:
            raise WebError(404, "no such upload")
        names = (directory / "names").read_text(encoding="utf-8").split("\n")
        return [(name, (directory / f"d{n}").read_bytes()) for n, name in enumerate(names)]
    except OSError:
        raise WebError(404, "the upload is gone: choose the files again") from None


def preview_file(spool: str, token: str, owner: str, number: int) -> bytes | None:
    """(blocking) Page ``number``'s preview PNG of an upload of ``owner``."""
    directory = _directory(spool, token)
    try:
        if (directory / "owner").read_text(encoding="utf-8") != owner:
            return None
        return (directory / f"p{number:03d}.png").read_bytes()
    except OSError:
        return None


def discard(spool: str, token: str) -> None:
    """(blocking) Remove an upload (after its fax is queued)."""
    shutil.rmtree(_directory(spool, token), ignore_errors=True)


def draw_previews(
    spool: str,
    token: str,
    files: Sequence[tuple[str, bytes]],
    resolution: object,
    page_size: object,
    max_pages: int,
    limit: int = MAX_PREVIEW_PAGES,
) -> int:
    """(render worker) Draw the previews of the first ``limit`` pages; the number drawn."""

    directory = _directory(spool, token)
    drawn = 0
    for name, data in files:
        try:
            for page in iter_render(data, resolution, page_size, max_pages=max_pages):  # type: ignore[arg-type]
                if drawn >= limit:
                    return drawn
                drawn += 1
                (directory / f"p{drawn:03d}.png").write_bytes(preview_png(page))
        except DocumentError as exc:
            raise type(exc)(name, exc.reason) from exc
    return drawn
