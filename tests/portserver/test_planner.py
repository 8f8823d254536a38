"""The port-server planner, pure: no reactor, no Deferreds.  Replies in,
decisions and the next query out: send authorization, call-ahead, the
receive plan (disabled DIDs, failover chains, load-balance groups), the
accounting attributes of Start, Interim-Update and Stop, and the resend
backoff."""

from __future__ import annotations

import random

import pytest

from appliance.portserver.model import AccountType, Cdr, Failover, ReceiveRoute, Session, TransferType
from appliance.portserver.planner import (
    MAX_FAILOVER_HOPS,
    LoadBalanceGroups,
    Planner,
    Query,
    ReceivePlan,
    ResendBackoff,
    call_ahead_query,
    interpret_call_ahead,
    interpret_send,
    with_delay,
)
from radius.client import Reply
from radius.model import A, Code, FbCommand, FbContext
from tests.portserver.helpers import DICT

ACCEPT, REJECT = Code.ACCESS_ACCEPT, Code.ACCESS_REJECT
GA, GA_DID, GA_MEMBERS = FbCommand.GET_ACCOUNT, FbCommand.GET_ACCOUNT_FROM_DID, FbCommand.GET_LOAD_BALANCE_GROUP_MEMBERS
PRE_RECEIVE = FbContext.PRE_RECEIVE_SESSION


def reply(code: Code, *attrs) -> Reply:
    return Reply(code, tuple((name.value, value) for name, value in attrs), "test")


def drive(plan: ReceivePlan, table: dict) -> tuple[ReceiveRoute, list[Query]]:
    """Answer each query of ``plan`` from ``table`` ((command, user) -> Reply; others are rejected)."""
    asked = []
    query = next(plan)
    while True:
        asked.append(query)
        assert query.context == PRE_RECEIVE
        answer = table.get((query.command, query.user), reply(REJECT, (A.REPLY_MESSAGE, "unknown")))
        try:
            query = plan.send(answer)
        except StopIteration as done:
            return done.value, asked


def users(asked: list[Query]) -> list[tuple[FbCommand, str]]:
    return [(q.command, q.user) for q in asked]


# ------------------------------------------------------------------ sends


def test_send_query_carries_session_number_transfer_type_and_nas():
    """Get-Account / Pre-Send-Session names the account, the session, the number and the transfer type."""
    planner = Planner(DICT, nas_identifier="nas-1", transfer_type=TransferType.QUEUE)
    query = planner.send_query("alice", "5551234", "s1")
    assert query.attributes("nas-1") == [
        ("FB-Command", 1),
        ("FB-Context", 3),
        ("User-Name", "alice"),
        ("Acct-Session-Id", "s1"),
        ("FB-Dial-Number", "5551234"),
        ("FB-Transfer-Type", 2),
        ("NAS-Identifier", "nas-1"),
    ]
    assert dict(planner.send_query("alice", "1", "s2", TransferType.REAL_TIME).extra)["FB-Transfer-Type"] == 1


def test_send_authorised_with_the_account_settings():
    """An Access-Accept authorizes the send and carries TSID, ANI, CDR flag and billing texts."""
    auth = interpret_send(
        reply(
            ACCEPT,
            (A.FB_SND_TSID, "TSID"),
            (A.FB_SND_ANI, "5035550100"),
            (A.FB_SAVE_CDR, 0),
            (A.FB_RULE_GROUP, "intl"),
            (A.FB_SND_ON_BEHALF_OF, 1),
            (A.FB_CDR_INFO, "dept 7"),
            (A.FB_CUSTOMER, "acme"),
            (A.FB_SOURCE, "api"),
        ),
        "alice",
        "5551234",
        TransferType.REAL_TIME,
    )
    assert auth.allowed and auth.reason == ""
    assert (auth.tsid, auth.ani, auth.save_cdr, auth.rule_group, auth.on_behalf_of) == (
        "TSID",
        "5035550100",
        False,
        "intl",
        True,
    )
    session = auth.session("s1", 1000.0)
    assert session == Session("s1", "alice", True, "5551234", "", False, 1000.0, "dept 7", "acme", "api")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (reply(REJECT, (A.REPLY_MESSAGE, "over quota")), "send refused: over quota"),
        (reply(REJECT), "send refused: account alice was rejected"),
        (reply(ACCEPT, (A.FB_SND_FROM_ACCOUNT, 0)), "sending is disabled for account alice"),
        (reply(ACCEPT, (A.FB_SND_TIME_EXPIRED, 1)), "send time has expired for account alice"),
    ],
)
def test_send_refused(answer, reason):
    """A reject, sending disabled or send time expired refuse the send, each with its reason."""
    auth = interpret_send(answer, "alice", "5551234", TransferType.REAL_TIME)
    assert not auth.allowed and auth.reason == reason


