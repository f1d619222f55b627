"""Ticket activity: audits and their events, comments, and SLA metric events.

Derived from the tickets the first time anything needs it (``Dataset`` builds it lazily), so a
dataset that only serves ticket exports never pays for it. Each audit is stored once, as a tuple
of pre-encoded JSON fragments, and rendered on demand in its three served shapes:

- the audit of ``/tickets/{id}/audits``
  (https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_audits/): ``events``
  carrying ``type``;
- the comment of ``/tickets/{id}/comments``
  (https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_comments/): with its
  audit's ``via`` and ``metadata``;
- the item of ``/incremental/ticket_events`` (https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/#incremental-ticket-event-export):
  ``child_events`` carrying ``event_type``,
  the field a Create/Change event set as a key of its own (not ``field_name``), ``via`` as the
  channel's name and, only with ``include=comment_events``, the comments.

One source for the three keeps them equal by construction, which is what a client comparing
the bulk export with per-ticket reads relies on. Rendering on demand also keeps URLs on the
current base (no rebase needed) and keeps the build cheap: no JSON is produced until asked for.

A seed ticket's history replays to its current state: the Create audit (at ``created_at``)
holds the initial values, later audits (the last at ``updated_at``) hold Change events that
walk status along new → open → … → the final status and fill in fields left empty at creation.
Deleted tickets keep their audits (the export still carries them) but their status walk ends
where the deletion interrupted it.

Ticket metric events hang off the audit that set them off (the Create audit activates every
metric and applies the SLA; later ones update, pause, fulfil or breach them), so they share the
audits' time order and need no list of their own.

Ids rise with time, as Zendesk's do, and each kind has its own range: audits, events (a comment
id is its Comment event's id), attachments and metric events. All but audit ids derive from
their audit's sequence number, so they need no storage.
"""

from __future__ import annotations

import calendar
import gc
import html
import json
import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from itertools import accumulate, pairwise
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

from .dataset import _CUSTOM_STATUS_IDS, _ENCODER, _ESCAPE, ACTIVITY_KINDS, Json, iso
from .exports import TimePage, select_time_page

TICKET_EVENTS, METRIC_EVENTS = ACTIVITY_KINDS

_AUDIT_BASE, _AUDIT_STEP = 36_000_000_000_000, 17
_EVENT_BASE, _EVENT_STRIDE = 37_000_000_000_000, 64
_ATTACHMENT_BASE, _ATTACHMENT_STRIDE = 38_000_000_000_000, 4
_METRIC_BASE, _METRIC_STRIDE = 39_000_000_000_000, 32
_TRIGGER_BASE = 32_000_000_000_801
_POLICY_BASE = 32_000_000_000_701

# First element of every event tuple in ``Audit.events``:
#   (CREATE, field, value_json)
#   (CHANGE, field, value_json, previous_json)
#   (COMMENT, author_id, body_index, public, attachments)  attachments: ((file, size, token, scan),)
#   (NOTIFICATION, trigger_index, recipients_json)
#   (FIELDS, ticket_bytes, overrides): the Create events of a whole ticket, expanded on render
#       from the ticket as it was when created, with ``overrides`` ((field, initial_json), ...)
#       for fields that held other values then. Only a page being rendered pays for them.
#   (PRIVACY, comment_id): an agent made a public comment private
#   (REDACTION, comment_id): an agent redacted text of a comment
CREATE, CHANGE, COMMENT, NOTIFICATION, FIELDS, PRIVACY, REDACTION = range(7)
# What Zendesk puts in place of each redacted character [unverified: redacted comments seen
# in agents' screenshots show a run of these blocks; no recorded response has one].
REDACTED = "\u2587"

ViaFor = Callable[[str, "int | None"], str]


class Audit(NamedTuple):
    """One audit; ``via`` and ``system`` are encoded JSON objects.

    ``events`` are event tuples (see above); ``metrics`` are the metric events the audit set
    off, as (metric, instance_id, type, encoded type-specific keys), all at the audit's time.
    """

    seq: int
    id: int
    ticket_id: int
    ts: int
    author: int | None
    channel: str
    via: str
    system: str
    merged: bool
    events: tuple[tuple[Any, ...], ...]
    metrics: tuple[tuple[str, int, str, str], ...]


_ts_of = attrgetter("ts")

# The export names the channel instead of giving the via object (the items of
# tests/fixtures/ticket_events_export_pages.json: "via": "Web form", "Email").
_VIA_NAMES = {"web": "Web form", "email": "Mail", "api": "API", "voice": "Voice"}
_STATUS_PATHS = {
    "new": ("new",),
    "open": ("new", "open"),
    "pending": ("new", "open", "pending"),
    "hold": ("new", "open", "hold"),
    "solved": ("new", "open", "pending", "solved"),
    "closed": ("new", "open", "solved", "closed"),
}
# Where the status walk of a ticket stopped when it was deleted.
_DELETED_ENDS = ("new", "open", "open", "pending", "solved")
# Audits after the Create one when the ticket changed after its creation (2-5 audits in all);
# tickets last updated when created have the Create audit only.
_LATER_AUDITS = (1, 1, 1, 2, 2, 2, 3, 3, 4)
_METRICS = (
    "agent_work_time",
    "pausable_update_time",
    "periodic_update_time",
    "reply_time",
    "requester_wait_time",
    "resolution_time",
)
_PAUSES = (("requester_wait_time", 1, "pause", ""), ("pausable_update_time", 1, "pause", ""))
_SOLVES = tuple(
    (metric, 1, "fulfill", "")
    for metric in ("agent_work_time", "requester_wait_time", "resolution_time")
)
# Fields an update mutation can touch (Dataset._update_ticket), in the order Zendesk lists them.
_UPDATE_FIELDS = ("status", "custom_status_id", "assignee_id", "group_id", "priority", "tags")

