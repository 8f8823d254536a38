"""The paged entry listing behind ``GET /ofax``, on SQLite and PostgreSQL:
active entries plus the latest completed ones, by fax then recipient."""

from __future__ import annotations

from appliance.jobs import EntryState, JobStore
from appliance.jobs.model import TERMINAL
from tests.jobs.test_store import T0, spec, to

S = EntryState
ACTIVE = (S.PREPROCESSING, S.APPROVAL_PENDING, S.PENDING, S.SENDING)
DONE = tuple(TERMINAL)


def test_pages_cover_the_listing_in_order(jobs: JobStore) -> None:
    """Pages are disjoint, in (fax, recipient) order, and together equal the unpaged listing."""
    faxes = [jobs.submit(spec(), to(*(f"55501{i}{j}" for j in range(3))), T0 + i)[0] for i in range(4)]
    jobs.submit(spec(owner="bob"), to("5559999"), T0)
    everything = jobs.list_entries(owner="alice", states=ACTIVE)
    pages = [jobs.page_entries(owner="alice", active=ACTIVE, limit=5, offset=o) for o in (0, 5, 10, 15)]
    assert [len(p) for p in pages] == [5, 5, 2, 0]
    assert [e.id for p in pages for e in p] == [e.id for e in everything]
    assert {e.fax_id for e in everything} == {f.id for f in faxes}
    assert len(jobs.page_entries(active=ACTIVE, limit=100)) == 13


def test_only_the_latest_completed(jobs: JobStore) -> None:
    """done_limit keeps the most recently completed entries; active ones are all listed."""
    fax, _entries = jobs.submit(spec(), to("5550001", "5550002", "5550003"), T0)
    other, _ = jobs.submit(spec(), to("5550004"), T0)
    jobs.abort(fax.id, 0, now=T0 + 10)
    jobs.abort(fax.id, 2, now=T0 + 20)
    page = jobs.page_entries(owner="alice", active=ACTIVE, done=DONE, done_limit=1, limit=10)
    assert [(e.fax_id, e.index) for e in page] == [(fax.id, 1), (fax.id, 2), (other.id, 0)]
    done = jobs.page_entries(owner="alice", done=DONE, done_limit=None, limit=10)
    assert [(e.fax_id, e.index) for e in done] == [(fax.id, 0), (fax.id, 2)]
    assert jobs.page_entries(owner="alice", done=DONE, done_limit=0, limit=10) == []
    assert jobs.page_entries(owner="bob", active=ACTIVE, done=DONE, limit=10) == []