@pytest.mark.parametrize(
    ("transfer", "mode", "call_ahead"),
    [(TransferType.QUEUE, None, True), (TransferType.QUEUE, 0, False), (TransferType.REAL_TIME, 1, False)],
)
def test_call_ahead_only_for_queue_transfers(transfer, mode, call_ahead):
    """FB-Call-Ahead-Mode (default: call ahead) matters only for a queue transfer."""
    attrs = [] if mode is None else [(A.FB_CALL_AHEAD_MODE, mode)]
    assert interpret_send(reply(ACCEPT, *attrs), "alice", "1", transfer).call_ahead is call_ahead


def test_call_ahead_mode_query_and_answers():
    """Get-Call-Ahead-Mode names the number; a reject or any mode but 0 means call ahead."""
    query = call_ahead_query("5551234", "s1")
    assert (query.command, query.context, query.user) == (
        FbCommand.GET_CALL_AHEAD_MODE,
        FbContext.PRE_SEND_SESSION,
        "5551234",
    )
    assert interpret_call_ahead(reply(REJECT)) is True
    assert interpret_call_ahead(reply(ACCEPT)) is True
    assert interpret_call_ahead(reply(ACCEPT, (A.FB_CALL_AHEAD_MODE, 1))) is True
    assert interpret_call_ahead(reply(ACCEPT, (A.FB_CALL_AHEAD_MODE, 0))) is False


# --------------------------------------------------------------- receives


def test_receive_asks_for_the_did_then_the_account():
    """Get-Account-From-DID, then Get-Account for its account with the DID and the transfer type."""
    table = {
        (GA_DID, "5550001"): reply(ACCEPT, (A.USER_NAME, "alice")),
        (GA, "alice"): reply(ACCEPT, (A.FB_RCV_CSID, "ALICE"), (A.FB_CDR_INFO, "c"), (A.FB_SAVE_CDR, 0)),
    }
    route, asked = drive(Planner(DICT).route_receive("5550001", "r1"), table)
    assert users(asked) == [(GA_DID, "5550001"), (GA, "alice")]
    assert dict(asked[1].extra) == {"Acct-Session-Id": "r1", "FB-Dial-Number": "5550001", "FB-Transfer-Type": 1}
    assert route == ReceiveRoute(
        True, "5550001", billed_account="alice", receive_account="alice", csid="ALICE", save_cdr=False, cdr_info="c"
    )


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (reply(ACCEPT, (A.USER_NAME, "alice"), (A.FB_DID_ENABLED, 0)), "DID 5550001 is disabled"),
        (reply(REJECT, (A.REPLY_MESSAGE, "no such DID")), "no such DID"),
        (reply(REJECT), "DID 5550001 is not routed"),
        (reply(ACCEPT), "the route of DID 5550001 names no account"),
    ],
)
def test_receive_refused_at_the_did(answer, reason):
    """A disabled, unknown or account-less DID refuses the call without asking for an account."""
    route, asked = drive(Planner(DICT).route_receive("5550001", "r1"), {(GA_DID, "5550001"): answer})
    assert users(asked) == [(GA_DID, "5550001")]
    assert not route.accepted and route.reason == reason and route.failovers == ()


def test_failover_when_the_account_cannot_receive():
    """A disabled account's call goes to its failover account; the DID's account is still billed."""
    table = {
        (GA_DID, "555"): reply(ACCEPT, (A.USER_NAME, "a")),
        (GA, "a"): reply(
            ACCEPT, (A.FB_RCV_TO_ACCOUNT, 0), (A.FB_RCV_FAILOVER_ACCOUNT_ID, "b"), (A.FB_CUSTOMER, "acme")
        ),
        (GA, "b"): reply(ACCEPT, (A.FB_RCV_CSID, "B"), (A.FB_CUSTOMER, "other")),
    }
    route, asked = drive(Planner(DICT).route_receive("555", "r1"), table)
    assert users(asked) == [(GA_DID, "555"), (GA, "a"), (GA, "b")]
    assert route.accepted and (route.billed_account, route.receive_account, route.csid) == ("a", "b", "B")
    assert route.failovers == (Failover("a", "b", "receiving is disabled for account a"),)
    assert route.session("r1", 5.0) == Session("r1", "a", False, "555", "b", True, 5.0, customer="acme")