_AGENT_REPLIES = (
    "Thanks for reaching out. I am looking into this now.",
    "Could you send us a screenshot of the error and the time it happened?",
    "We have identified the cause and a fix is on its way.",
    "I have escalated this to our engineering team.\n\nI will update you as soon as I hear back.",
    "Your refund has been processed; it can take 5 to 7 business days to appear.",
    "Internal note: customer is on the legacy plan, check the billing history first.",
    "This should be fixed now. Please let us know if it happens again.",
    "Hi,\n\nthe export job was stuck on our side and has been restarted.\n\nBest regards",
)
_REQUESTER_REPLIES = (
    "Thanks, that worked!",
    "It is still happening, see the attached file.",
    "Any update on this? It has been a few days.",
    "Here is the information you asked for.\n\nThe order number is in the subject.",
    "I tried again this morning and got the same error.",
    "Please close this, we found the problem on our side.",
)
_FILES = (
    ("screenshot.png", "image/png", 1280, 720),
    ("error.log", "text/plain", None, None),
    ("invoice.pdf", "application/pdf", None, None),
    ("photo.jpg", "image/jpeg", 1024, 768),
    ("export.csv", "text/csv", None, None),
)
_SCANS = ("malware_not_found", "malware_not_found", "malware_not_found", "not_scanned")
_TRIGGERS = (
    (
        "Notify requester and CCs of received request",
        "[{{ticket.account}}] Re: {{ticket.title}}",
        "Your request ({{ticket.id}}) has been received and is being reviewed by our support"
        " staff.\n\nTo add additional comments, reply to this email.\n\n"
        "{{ticket.latest_public_comment_html}}",
    ),
    (
        "Notify all agents of received request",
        "[{{ticket.account}}] {{ticket.title}}",
        "A ticket (#{{ticket.id}}) by {{ticket.requester.name}} has been received. It is"
        " unassigned.\n\n{{ticket.latest_comment_html}}",
    ),
    (
        "Notify requester and CCs of comment update",
        "[{{ticket.account}}] Re: {{ticket.title}}",
        "Your request ({{ticket.id}}) has been updated. To add additional comments, reply to"
        " this email.\n\n{{ticket.comments_formatted}}",
    ),
)
_CLIENTS = {
    "web": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/124.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko)"
        " Version/17.4 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    "api": ("Zenpy/2.0.50", "python-requests/2.31.0", "Faraday v2.9.0"),
    "email": ("Microsoft Outlook 16.0", "Apple Mail (2.3774)"),
    "voice": ("Zendesk Talk",),
}
_PLACES = (
    ("Berlin, BE, Germany", 52.52, 13.405),
    ("San Francisco, CA, United States", 37.7749, -122.4194),
    ("London, ENG, United Kingdom", 51.5072, -0.1276),
    ("Tokyo, 13, Japan", 35.6762, 139.6503),
    ("São Paulo, SP, Brazil", -23.5505, -46.6333),
    ("Lagos, LA, Nigeria", 6.5244, 3.3792),
)
# (target minutes, business hours, policy) per ticket priority.
_POLICIES = (
    (_POLICY_BASE, "Standard", "Replies within a business day"),
    (_POLICY_BASE + 1, "Priority", "Fast replies for urgent and high tickets"),
)
_SLA_TARGETS = {
    "urgent": (60, False, 1),
    "high": (240, False, 1),
    "normal": (480, True, 0),
    "low": (1440, True, 0),
    None: (1440, True, 0),
}


def _sla(target: int, business_hours: bool, policy: tuple[int, str, str]) -> Json:
    pid, title, description = policy
    return {
        "target": target,
        "target_in_seconds": target * 60,
        "business_hours": business_hours,
        "policy": {"id": pid, "title": title, "description": description},
    }


_SLA_EXTRA = {
    priority: ',"sla":' + _ENCODER.encode(_sla(target, hours, _POLICIES[policy]))
    for priority, (target, hours, policy) in _SLA_TARGETS.items()
}
_GROUP_SLA_EXTRA = ',"group_sla":' + _ENCODER.encode(
    _sla(2880, False, (_POLICY_BASE + 2, "Group ownership", "Hand over within two days"))
)


