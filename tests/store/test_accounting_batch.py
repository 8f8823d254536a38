"""record_accounting_many (one transaction; pipelined on PostgreSQL) keeps
the semantics of one record at a time: duplicates (stored before, or twice in
the batch) are reported False and change nothing, Called Numbers are updated
only for new records."""

from __future__ import annotations

from radius.store import AccountingRecord, Store


def stop(key: str, at: float) -> AccountingRecord:
    return AccountingRecord(key, at, "192.0.2.1", 2, "s-" + key, "alice", {"FB-Page-Count": [2]})


def test_batch_reports_duplicates_and_updates_called_numbers_once(store: Store) -> None:
    assert store.record_accounting(stop("a", 1.0), ("15550001", 0)) is True
    results = store.record_accounting_many(
        [
            (stop("a", 2.0), ("15550001", 2)),  # stored before: no change at all
            (stop("b", 3.0), ("1 555 0001", 1)),
            (stop("c", 4.0), None),
            (stop("b", 5.0), ("15550001", 2)),  # twice in the batch: the second is a duplicate
            (stop("d", 6.0), ("15550002", 2)),
        ]
    )
    assert results == [False, True, True, False, True]
    assert sorted(c.dedupe_key for c in store.list_cdrs()) == ["a", "b", "c", "d"]
    first = store.get_called_number("15550001")
    assert first is not None and (first.last_result, first.voice_error_seen, first.results) == (1, False, 2)
    second = store.get_called_number("15550002")
    assert second is not None and (second.last_result, second.voice_error_seen, second.results) == (2, True, 1)
    assert store.record_accounting_many([]) == []