@pytest.mark.parametrize(
    ("attrs", "available", "why"),
    [
        ([(A.FB_RCV_TIME_EXPIRED, 1)], True, "receive time has expired for account a"),
        ([], False, "account a is busy or unavailable"),
        ([(A.FB_RCV_FAILOVER_MODE, 1)], True, "always failover"),
    ],
)
def test_failover_reasons(attrs, available, why):
    """Expired receive time, a busy account and failover mode 1 each route to the failover account."""
    table = {
        (GA_DID, "555"): reply(ACCEPT, (A.USER_NAME, "a")),
        (GA, "a"): reply(ACCEPT, (A.FB_RCV_FAILOVER_ACCOUNT_ID, "b"), *attrs),
        (GA, "b"): reply(ACCEPT),
    }
    planner = Planner(DICT, is_available=lambda account: available or account != "a")
    route, _ = drive(planner.route_receive("555", "r1"), table)
    assert route.accepted and route.receive_account == "b" and route.failovers == (Failover("a", "b", why),)


def test_failover_refused_when_missing_rejected_looping_or_too_long():
    """No failover account, a rejected one, a loop or a chain over the hop limit refuse the call."""
    disabled = (A.FB_RCV_TO_ACCOUNT, 0)
    table = {
        (GA_DID, "1"): reply(ACCEPT, (A.USER_NAME, "alone")),
        (GA, "alone"): reply(ACCEPT, disabled),
        (GA_DID, "2"): reply(ACCEPT, (A.USER_NAME, "x")),
        (GA, "x"): reply(ACCEPT, disabled, (A.FB_RCV_FAILOVER_ACCOUNT_ID, "gone")),
        (GA_DID, "3"): reply(ACCEPT, (A.USER_NAME, "p")),
        (GA, "p"): reply(ACCEPT, disabled, (A.FB_RCV_FAILOVER_ACCOUNT_ID, "Q")),
        (GA, "Q"): reply(ACCEPT, disabled, (A.FB_RCV_FAILOVER_ACCOUNT_ID, "P")),
        (GA_DID, "4"): reply(ACCEPT, (A.USER_NAME, "c0")),
    }
    for i in range(MAX_FAILOVER_HOPS + 1):
        table[(GA, f"c{i}")] = reply(ACCEPT, disabled, (A.FB_RCV_FAILOVER_ACCOUNT_ID, f"c{i + 1}"))
    planner = Planner(DICT)
    alone, _ = drive(planner.route_receive("1", "r"), table)
    assert not alone.accepted and alone.reason == "receiving is disabled for account alone"
    rejected, _ = drive(planner.route_receive("2", "r"), table)
    assert rejected.reason == "account gone cannot receive: unknown" and len(rejected.failovers) == 1
    loop, _ = drive(planner.route_receive("3", "r"), table)  # account names compare case-insensitively
    assert loop.reason == "receiving is disabled for account Q; failover account P loops back"
    chain, asked = drive(planner.route_receive("4", "r"), table)
    assert chain.reason == f"more than {MAX_FAILOVER_HOPS} failover accounts in a chain"
    assert len(asked) == 1 + MAX_FAILOVER_HOPS and len(chain.failovers) == MAX_FAILOVER_HOPS


def group_table(kind: AccountType, modified: int | None = 100, **member_attrs) -> dict:
    stamp = [] if modified is None else [(A.FB_LAST_MODIFIED_TIME, modified)]
    table = {
        (GA_DID, "555"): reply(ACCEPT, (A.USER_NAME, "grp")),
        (GA, "grp"): reply(ACCEPT, (A.FB_ACCOUNT_TYPE, kind), *stamp),
        (GA_MEMBERS, "grp"): reply(ACCEPT, *stamp, *[(A.USER_NAME, m) for m in ("m1", "m2", "m3")]),
    }
    for m in ("m1", "m2", "m3"):
        table[(GA, m)] = reply(ACCEPT, (A.FB_RCV_CSID, m.upper()), *member_attrs.get(m, []))
    return table


def test_group_members_fetched_once_per_modification_and_offered_in_turn():
    """Alternating: members fetched once per FB-Last-Modified-Time, the first member rotates, unable ones skipped."""
    table = group_table(AccountType.LB_GROUP_ALTERNATING, m2=[(A.FB_RCV_TO_ACCOUNT, 0)])
    planner = Planner(DICT, is_available=lambda account: account != "grp")  # asked of members, not of the group
    routes = [drive(planner.route_receive("555", f"r{i}"), table)[0] for i in range(4)]
    assert [(r.receive_account, r.csid) for r in routes] == [("m1", "M1"), ("m3", "M3"), ("m3", "M3"), ("m1", "M1")]
    assert all(r.billed_account == "grp" and r.failovers == () for r in routes)
    assert planner.group_member_requests == 1
    drive(planner.route_receive("555", "r5"), group_table(AccountType.LB_GROUP_ALTERNATING, modified=200))
    assert planner.group_member_requests == 2