class Activity:
    """Audits, comments and metric events of every ticket.

    Not locked itself: the dataset calls every method that changes state under its own lock.
    Rendering only reads tuples that never change once stored, so it may run outside the lock.
    """

    def __init__(
        self,
        tickets: Iterable[bytes],
        *,
        seed: int,
        agents: Sequence[int],
        via_for: ViaFor,
    ) -> None:
        self._via_for = via_for
        self._agents = list(agents)
        self._rng = random.Random(f"activity:{seed}")
        # Mutations draw from their own stream, so they do not depend on the seed data's draws.
        self._mutation_rng = random.Random(f"activity-mutations:{seed}")
        self._bodies: list[tuple[str, str, str]] = []
        self._body_index: dict[str, int] = {}
        # Comments changed after they were written (made private, redacted): comment id ->
        # (public, body index). Every shape a comment is served in reads its current state.
        self._changed_comments: dict[int, tuple[bool, int]] = {}
        # Every audit in export order (ts, id), and each ticket's in the same order.
        self._audits: list[Audit] = []
        self._by_ticket: dict[int, list[Audit]] = {}
        # Metric events are numbered across audits in export order: audit i holds positions
        # [_metric_ends[i - 1], _metric_ends[i]). No per-event objects, hence a cheap build.
        self._metric_ends: list[int] = []
        self._systems = _system_pools()
        self._triggers = [_trigger_fragments(i) for i in range(len(_TRIGGERS))]
        self._replies = (
            [self._body(text) for text in _REQUESTER_REPLIES],
            [self._body(text) for text in _AGENT_REPLIES],
        )
        self._build(tickets)

    # ----------------------------------------------------------------- generation

    def _build(self, tickets: Iterable[bytes]) -> None:
        drafts: list[tuple[Any, ...]] = []
        # Nearly everything allocated here survives, so collections would find nothing while
        # rescanning a growing heap again and again.
        collecting = gc.isenabled()
        gc.disable()
        try:
            for raw in tickets:
                self._plan_seed(raw, json.loads(raw), drafts)
            # Sequence numbers (hence ids) follow time, as on a real account; a ticket's
            # audits lie in distinct seconds, so its Create audit gets its lowest id.
            drafts.sort(key=itemgetter(0, 1))
            audits, by_ticket, ends = self._audits, self._by_ticket, self._metric_ends
            total = 0
            for seq, draft in enumerate(drafts):
                audit = Audit(seq, _AUDIT_BASE + seq * _AUDIT_STEP, draft[2], draft[0], *draft[3:])
                audits.append(audit)
                by_ticket.setdefault(audit.ticket_id, []).append(audit)
                total += len(audit.metrics)
                ends.append(total)
        finally:
            if collecting:
                gc.enable()

    def _plan_seed(self, raw: bytes, ticket: Json, drafts: list[tuple[Any, ...]]) -> None:
        """Append one seed ticket's audit drafts (see the module docstring)."""
        rng = self._rng
        rnd = rng.random
        created, updated = _epoch(ticket["created_at"]), _epoch(ticket["updated_at"])
        status = ticket["status"]
        final = status if status in _STATUS_PATHS else _DELETED_ENDS[int(rnd() * 5)]
        # Later audits need distinct seconds inside (created, updated].
        later = _LATER_AUDITS[int(rnd() * len(_LATER_AUDITS))] if updated - created > 4 else 0
        path = _STATUS_PATHS[final] if later else (final,)
        if len(path) - 1 > later:
            middle = sorted(rng.sample(range(1, len(path) - 1), later - 1))
            path = (path[0], *(path[i] for i in middle), path[-1])

        statuses = _CUSTOM_STATUS_IDS
        init = {"status": f'"{path[0]}"', "custom_status_id": _sid(statuses[path[0]])}
        moves = [
            [
                (CHANGE, "status", f'"{new}"', f'"{old}"'),
                (CHANGE, "custom_status_id", _sid(statuses[new]), _sid(statuses[old])),
            ]
            for old, new in pairwise(path)
        ]
        assignee, group = ticket["assignee_id"], ticket["group_id"]
        if moves and assignee is not None:
            # A new ticket is unassigned; the agent who opens it takes it.
            init["assignee_id"] = "null"
            moves[0].append((CHANGE, "assignee_id", _sid(assignee), "null"))
            if group is not None:
                init["group_id"] = "null"
                moves[0].append((CHANGE, "group_id", _sid(group), "null"))
        others = self._deferred_fields(ticket, init, not moves) if later else []
        count = min(later, len(moves) + len(others))

        slots: list[list[tuple[Any, ...]]] = [[] for _ in range(count)]
        if moves:
            positions = [*sorted(rng.sample(range(count - 1), len(moves) - 1)), count - 1]
            for position, move in zip(positions, moves, strict=True):
                slots[position].extend(move)
        rng.shuffle(others)
        empty = [i for i, slot in enumerate(slots) if not slot]
        for index, change in enumerate(others):
            slots[empty[index] if index < len(empty) else int(rnd() * count)].append(change)

        measure = rnd() < 0.3
        group_sla = group is not None and rnd() < 0.3
        block = _creation_block(ticket["priority"], measure, group_sla)
        drafts.append(self._create_draft(raw, ticket, created, init, block, rng))
        requester = ticket["requester_id"]
        agent = assignee if assignee is not None else _pick(self._agents, rnd)
        replied, periodic = False, 1
        breach = rnd() < 0.12
        for ts, changes in zip(_spread(created, updated, count, rnd), slots, strict=True):
            new_status = next((c[2][1:-1] for c in changes if c[1] == "status"), None)
            by_agent = new_status is not None or rnd() < 0.6
            author = agent if by_agent else requester
            metrics = [("requester_wait_time", 1, "update_status", _minutes(ts - created))]
            if breach and not replied:
                # Breaches are scheduled ahead and marked deleted when the SLA was met in time.
                flag = "true" if rnd() < 0.4 else "false"
                metrics.append(("reply_time", 1, "breach", f',"deleted":{flag}'))
                breach = False
            if new_status in ("pending", "hold"):
                metrics.extend(_PAUSES)
            comment, public = self._maybe_comment(author, by_agent, rng)
            if by_agent and public:
                if not replied:
                    metrics.append(("reply_time", 1, "fulfill", ""))
                    replied = True
                metrics.append(("periodic_update_time", periodic, "fulfill", ""))
                periodic += 1
                metrics.append(("periodic_update_time", periodic, "activate", ""))
            if new_status == "solved":
                metrics.extend(_SOLVES)
                metrics.append(("resolution_time", 1, "update_status", _minutes(ts - created)))
            drafts.append(
                self._later_draft(ts, ticket, changes, author, by_agent, comment, metrics, rng)
            )

    def _deferred_fields(
        self, ticket: Json, init: dict[str, str], needed: bool
    ) -> list[tuple[Any, ...]]:
        """Change events for fields left empty (or partly set) at creation; updates ``init``.

        ``needed``: the ticket has later audits but no status moves to fill them, so at least
        one field must be deferred whenever any is set.
        """
        rnd = self._rng.random
        # (chance, field name, value); values are encoded only for the fields chosen.
        candidates: list[tuple[float, str, Any]] = [
            (chance, field, ticket[field])
            for field, chance in (("priority", 0.5), ("type", 0.3))
            if ticket[field] is not None
        ]
        if ticket["tags"]:
            candidates.append((0.4, "tags", ticket["tags"]))
        for custom in ticket["custom_fields"]:
            value = custom["value"]
            if value is not None and not isinstance(value, bool):
                candidates.append((0.25, str(custom["id"]), value))
        chosen = [c for c in candidates if rnd() < c[0]]
        if needed and not chosen and candidates:
            chosen.append(candidates[int(rnd() * len(candidates))])
        changes: list[tuple[Any, ...]] = []
        for _, field, value in chosen:
            if field == "tags":
                final, initial = _ENCODER.encode(value), _ENCODER.encode(value[:-1])
            else:
                final, initial = _custom_value(value) or "null", "null"
            init[field] = initial
            changes.append((CHANGE, field, final, initial))
        return changes

    def _create_draft(
        self,
        raw: bytes,
        ticket: Json,
        ts: int,
        init: dict[str, str],
        metrics: tuple[tuple[str, int, str, str], ...],
        rng: random.Random,
    ) -> tuple[Any, ...]:
        """The Create audit: the description as a Comment, one Create event per field
        (deferred, see FIELDS), then the notifications triggers sent."""
        rnd = rng.random
        requester, submitter = ticket["requester_id"], ticket["submitter_id"]
        channel = ticket["via"]["channel"]
        author = requester if requester is not None else submitter
        events: list[tuple[Any, ...]] = [
            self._comment(author, self._body(ticket["description"]), ticket["is_public"], rng),
            (FIELDS, raw, tuple(init.items())),
        ]
        if requester is not None and rnd() < 0.4:
            events.append((NOTIFICATION, 0, f"[{requester}]"))
        if (ticket["assignee_id"] is None or "assignee_id" in init) and rnd() < 0.3:
            events.append((NOTIFICATION, 1, "[]" if submitter is None else f"[{submitter}]"))
        via = self._via_for(channel, requester)
        system = self._system(channel, rnd)
        return (
            ts,
            rng.getrandbits(30),
            ticket["id"],
            submitter,
            channel,
            via,
            system,
            False,
            tuple(events),
            metrics,
        )

    def _maybe_comment(
        self, author: int | None, by_agent: bool, rng: random.Random, force: bool = False
    ) -> tuple[tuple[Any, ...] | None, bool]:
        """A reply on ~60 % of later audits (or when ``force``): requesters always reply in
        public, agents in a quarter of cases add an internal note. Returns it and its publicity.
        """
        rnd = rng.random
        if not force and rnd() >= 0.6:
            return None, False
        public = not by_agent or rnd() < 0.75
        bodies = self._replies[by_agent]
        return self._comment(author, bodies[int(rnd() * len(bodies))], public, rng), public

    def _later_draft(
        self,
        ts: int,
        ticket: Json,
        changes: list[tuple[Any, ...]],
        author: int | None,
        by_agent: bool,
        comment: tuple[Any, ...] | None,
        metrics: list[tuple[str, int, str, str]],
        rng: random.Random,
    ) -> tuple[Any, ...]:
        """A later audit by an agent (web or API) or by the requester (mail or web form)."""
        rnd = rng.random
        requester = ticket["requester_id"]
        if by_agent:
            channel = "web" if rnd() < 0.85 else "api"
        else:
            channel = "email" if ticket["via"]["channel"] == "email" else "web"
        events = changes
        if comment is not None:
            # Recorded audits list the comment first.
            events = [comment, *changes]
            if by_agent and comment[3] and requester is not None and rnd() < 0.5:
                events.append((NOTIFICATION, 2, f"[{requester}]"))
        via = self._via_for(channel, None if by_agent else requester)
        system = self._system(channel, rnd)
        return (
            ts,
            rng.getrandbits(30),
            ticket["id"],
            author,
            channel,
            via,
            system,
            rnd() < 0.03,
            tuple(events),
            tuple(metrics),
        )

    def _comment(
        self, author: int | None, body: int, public: bool, rng: random.Random
    ) -> tuple[Any, ...]:
        rnd = rng.random
        files: tuple[tuple[int, int, str, int], ...] = ()
        if rnd() < 0.15:
            files = tuple(
                (
                    int(rnd() * len(_FILES)),
                    2_000 + int(rnd() * 900_000),
                    f"{rng.getrandbits(120):030x}",
                    int(rnd() * len(_SCANS)),
                )
                for _ in range(2 if rnd() < 0.4 else 1)
            )
        return (COMMENT, author, body, public, files)

    def _body(self, text: str) -> int:
        """Index of a comment text's encoded (body, html_body, plain_body); texts repeat a lot."""
        index = self._body_index.get(text)
        if index is None:
            paragraphs = text.split("\n\n")
            markup = "\n\n".join(f'<p dir="auto">{html.escape(p, False)}</p>' for p in paragraphs)
            self._bodies.append(
                (
                    _ESCAPE(text),
                    _ESCAPE(f'<div class="zd-comment" dir="auto">{markup}</div>'),
                    _ESCAPE(" \n\n ".join(paragraphs)),
                )
            )
            index = self._body_index[text] = len(self._bodies) - 1
        return index

    def _system(self, channel: str, rnd: Callable[[], float]) -> str:
        pool = self._systems.get(channel) or self._systems["web"]
        return pool[int(rnd() * len(pool))]

    def _add(self, draft: tuple[Any, ...]) -> Audit:
        """Store a mutation's audit; it is normally the latest, so it goes at the end."""
        seq = len(self._audits)
        audit = Audit(seq, _AUDIT_BASE + seq * _AUDIT_STEP, draft[2], draft[0], *draft[3:])
        audits, ends = self._audits, self._metric_ends
        if audits and audit.ts < audits[-1].ts:
            at = bisect_right(audits, audit.ts, key=_ts_of)
            audits.insert(at, audit)
            ends[at:] = list(
                accumulate((len(a.metrics) for a in audits[at:]), initial=ends[at - 1] if at else 0)
            )[1:]
        else:
            audits.append(audit)
            ends.append((ends[-1] if ends else 0) + len(audit.metrics))
        self._by_ticket.setdefault(audit.ticket_id, []).append(audit)
        return audit

    # ----------------------------------------------------------------- mutations

    def ticket_updated(self, before: Json, after: Json, ts: int) -> dict[str, list[int]]:
        """One audit at ``ts`` with the Change events of the update (a comment ~60 % of the
        time, always when nothing visible changed) and an ``update_status`` metric event."""
        rng = self._mutation_rng
        changes: list[tuple[Any, ...]] = [
            (CHANGE, field, _field_json(field, after[field]), _field_json(field, before[field]))
            for field in _UPDATE_FIELDS
            if before[field] != after[field]
        ]
        agent = after["assignee_id"]
        if agent is None:
            agent = _pick(self._agents, rng.random)
        by_agent = agent is not None
        author = agent if by_agent else after["requester_id"]
        comment, _ = self._maybe_comment(author, by_agent, rng, force=not changes)
        created = _epoch(after["created_at"])
        metrics = [("requester_wait_time", 1, "update_status", _minutes(ts - created))]
        audit = self._add(
            self._later_draft(ts, after, changes, author, by_agent, comment, metrics, rng)
        )
        return _new_ids(audit)

    def comment_changed(self, ticket_id: int, ts: int, redact: bool) -> int | None:
        """An agent's audit at ``ts`` that makes one of the ticket's public comments private
        (``redact`` false) or redacts a word of one of its comments; the comment's id, or None
        when the ticket has no such comment. Every shape serves the comment's new state."""
        rng = self._mutation_rng
        candidates = [
            (comment_id, public, body)
            for comment_id, public, body in self._current_comments(ticket_id)
            if (redact and REDACTED not in self._bodies[body][0]) or (not redact and public)
        ]
        if not candidates:
            return None
        comment_id, public, body = candidates[int(rng.random() * len(candidates))]
        if redact:
            text = json.loads(self._bodies[body][0])
            words = text.split(" ")
            words[-1] = REDACTED * len(words[-1])
            self._changed_comments[comment_id] = (public, self._body(" ".join(words)))
            event: tuple[Any, ...] = (REDACTION, comment_id)
        else:
            self._changed_comments[comment_id] = (False, body)
            event = (PRIVACY, comment_id)
        agent = _pick(self._agents, rng.random)
        via, system = self._via_for("web", None), self._system("web", rng.random)
        self._add(
            (ts, rng.getrandbits(30), ticket_id, agent, "web", via, system, False, (event,), ())
        )
        return comment_id

    def _current_comments(self, ticket_id: int) -> list[tuple[int, bool, int]]:
        """(id, public, body index) of the ticket's comments as they are now."""
        found = []
        for audit in self._by_ticket.get(ticket_id, []):
            for k, event in enumerate(_events(audit)):
                if event[0] == COMMENT:
                    comment_id = _event_id(audit, k)
                    public, body = self._changed_comments.get(comment_id, (event[3], event[2]))
                    found.append((comment_id, public, body))
        return found

    def ticket_created(self, raw: bytes, ts: int) -> dict[str, list[int]]:
        """The Create audit with the description comment, plus activate and apply_sla events;
        ``raw`` is the new ticket's served bytes."""
        ticket = json.loads(raw)
        block = _creation_block(ticket["priority"], False, False)
        return _new_ids(
            self._add(self._create_draft(raw, ticket, ts, {}, block, self._mutation_rng))
        )

    # ----------------------------------------------------------------- queries

    def audits(self, ticket_id: int | None = None) -> list[Audit]:
        """A ticket's audits, or all of them, in (created_at, id) order; KeyError if unknown."""
        if ticket_id is None:
            return list(self._audits)
        return list(self._by_ticket[ticket_id])

    def select(
        self,
        kind: str,
        start_time: int,
        per_page: int,
        cutoff: int,
        stuck: bool,
        capped: bool = False,
        tickets: Callable[[int], bool] | None = None,
    ) -> TimePage[Any]:
        """A time-based export page: of audits, or of metric event positions.

        ``tickets`` keeps the audits of the tickets it accepts (support_type_scope), before
        paging, so a page holds per_page of them; metric events are never filtered.
        """
        if kind == TICKET_EVENTS:
            audits = self._audits
            if tickets is not None:
                audits = [a for a in audits if tickets(a.ticket_id)]
            return select_time_page(audits, _ts_of, start_time, per_page, cutoff, stuck, capped)
        positions = range(self._metric_ends[-1] if self._metric_ends else 0)
        return select_time_page(
            positions, self._metric_ts, start_time, per_page, cutoff, stuck, capped
        )

    def metric_positions(
        self, start_time: int, after: int | None, size: int, cutoff: int
    ) -> tuple[list[int], bool]:
        """A cursor page of metric event positions: from ``start_time``, or after position
        ``after``; and whether more are visible."""
        visible = self.visible(METRIC_EVENTS, cutoff)
        start = (
            after + 1
            if after is not None
            else bisect_left(visible, start_time, key=self._metric_ts)
        )
        stop = min(max(start, 0) + size, len(visible))
        return list(visible[start:stop]), stop < len(visible)

    def visible(
        self, kind: str, cutoff: int, tickets: Callable[[int], bool] | None = None
    ) -> Sequence[Any]:
        """What an export from ``start_time=0`` returns: audits (of the tickets ``tickets``
        accepts, if given), or metric event positions."""
        audits = self._audits
        shown = bisect_right(audits, cutoff, key=_ts_of)
        if kind == TICKET_EVENTS:
            if tickets is not None:
                return [a for a in audits[:shown] if tickets(a.ticket_id)]
            return audits[:shown]
        return range(self._metric_ends[shown - 1] if shown else 0)

    def truth(
        self, kind: str, cutoff: int, tickets: Callable[[int], bool] | None = None
    ) -> list[tuple[int, int]]:
        """``(id, timestamp)`` of every visible export item, in export order."""
        if kind == TICKET_EVENTS:
            return [(a.id, a.ts) for a in self.visible(kind, cutoff, tickets)]
        located = (self._metric_at(i) for i in self.visible(kind, cutoff))
        return [(_metric_id(audit, j), audit.ts) for audit, j in located]

    def render_export(
        self, kind: str, items: Sequence[Any], base: str, include_comments: bool
    ) -> list[bytes]:
        """Served bytes of export items chosen by :meth:`select` or :meth:`visible`."""
        if kind == TICKET_EVENTS:
            return [self.export_item(a, base, include_comments).encode() for a in items]
        return [_metric_json(*self._metric_at(i)).encode() for i in items]

    def _metric_ts(self, position: int) -> int:
        return self._audits[bisect_right(self._metric_ends, position)].ts

    def _metric_at(self, position: int) -> tuple[Audit, int]:
        index = bisect_right(self._metric_ends, position)
        return self._audits[index], position - (self._metric_ends[index - 1] if index else 0)

    def ticket_entries(
        self, kind: str, ticket_id: int, base: str
    ) -> list[tuple[tuple[int, int], bytes]]:
        """``((created_at, id), served bytes)`` of a ticket's ``comments`` or ``audits``."""
        audits = self._by_ticket.get(ticket_id, [])
        if kind == "audits":
            return [((a.ts, a.id), self.audit_json(a, base).encode()) for a in audits]
        return [(key, text.encode()) for key, text in self.comment_texts(audits, base)]

    def comment_texts(
        self, audits: Iterable[Audit], base: str
    ) -> list[tuple[tuple[int, int], str]]:
        """``((created_at, id), JSON)`` of the comments in ``audits``, in that order."""
        return [
            ((a.ts, _event_id(a, k)), self.comment_json(a, k, event, base))
            for a in audits
            for k, event in enumerate(_events(a))
            if event[0] == COMMENT
        ]

    # ----------------------------------------------------------------- rendering

    def audit_json(self, audit: Audit, base: str) -> str:
        """The per-ticket audit (recorded key order: events before via)."""
        events = []
        for k, event in enumerate(_events(audit)):
            eid = _event_id(audit, k)
            code = event[0]
            if code == CREATE:
                events.append(
                    f'{{"id":{eid},"type":"Create","value":{event[2]},"field_name":"{event[1]}"}}'
                )
            elif code == CHANGE:
                events.append(
                    f'{{"id":{eid},"type":"Change","value":{event[2]},"field_name":"{event[1]}",'
                    f'"previous_value":{event[3]}}}'
                )
            elif code == COMMENT:
                core = self._comment_core(audit, k, event, base)
                events.append(f'{{"id":{eid},"type":"Comment",{core}}}')
            elif code in (PRIVACY, REDACTION):
                events.append(f'{{"id":{eid},{_comment_change(event)}}}')
            else:
                via, subject, body = self._triggers[event[1]]
                events.append(
                    f'{{"id":{eid},"type":"Notification","via":{via},"subject":{subject},'
                    f'"body":{body},"recipients":{event[2]}}}'
                )
        return (
            f'{{"id":{audit.id},"ticket_id":{audit.ticket_id},"created_at":"{iso(audit.ts)}",'
            f'"author_id":{_num(audit.author)},"metadata":{{"system":{audit.system},'
            f'"custom":{{}}}},"events":[{",".join(events)}],"via":{audit.via}}}'
        )

    def comment_json(self, audit: Audit, k: int, event: tuple[Any, ...], base: str) -> str:
        """A comment as ``/tickets/{id}/comments`` serves it: its audit's via and metadata."""
        return (
            f'{{"id":{_event_id(audit, k)},"type":"Comment",'
            f"{self._comment_core(audit, k, event, base)},"
            f'"via":{audit.via},"created_at":"{iso(audit.ts)}",'
            f'"metadata":{{"system":{audit.system},"custom":{{}}}}}}'
        )

    def export_item(self, audit: Audit, base: str, include_comments: bool) -> str:
        """A ticket events export item; comments only with ``include=comment_events``.

        Its Create and Change child events name the field set as a key of their own, not as
        ``field_name``/``value`` (that is the per-ticket audits' shape): see
        :func:`_export_field_event` for the sources.
        """
        name = _VIA_NAMES.get(audit.channel, audit.channel)
        tail = f'"via":"{name}","via_reference_id":null'
        children = []
        for k, event in enumerate(_events(audit)):
            eid = _event_id(audit, k)
            code = event[0]
            if code in (CREATE, CHANGE):
                # Odd audits give a tag change as its difference only, even ones with the
                # whole list too: the export is documented to use either or both.
                whole_tags = audit.seq % 2 == 0
                children.append(f"{{{_export_field_event(eid, event, tail, whole_tags)}}}")
            elif code == COMMENT:
                if include_comments:
                    core = self._comment_core(audit, k, event, base)
                    children.append(
                        f'{{"id":{eid},"event_type":"Comment","type":"Comment",'
                        f'"via":{audit.via},"via_reference_id":null,{core},'
                        f'"created_at":"{iso(audit.ts)}"}}'
                    )
            elif code in (PRIVACY, REDACTION):
                change = _comment_change(event).replace('"type":', '"event_type":', 1)
                children.append(f'{{"id":{eid},{change},{tail}}}')
            else:
                _, subject, body = self._triggers[event[1]]
                children.append(
                    f'{{"id":{eid},"event_type":"Notification","subject":{subject},'
                    f'"body":{body},"recipients":{event[2]},{tail}}}'
                )
        merged = ',"merged_ticket_ids":[]' if audit.merged else ""
        return (
            f'{{"id":{audit.id},"ticket_id":{audit.ticket_id},"timestamp":{audit.ts},'
            f'"created_at":"{iso(audit.ts)}","updater_id":{_num(audit.author)},{tail},'
            f'"system":{audit.system},"event_type":"Audit"{merged},'
            f'"child_events":[{",".join(children)}]}}'
        )

    def _comment_core(self, audit: Audit, k: int, event: tuple[Any, ...], base: str) -> str:
        """The keys every comment shape shares, from author_id to audit_id, as they are now."""
        public, index = self._changed_comments.get(_event_id(audit, k), (event[3], event[2]))
        body, html_body, plain = self._bodies[index]
        files = ",".join(
            _attachment(base, _ATTACHMENT_BASE + audit.seq * _ATTACHMENT_STRIDE + 2 * j, spec)
            for j, spec in enumerate(event[4])
        )
        return (
            f'"author_id":{_num(event[1])},"body":{body},"html_body":{html_body},'
            f'"plain_body":{plain},"public":{"true" if public else "false"},'
            f'"attachments":[{files}],"audit_id":{audit.id}'
        )


