"""The durable Stop spool: one file per Stop, oldest first, a Stop spooled
twice is one file, and unusable files or directories are reported clearly."""

from __future__ import annotations

import pytest

from appliance.portserver.spool import SpooledStop, SpoolError, StopSpool, spool_key


def test_pending_oldest_first_with_attributes_kept(tmp_path):
    """Spooled Stops come back oldest first, with their attributes and stop times."""
    spool = StopSpool(tmp_path)
    spool.put("b", [("User-Name", "bob"), ("FB-Page-Count", 2)], 200.0)
    spool.put("a", [("User-Name", "alice")], 100.0)
    assert spool.pending() == [
        SpooledStop("a", (("User-Name", "alice"),), 100.0),
        SpooledStop("b", (("User-Name", "bob"), ("FB-Page-Count", 2)), 200.0),
    ]
    spool.remove("a")
    spool.remove("a")  # already gone: nothing to do
    assert [s.key for s in spool.pending()] == ["b"] and len(spool) == 1


def test_same_session_spooled_twice_is_one_stop(tmp_path):
    """The key depends on the session id and the account (in any case): a second put replaces the first."""
    assert spool_key("s1", "Alice") == spool_key("s1", "alice") != spool_key("S1", "alice")
    spool = StopSpool(tmp_path)
    spool.put(spool_key("s1", "alice"), [("FB-Page-Count", 1)], 1.0)
    spool.put(spool_key("s1", "ALICE"), [("FB-Page-Count", 2)], 2.0)
    (only,) = spool.pending()
    assert only.attributes == (("FB-Page-Count", 2),) and only.stopped_at == 2.0


def test_unreadable_stop_is_reported_with_its_file(tmp_path):
    """A damaged spool file is an error naming the file, not silently skipped."""
    spool = StopSpool(tmp_path)
    spool.put("good", [("User-Name", "alice")], 1.0)
    (tmp_path / "bad.stop.json").write_text('{"attributes": [')
    with pytest.raises(SpoolError, match=r"bad\.stop\.json is unreadable"):
        spool.pending()


def test_spool_directory_that_cannot_be_created(tmp_path):
    """A spool path under a regular file is refused with the path in the message."""
    (tmp_path / "file").write_text("")
    with pytest.raises(SpoolError, match=r"cannot create the Stop spool .*/file/spool"):
        StopSpool(tmp_path / "file" / "spool")