def test_group_without_a_modification_time_is_fetched_every_time():
    """Without FB-Last-Modified-Time the member list cannot be cached."""
    planner = Planner(DICT)
    for i in range(2):
        _, asked = drive(planner.route_receive("555", f"r{i}"), group_table(AccountType.LB_GROUP_RANDOM, None))
        assert (GA_MEMBERS, "grp") in users(asked)
    assert planner.group_member_requests == 2


def test_group_that_cannot_take_the_call_fails_over():
    """When no member can receive, the group's own failover account gets the call."""
    no = [(A.FB_RCV_TO_ACCOUNT, 0)]
    table = group_table(AccountType.LB_GROUP_MOST_FREE, m1=no, m2=no, m3=no)
    table[(GA, "grp")] = reply(
        ACCEPT, (A.FB_ACCOUNT_TYPE, 9), (A.FB_LAST_MODIFIED_TIME, 100), (A.FB_RCV_FAILOVER_ACCOUNT_ID, "overflow")
    )
    table[(GA, "overflow")] = reply(ACCEPT)
    route, _ = drive(Planner(DICT).route_receive("555", "r1"), table)
    assert route.receive_account == "overflow"
    assert route.failovers == (Failover("grp", "overflow", "no member of load-balance group grp can receive"),)
    del table[(GA_MEMBERS, "grp")]  # the members request is rejected: an empty group
    table[(GA, "grp")] = reply(ACCEPT, (A.FB_ACCOUNT_TYPE, 9))
    empty, _ = drive(Planner(DICT).route_receive("555", "r2"), table)
    assert not empty.accepted and empty.reason == "no member of load-balance group grp can receive"


def test_group_order_by_delivery_style():
    """Alternating rotates (per group, any case), most-free sorts by free sessions, random uses the shuffle."""
    members = ("a", "b", "c")
    free = {"a": 1, "b": 7, "c": 7}
    groups = LoadBalanceGroups(free.__getitem__, random.Random(4).shuffle)
    alternating = AccountType.LB_GROUP_ALTERNATING
    assert [groups.order(g, alternating, members) for g in ("G", "g", "G", "g")] == [
        ["a", "b", "c"],
        ["b", "c", "a"],
        ["c", "a", "b"],
        ["a", "b", "c"],
    ]
    assert groups.order("h", AccountType.LB_GROUP_MOST_FREE, members) == ["b", "c", "a"]
    again = LoadBalanceGroups(None, random.Random(4).shuffle)
    draws = [groups.order("r", AccountType.LB_GROUP_RANDOM, members) for _ in range(5)]
    assert draws == [again.order("r", AccountType.LB_GROUP_RANDOM, members) for _ in range(5)]
    assert all(sorted(d) == ["a", "b", "c"] for d in draws) and len({tuple(d) for d in draws}) > 1
    assert again.order("h", AccountType.LB_GROUP_MOST_FREE, members) == ["a", "b", "c"]  # no free counts known
    assert groups.order("h", None, members) == ["a", "b", "c"] and groups.order("h", alternating, ()) == []


def test_member_cache_keyed_by_group_and_modification_time():
    """The member cache answers only for the same modification time, for the group in any case."""
    groups = LoadBalanceGroups()
    groups.remember("Grp", 100, ("m1",))
    assert groups.cached("GRP", 100) == ("m1",)
    assert groups.cached("grp", 101) is None and groups.cached("grp", None) is None and groups.cached("x", 100) is None


# ------------------------------------------------------------- accounting

SEND = Session("s1", "alice", True, "5551234", started_at=1000.7, cdr_info="dept 7", source="api")
RECEIVE = Session("r1", "bob", False, "5550002", client_account="carol", started_at=2000.0)


def test_start_attributes():
    """A Start names the session, the billed account, the NAS, the direction and the number."""
    assert Planner(DICT, nas_identifier="nas-1").start_attributes(SEND) == [
        ("Acct-Status-Type", 1),
        ("Acct-Session-Id", "s1"),
        ("User-Name", "alice"),
        ("NAS-Identifier", "nas-1"),
        ("FB-Is-Send", 1),
        ("FB-Dial-Number", "5551234"),
    ]
    start = Planner(DICT).start_attributes(RECEIVE)
    assert ("FB-Is-Send", 0) in start and ("FB-Client-Account-ID", "carol") in start
    assert not any(name == "NAS-Identifier" for name, _ in start)