def _export_field_event(eid: int, event: tuple[Any, ...], tail: str, whole_tags: bool) -> str:
    """The keys of a Create or Change child event of the ticket events export.

    Sources: the field set is a key of the event itself, e.g. ``"status":"solved"``, with
    ``previous_value`` on a Change, in the example item of Zendesk's former docs kept as
    zenpy's ``specification/zendesk/ticket_event.json`` and in production readers of the
    export. Custom fields come as
    ``"custom_ticket_fields":{"<field id>": value}`` and tags as ``"tags"`` and/or
    ``"added_tags"``/``"removed_tags"`` (same sources); the reference page of the export
    (https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/#incremental-ticket-event-export)
    shows no child event, so nothing there contradicts this.
    """
    code, field, value = event[0], event[1], event[2]
    if field.isdigit():
        changed = f'"custom_ticket_fields":{{"{field}":{value}}}'
    elif field == "tags" and code == CHANGE:
        new, old = json.loads(value) or [], json.loads(event[3]) or []
        added = _ENCODER.encode([tag for tag in new if tag not in old])
        removed = _ENCODER.encode([tag for tag in old if tag not in new])
        diff = f'"added_tags":{added},"removed_tags":{removed}'
        changed = f'"tags":{value},{diff}' if whole_tags else diff
    else:
        changed = f'"{field}":{value}'
    if code == CREATE:
        return f'"id":{eid},{tail},{changed},"event_type":"Create"'
    return f'"id":{eid},{tail},{changed},"event_type":"Change","previous_value":{event[3]}'


