"""The RADIUS server's blocking side: handler and store work, run in pool threads.

:class:`PoolWork` answers a batch of requests that :class:`radius.server_core.ServerCore`
handed out for work (``Where.POOL``): Access-Requests through the handlers,
Accounting-Requests committed to the store in one transaction (group commit)
before any reply exists.  While the store is unreachable, accounting records
go to the spool (when there is one) and are acknowledged; :meth:`PoolWork.replay`
writes them later.  Failures are kept per item, never raised for the batch.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.logger import Logger
from twisted.python.failure import Failure

from radius.acct_spool import AccountingSpool, AccountingSpoolError
from radius.codec import Dictionary, encode_reply
from radius.handlers import HandlerConfig, accounting_record, handle_access
from radius.model import Code, Decision
from radius.server_core import Port, Reply, Ticket, encode_decision
from radius.store.api import AccountingRecord, Store, StoreError

__all__ = ["Job", "PoolWork", "Result"]

Send = Callable[[bytes, tuple[str, int]], None]
#: per job: (True, Reply) or (False, Failure)
Result = tuple[bool, Any]
#: a CDR to store, and its Called Numbers update
Prepared = tuple[AccountingRecord, tuple[str, int] | None]


@dataclass(eq=False)
class Job:
    """A ticket on its way through the pool, and how to send its reply."""

    ticket: Ticket
    send: Send
    decision: Decision | None = None  # set by the worker for Access-Requests
    called: tuple[str, int] | None = None  # set by the worker: a stored Stop's Called Numbers update


class PoolWork:
    """Runs in pool threads; shares ``counters`` with the server (increments only)."""

    log = Logger()

    def __init__(
        self,
        *,
        store: Store,
        lookups: Any,
        login_lookups: Any,
        dictionary: Dictionary,
        handler_config: HandlerConfig,
        acct_spool: AccountingSpool | None,
        counters: collections.Counter[str],
        count: Callable[[str], int],
    ) -> None:
        self.store = store
        self.lookups = lookups
        self.login_lookups = login_lookups
        self.dictionary = dictionary
        self.handler_config = handler_config
        self.acct_spool = acct_spool
        self.counters = counters
        self._count = count

    def run_batch(self, batch: list[Job]) -> list[Result]:
        """Answer every job; failures are kept per job.  Accounting jobs of one batch are
        committed in one transaction."""
        results: list[Result] = [(False, None)] * len(batch)
        accounting: list[int] = []
        for i, job in enumerate(batch):
            ticket = job.ticket
            if ticket.kind is Port.ACCT:
                accounting.append(i)
                continue
            try:
                lookups = self.lookups if ticket.request.password is None else self.login_lookups
                job.decision = handle_access(ticket.request, lookups, self.handler_config)
                results[i] = (True, encode_decision(job.decision, ticket.request, ticket.secret, self.dictionary))
            except Exception:
                results[i] = (False, Failure())
        if accounting:
            self._record_accounting([batch[i] for i in accounting], accounting, results)
        return results

    def _record_accounting(self, jobs: list[Job], positions: list[int], results: list[Result]) -> None:
        prepared: list[Prepared] = []
        try:
            prepared = [accounting_record(j.ticket.request, j.ticket.addr[0], j.ticket.now) for j in jobs]
            stored = self.store.record_accounting_many(prepared)  # committed before any reply exists
        except StoreError:
            if not self._spool_accounting(jobs, prepared):
                for pos in positions:
                    results[pos] = (False, Failure())
                return
            stored = [True] * len(jobs)
        except Exception:
            if len(jobs) == 1:
                results[positions[0]] = (False, Failure())
                return
            for job, pos in zip(jobs, positions):  # isolate the failing record(s)
                self._record_accounting([job], [pos], results)
            return
        for job, pos, new, (_, called) in zip(jobs, positions, stored, prepared):
            if not new:
                self.counters["duplicate_cdr"] += 1
            elif called is not None:
                job.called = called
            ticket = job.ticket
            reply = encode_reply(
                Code.ACCOUNTING_RESPONSE,
                ticket.request,
                (),
                ticket.secret,
                self.dictionary,
                message_authenticator=False,
            )
            results[pos] = (True, Reply(reply))

    def _spool_accounting(self, jobs: list[Job], prepared: list[Prepared]) -> bool:
        """The store is unreachable: keep the records in the spool; True when they are
        durable there (then they are acknowledged), False when there is no spool or it failed."""
        if self.acct_spool is None or not prepared:
            return False
        try:
            self.acct_spool.put(prepared, jobs[0].ticket.now)
        except AccountingSpoolError as exc:
            self.log.error("accounting not spooled: {error}", error=str(exc))
            return False
        self.counters["acct_spooled"] += len(jobs)
        n = self._count("acct_spool_batches")
        if n:
            self.log.warn(
                "the account store is unreachable: {records} accounting record(s) spooled and "
                "acknowledged, written when it is back ({batches_so_far} batches so far)",
                records=len(jobs),
                batches_so_far=n,
            )
        return True
