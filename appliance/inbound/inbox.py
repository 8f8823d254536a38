"""Received faxes, one inbox per account.

Files live under ``<data_dir>/inbox/<account>/<id>/``: ``fax.tif`` (TIFF-F),
``fax.pdf`` and ``fax-p001.png`` … previews.  ``<data_dir>/inbox/index.json``
lists the items; it is rewritten atomically after the files are in place, so
an item in the index always has its files.  Every method blocks (file I/O):
Twisted code calls it from a thread pool.  The web API reads
:meth:`Inbox.list` and :meth:`Inbox.get`.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from appliance.durable import write_atomically
from appliance.render.jobs import document_to_files
from appliance.render.runner import shared_pool
from modem.document import Resolution
from modem.tiff import received_to_files

__all__ = ["UNROUTED_ACCOUNT", "Inbox", "InboxItem"]

#: the inbox of faxes no account could be found for
UNROUTED_ACCOUNT = "_unrouted"

_SAFE = re.compile(r"[^A-Za-z0-9_.@+-]")


@dataclass(frozen=True)
class InboxItem:
    id: int
    account: str
    received_at: float
    pages: int
    did: str = ""
    caller_id: str = ""
    remote_csid: str = ""
    source: str = ""  # "line:<name>" or "cloud"
    session_id: str = ""
    tiff: str = ""
    pdf: str = ""
    previews: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["previews"] = list(self.previews)
        return data


def _item(data: dict[str, Any]) -> InboxItem:
    data = dict(data)
    data["previews"] = tuple(data.get("previews", ()))
    return InboxItem(**data)


class Inbox:
    """The inbox store; see the module docstring."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._index = self.root / "index.json"

    def _load(self) -> list[dict[str, Any]]:
        try:
            return list(json.loads(self._index.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return []

    def _save(self, items: list[dict[str, Any]]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomically(self._index, json.dumps(items).encode("utf-8"))

    def directory_for(self, account: str, item_id: int) -> Path:
        return self.root / (_SAFE.sub("_", account) or "_") / f"{item_id:06d}"

    def add_received(
        self,
        account: str,
        t4_pages: Sequence[bytes],
        fine: bool | Sequence[bool],
        *,
        received_at: float,
        codings: int | Sequence[int] = 0,
        **meta: Any,
    ) -> InboxItem:
        """Store received T.4 pages (TIFF-F, PDF, previews) and index them; ``codings``: each
        page's df (0 MH, 1 MR, 3 MMR)."""

        if isinstance(fine, bool):
            resolution: Resolution | list[Resolution] = Resolution.FINE if fine else Resolution.NORMAL
        else:
            resolution = [Resolution.FINE if f else Resolution.NORMAL for f in fine]
        with self._lock:
            items = self._load()
            item_id = max((int(i["id"]) for i in items), default=0) + 1
            directory = self.directory_for(account, item_id)
            files = received_to_files(list(t4_pages), resolution, directory, "fax", codings=codings)
            item = InboxItem(
                item_id,
                account,
                received_at,
                len(files.pages),
                tiff=str(files.tiff),
                pdf=str(files.pdf),
                previews=tuple(str(p) for p in files.previews),
                **meta,
            )
            items.append(item.to_json())
            self._save(items)
        return item

    def add_document(self, account: str, data: bytes, *, received_at: float, **meta: Any) -> InboxItem:
        """Store a fax that arrived as a file (a cloud fax: TIFF or PDF)."""
        with self._lock:
            items = self._load()
            item_id = max((int(i["id"]) for i in items), default=0) + 1
            directory = self.directory_for(account, item_id)
            directory.mkdir(parents=True, exist_ok=True)
            pages, tiff, pdf, previews = _convert_document(data, directory)
            item = InboxItem(item_id, account, received_at, pages, tiff=tiff, pdf=pdf, previews=previews, **meta)
            items.append(item.to_json())
            self._save(items)
        return item

    def list(self, account: str | None = None, limit: int | None = None) -> list[InboxItem]:
        """Newest first; only ``account``'s when given."""
        with self._lock:
            items = [_item(i) for i in self._load()]
        if account is not None:
            items = [i for i in items if i.account.casefold() == account.casefold()]
        items.sort(key=lambda i: i.id, reverse=True)
        return items[:limit] if limit is not None else items

    def get(self, item_id: int) -> InboxItem | None:
        with self._lock:
            for data in self._load():
                if int(data["id"]) == int(item_id):
                    return _item(data)
        return None

    def delete(self, item_id: int) -> InboxItem | None:
        """Remove an item from the index, then its files; None when there is no such item."""
        with self._lock:
            items = self._load()
            kept = [i for i in items if int(i["id"]) != int(item_id)]
            if len(kept) == len(items):
                return None
            gone = _item(next(i for i in items if int(i["id"]) == int(item_id)))
            self._save(kept)
        directory = self.directory_for(gone.account, gone.id)
        if directory.is_dir() and directory.resolve().is_relative_to(self.root.resolve()):
            shutil.rmtree(directory, ignore_errors=True)
        return gone

    def contains(self, key: str, value: object) -> bool:
        """Whether an item has ``extra[key] == value`` (e.g. a cloud recvid)."""
        with self._lock:
            return any(i.get("extra", {}).get(key) == value for i in self._load())


def _convert_document(data: bytes, directory: Path) -> tuple[int, str, str, tuple[str, ...]]:
    """Rendered in a bounded worker process (default [limits]); on failure the original is kept alone."""
    original = directory / ("original.pdf" if data.startswith(b"%PDF") else "original.tif")
    original.write_bytes(data)
    pool = shared_pool()
    try:
        return tuple(pool.call(document_to_files, data, str(directory), pool.limits.max_pages))
    except Exception:
        return (
            0,
            str(original) if original.suffix == ".tif" else "",
            str(original) if original.suffix == ".pdf" else "",
            (),
        )