def _comment_change(event: tuple[Any, ...]) -> str:
    """Keys of a comment privacy change or redaction event, as the audit events reference
    documents them (https://developer.zendesk.com/documentation/ticketing/reference-guides/ticket-audit-events-reference/):
    ``CommentPrivacyChange`` with ``comment_id`` and the new ``public``;
    ``CommentRedactionEvent`` with ``comment_id``."""
    if event[0] == PRIVACY:
        return f'"type":"CommentPrivacyChange","comment_id":{event[1]},"public":false'
    return f'"type":"CommentRedactionEvent","comment_id":{event[1]}'


def _metric_json(audit: Audit, j: int) -> str:
    metric, instance, kind, extra = audit.metrics[j]
    return (
        f'{{"id":{_metric_id(audit, j)},"ticket_id":{audit.ticket_id},"metric":"{metric}",'
        f'"instance_id":{instance},"type":"{kind}","time":"{iso(audit.ts)}"{extra}}}'
    )


def _metric_id(audit: Audit, j: int) -> int:
    return _METRIC_BASE + audit.seq * _METRIC_STRIDE + j


@lru_cache(maxsize=64)
def _creation_block(
    priority: str | None, measure: bool, group_sla: bool
) -> tuple[tuple[str, int, str, str], ...]:
    """Metric events at creation: every metric activates and the reply-time SLA applies; seed
    tickets sometimes also measure and get a group SLA. Few combinations, so shared."""
    block: list[tuple[str, int, str, str]] = []
    if measure:
        block += [("agent_work_time", 0, "measure", ""), ("pausable_update_time", 0, "measure", "")]
    block += [(metric, 1, "activate", "") for metric in _METRICS]
    block.append(("reply_time", 1, "apply_sla", _SLA_EXTRA[priority]))
    if group_sla:
        block.append(("group_ownership_time", 1, "activate", ""))
        block.append(("group_ownership_time", 1, "apply_group_sla", _GROUP_SLA_EXTRA))
    return tuple(block)


