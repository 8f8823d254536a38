"""Housekeeping: carry out the :mod:`appliance.retention` plan (blocking file
and database work; the running appliance calls :func:`purge` from its
thread pool once a day, ``faxappliance purge`` directly).

Spool files are looked for only under the data directory's ``outbox/`` (CLI
sends) and the web spool (``[web] spool_dir``, default ``<data_dir>/web``);
nothing outside them is ever removed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from appliance.inbound.inbox import Inbox
from appliance.jobs import JobStore
from appliance.retention import FinishedFax, Plan, Retention, SpoolFile, plan
from radius.store import Store

__all__ = ["free_bytes", "purge", "spool_roots"]


def spool_roots(data_dir: str | Path, web_spool: str = "") -> list[Path]:
    """Where spool files may be removed: ``<data_dir>/outbox`` and the web spool."""
    data = Path(data_dir)
    return [data / "outbox", Path(web_spool) if web_spool else data / "web"]


def _inside(path: Path, roots: list[Path]) -> bool:
    try:
        resolved = path.resolve()
    except OSError:
        return False
    return any(resolved != root.resolve() and resolved.is_relative_to(root.resolve()) for root in roots)


def _spool(roots: list[Path], referenced: set[str]) -> list[SpoolFile]:
    """Outbox files and web spool directories (one unit per fax)."""
    wanted = {str(Path(p).resolve()) for p in referenced}
    out = []
    for root in roots:
        if not root.is_dir():
            continue
        for path in root.iterdir():
            try:
                modified = path.stat().st_mtime
            except OSError:
                continue
            if path.is_dir():
                used = any(w.startswith(str(path.resolve()) + "/") for w in wanted)
            else:
                used = str(path.resolve()) in wanted
            out.append(SpoolFile(str(path), modified, used))
    return out


def _remove(path: Path, roots: list[Path]) -> None:
    """Remove a spool file, or the per-fax spool directory that holds it."""
    if not _inside(path, roots):
        return
    for root in roots:
        try:
            relative = path.resolve().relative_to(root.resolve())
        except ValueError:
            continue
        top = root / relative.parts[0]
        if top.is_dir():
            shutil.rmtree(top, ignore_errors=True)
        else:
            top.unlink(missing_ok=True)
            top.with_suffix(".pdf").unlink(missing_ok=True)
        return


def purge(
    retention: Retention,
    now: float,
    *,
    jobs: JobStore,
    inbox: Inbox,
    cdrs: Store | None,
    data_dir: str | Path,
    web_spool: str = "",
    dry_run: bool = False,
) -> Plan:
    """Decide and (unless ``dry_run``) remove; returns the plan with the CDR count."""
    roots = spool_roots(data_dir, web_spool)
    faxes = [FinishedFax(i, at, sent, docs) for i, at, sent, docs in jobs.finished_faxes()]
    items = [(i.id, i.received_at) for i in inbox.list()]
    decided = plan(retention, now, faxes=faxes, inbox=items, spool=_spool(roots, jobs.all_documents()))
    count = 0
    if cdrs is not None and decided.cdrs_before is not None:
        count = int(cdrs.purge_cdrs(decided.cdrs_before, dry_run=dry_run))
    decided = Plan(decided.faxes, decided.inbox, decided.files, decided.cdrs_before, count, decided.notes)
    if dry_run:
        return decided
    for fax in decided.faxes:
        if jobs.delete_fax(fax.fax_id):
            for document in fax.documents:
                _remove(Path(document), roots)
    for item_id in decided.inbox:
        inbox.delete(item_id)
    for name in decided.files:
        _remove(Path(name), roots)
    return decided


def free_bytes(path: str | Path) -> int:
    """Free space for unprivileged users where ``path`` lives (its nearest existing parent)."""
    target = Path(path).resolve()
    while not target.exists() and target.parent != target:
        target = target.parent
    return int(shutil.disk_usage(target).free)