def test_stop_attributes_of_a_send():
    """A send's Stop carries the CDR; empty optional values are left out; the called-number result is kept."""
    cdr = Cdr(page_count=2, total_seconds=40, remote_csid="REMOTE", connect_bps=14400, called_number_result=0)
    assert Planner(DICT).stop_attributes(SEND, cdr) == [
        ("Acct-Status-Type", 2),
        ("Acct-Session-Id", "s1"),
        ("User-Name", "alice"),
        ("FB-Is-Send", 1),
        ("FB-Dial-Number", "5551234"),
        ("FB-CDR-Type", 0),
        ("FB-Page-Count", 2),
        ("FB-Total-Seconds", 40),
        ("FB-Fax-Error-Code", 0),
        ("FB-Start-Time", 1000),
        ("FB-Connect-BPS", 14400),
        ("FB-Remote-CSID", "REMOTE"),
        ("FB-CDR-Info", "dept 7"),
        ("FB-Source", "api"),
        ("FB-Called-Number-Result", 0),
    ]


def test_stop_attributes_of_a_receive():
    """A receive's Stop carries the caller id and the receiving account, never a called-number result."""
    cdr = Cdr(
        page_count=1,
        fax_error_code=49,
        caller_id="5035550111",
        rcv_account_id="carol",
        local_csid="LOCAL",
        called_number_result=1,
        extra=(("FB-Description", "note"), ("No-Such-Attribute", 1)),
    )
    stop = dict(Planner(DICT).stop_attributes(RECEIVE, cdr))
    assert stop["FB-Is-Send"] == 0 and stop["FB-Client-Account-ID"] == "carol" and stop["FB-Fax-Error-Code"] == 49
    assert stop["FB-Caller-ID"] == "5035550111" and stop["FB-Rcv-Account-Id"] == "carol"
    assert stop["FB-Local-CSID"] == "LOCAL" and stop["FB-Description"] == "note"
    assert "FB-Called-Number-Result" not in stop and "No-Such-Attribute" not in stop
    send_stop = dict(Planner(DICT).stop_attributes(SEND, Cdr(caller_id="5035550111")))
    assert "FB-Caller-ID" not in send_stop


def test_attributes_outside_the_dictionary_are_left_out():
    """Accounting keeps only the attributes the dictionary defines."""
    known = {"Acct-Status-Type", "Acct-Session-Id", "User-Name"}
    planner = Planner(known, nas_identifier="nas-1")
    assert planner.stop_attributes(SEND, Cdr(page_count=3)) == [
        ("Acct-Status-Type", 2),
        ("Acct-Session-Id", "s1"),
        ("User-Name", "alice"),
    ]


def test_interim_update_carries_the_session_time():
    """An Interim-Update carries whole seconds since the start (none when the start is unknown)."""
    planner = Planner(DICT)
    assert dict(planner.interim_attributes(RECEIVE, 2061.9))[A.ACCT_SESSION_TIME.value] == 61
    assert dict(planner.interim_attributes(RECEIVE, 2061.9))[A.ACCT_STATUS_TYPE.value] == 3
    assert A.ACCT_SESSION_TIME.value not in dict(planner.interim_attributes(Session("s", "a", True), 50.0))


def test_delay_time_added_after_a_whole_second():
    """A resent Stop carries Acct-Delay-Time in whole seconds since it was spooled."""
    attrs = (("User-Name", "alice"),)
    assert with_delay(attrs, 100.0, 100.9) == [("User-Name", "alice")]
    assert with_delay(attrs, 100.0, 175.2) == [("User-Name", "alice"), ("Acct-Delay-Time", 75)]


def test_resend_backoff_doubles_to_the_maximum_and_resets():
    """Stop resends wait initial, then double up to the maximum; an acknowledgement starts over."""
    backoff = ResendBackoff(5.0, 20.0)
    assert [backoff.failed() for _ in range(5)] == [5.0, 10.0, 20.0, 20.0, 20.0]
    backoff.succeeded()
    assert backoff.failed() == 5.0


def test_every_attribute_name_is_in_the_dictionary():
    """Every member of the attribute enum is defined in the dictionary files."""
    assert [a.value for a in A if a.value not in DICT] == []