def _attachment(base: str, aid: int, spec: tuple[int, int, str, int]) -> str:
    """The recorded attachment shape; images get one thumbnail, whose id follows theirs."""
    file_index, size, token, scan = spec
    name, content_type, width, height = _FILES[file_index]
    thumbs = ""
    if width is not None:
        stem, _, ext = name.rpartition(".")
        thumbs = _attachment_fields(
            base,
            aid + 1,
            f"{stem}_thumb.{ext}",
            content_type,
            size // 20,
            80,
            80 * height // width,
            token[::-1],
            _SCANS[scan],
        )
        thumbs = "{" + thumbs + "}"
    fields = _attachment_fields(
        base, aid, name, content_type, size, width, height, token, _SCANS[scan]
    )
    return f'{{{fields},"thumbnails":[{thumbs}]}}'


def _attachment_fields(
    base: str,
    aid: int,
    name: str,
    content_type: str,
    size: int,
    width: int | None,
    height: int | None,
    token: str,
    scan: str,
) -> str:
    content = f"{base}/attachments/token/{token}/?name={name}"
    return (
        f'"url":"{base}/api/v2/attachments/{aid}.json","id":{aid},"file_name":"{name}",'
        f'"content_url":"{content}","mapped_content_url":"{content}",'
        f'"content_type":"{content_type}","size":{size},"width":{_num(width)},'
        f'"height":{_num(height)},"inline":false,"deleted":false,'
        f'"malware_access_override":false,"malware_scan_result":"{scan}"'
    )


def _system_pools() -> dict[str, list[str]]:
    """Encoded ``metadata.system`` objects per channel: a client, an address and a place."""
    pools: dict[str, list[str]] = {}
    for channel, clients in _CLIENTS.items():
        pool = pools[channel] = []
        for index, (place, lat, lon) in enumerate(_PLACES):
            system = {
                "client": clients[index % len(clients)],
                "ip_address": f"203.0.113.{10 + 7 * index + len(channel)}",
                "location": place,
                "latitude": lat,
                "longitude": lon,
            }
            pool.append(_ENCODER.encode(system))
    return pools


def _trigger_fragments(index: int) -> tuple[str, str, str]:
    """Encoded (via, subject, body) of a notification sent by trigger ``index``."""
    title, subject, body = _TRIGGERS[index]
    via = {
        "channel": "rule",
        "source": {
            "from": {
                "deleted": False,
                "title": title,
                "id": _TRIGGER_BASE + index,
                "revision_id": 3,
            },
            "rel": "trigger",
        },
    }
    return _ENCODER.encode(via), _ESCAPE(subject), _ESCAPE(body)


def _event_id(audit: Audit, k: int) -> int:
    return _EVENT_BASE + audit.seq * _EVENT_STRIDE + k


def _new_ids(audit: Audit) -> dict[str, list[int]]:
    """What a mutation reports for one new audit."""
    comments = [_event_id(audit, k) for k, e in enumerate(_events(audit)) if e[0] == COMMENT]
    metrics = [_metric_id(audit, j) for j in range(len(audit.metrics))]
    return {"audits": [audit.id], "comments": comments, "metric_events": metrics}


def _events(audit: Audit) -> tuple[tuple[Any, ...], ...]:
    """The audit's events with a FIELDS entry expanded; event ids count these positions."""
    events = audit.events
    for index, event in enumerate(events):
        if event[0] == FIELDS:
            return (*events[:index], *_create_events(event[1], event[2]), *events[index + 1 :])
    return events


def _create_events(raw: bytes, overrides: tuple[tuple[str, str], ...]) -> list[tuple[Any, ...]]:
    """One Create event per field of the ticket in ``raw``, initial values from ``overrides``."""
    ticket = json.loads(raw)
    tags = ticket["tags"]
    fields = [
        ("subject", _ESCAPE(ticket["subject"])),
        ("requester_id", _sid(ticket["requester_id"])),
        ("assignee_id", _sid(ticket["assignee_id"])),
        ("priority", _js(ticket["priority"])),
        ("type", _js(ticket["type"])),
        ("status", f'"{ticket["status"]}"'),
        ("group_id", _sid(ticket["group_id"])),
        ("organization_id", _sid(ticket["organization_id"])),
        ("brand_id", _sid(ticket["brand_id"])),
        ("ticket_form_id", _sid(ticket["ticket_form_id"])),
        ("custom_status_id", _sid(ticket["custom_status_id"])),
        ("tags", _ENCODER.encode(tags) if tags else "null"),
    ]
    for field in ticket["custom_fields"]:
        fields.append((str(field["id"]), _custom_value(field["value"]) or "null"))
    initial = dict(overrides)
    events = []
    for name, value in fields:
        value = initial.get(name, value)
        # Recorded Create audits list an empty priority and type, but no empty ids or tags.
        if value != "null" or name in ("priority", "type"):
            events.append((CREATE, name, value))
    return events


def _epoch(text: str) -> int:
    """``iso`` inverted, several times faster than strptime for the build loop."""
    hours, minutes, seconds = int(text[11:13]), int(text[14:16]), int(text[17:19])
    return _day_epoch(text[:10]) + hours * 3600 + minutes * 60 + seconds


@lru_cache(maxsize=4096)
def _day_epoch(day: str) -> int:
    return calendar.timegm((int(day[:4]), int(day[5:7]), int(day[8:10]), 0, 0, 0, 0, 0, 0))


def _spread(created: int, updated: int, count: int, rnd: Callable[[], float]) -> list[int]:
    """``count`` distinct ascending seconds in (created, updated], the last one ``updated``.

    One draw per stretch of (created, updated) keeps them apart without sampling.
    """
    if count == 0:
        return []
    inner, span = count - 1, updated - created - 1
    bounds = [created + 1 + i * span // inner for i in range(inner + 1)] if inner else []
    picks = [lo + int(rnd() * (hi - lo)) for lo, hi in pairwise(bounds)]
    return [*picks, updated]


def _minutes(seconds: int) -> str:
    """``update_status`` extra: calendar and (roughly a third as many) business minutes."""
    minutes = seconds // 60
    return f',"status":{{"calendar":{minutes},"business":{minutes * 3 // 10}}}'


def _pick(pool: Sequence[int], rnd: Callable[[], float]) -> int | None:
    return pool[int(rnd() * len(pool))] if pool else None


def _num(value: int | None) -> str:
    return "null" if value is None else str(value)


def _sid(value: int | None) -> str:
    """Audits give ids as strings, as recorded (tests/fixtures/ticket_audits.json)."""
    return "null" if value is None else f'"{value}"'


def _js(value: str | None) -> str:
    return "null" if value is None else _ESCAPE(value)


def _field_json(field: str, value: Any) -> str:
    if field == "tags":
        return _ENCODER.encode(value)
    if field.endswith("_id"):
        return _sid(value)
    return _js(value)


def _custom_value(value: Any) -> str | None:
    """A custom field's value as audits give it: text as is, numbers as strings, multiselect
    as an array. Checkboxes are left out: how audits report them is not recorded."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, list):
        return _ENCODER.encode(value)
    if isinstance(value, str):
        return _ESCAPE(value)
    return f'"{value}"'
