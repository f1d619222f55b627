"""Side-loads of the ticket exports (``include=``), and the account's groups and brands.

Per-ticket side-loads land on each ticket: ``metric_set`` (or, with the ``top_level`` style, one
top-level ``metric_sets`` array whose items name their ``ticket_id``), ``dates``, ``slas`` and
``comment_count``. Object side-loads are top-level arrays of the users (requester, submitter,
assignee), groups, organizations and brands the page's tickets reference, each once, by id.
Names Zendesk does not know are ignored, as Zendesk ignores them.

Nothing here runs unless a request asks for a side-load: the plain export stays a join of
stored bytes. Values are pure functions of the seed and the ticket as it is now, so a test can
recompute what was served, and every timestamp of a metric set lies between the ticket's
``created_at`` and ``updated_at``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .dataset import _BRAND_IDS, _FORM_IDS, _GROUP_IDS, _TICKET_BASE, Json, encode, iso, parse_iso

if TYPE_CHECKING:
    from .dataset import Dataset

PER_TICKET = ("metric_sets", "dates", "slas", "comment_count")
OBJECTS = ("users", "groups", "organizations", "brands")
# Where a top-level list of metric sets goes (Zendesk has been seen doing both).
METRIC_SETS_STYLES = ("embedded", "top_level")
# The ticket keys whose objects each object side-load carries.
_REFERENCES = {
    "users": ("requester_id", "submitter_id", "assignee_id"),
    "groups": ("group_id",),
    "organizations": ("organization_id",),
    "brands": ("brand_id",),
}
# The metric set's timestamps that the `dates` side-load repeats.
DATE_KEYS = (
    "assignee_updated_at",
    "requester_updated_at",
    "status_updated_at",
    "initially_assigned_at",
    "assigned_at",
    "solved_at",
    "latest_comment_added_at",
)
_METRIC_SET_BASE = 40_000_000_000_000
_GROUP_NAMES = ("Support", "Billing", "Escalations", "Onboarding")
_BRANDS = (("Emulator Support", "support"), ("Emulator Labs", "labs"))
_SLA_METRICS = ("first_reply_time", "next_reply_time", "requester_wait_time", "agent_work_time")


def parse_include(raw: str) -> tuple[str, ...]:
    """The known side-load names of an ``include`` value, once each, in the order given."""
    names = (name.strip() for name in raw.split(","))
    return tuple(dict.fromkeys(n for n in names if n in PER_TICKET or n in OBJECTS))


def render(
    dataset: Dataset, raws: list[bytes], include: Sequence[str], style: str
) -> tuple[list[bytes], dict[str, list[bytes]]]:
    """A page's tickets with their per-ticket side-loads, and its top-level side-load arrays."""
    extra: dict[str, list[bytes]] = {}
    if not include:
        return raws, extra
    tickets = [json.loads(raw) for raw in raws]
    if any(name in PER_TICKET for name in include):
        with_metrics = "metric_sets" in include or "dates" in include
        metric_sets = []
        for ticket in tickets:
            metrics = metric_set(ticket, dataset.seed, dataset.base_url) if with_metrics else {}
            if "metric_sets" in include:
                if style == "top_level":
                    metric_sets.append(encode(metrics))
                else:
                    ticket["metric_set"] = metrics
            if "dates" in include:
                ticket["dates"] = {key: metrics[key] for key in DATE_KEYS}
            if "slas" in include:
                ticket["slas"] = slas(ticket, dataset.seed)
            if "comment_count" in include:
                ticket["comment_count"] = dataset.comment_count(ticket["id"])
        raws = [encode(ticket) for ticket in tickets]
        if "metric_sets" in include and style == "top_level":
            extra["metric_sets"] = metric_sets
    for name in OBJECTS:
        if name in include:
            extra[name] = _referenced(dataset, name, tickets)
    return raws, extra


def _referenced(dataset: Dataset, kind: str, tickets: list[Json]) -> list[bytes]:
    ids = sorted({t[key] for t in tickets for key in _REFERENCES[kind] if t.get(key) is not None})
    if kind in ("groups", "brands"):
        known = {o["id"]: o for o in (dataset.groups() if kind == "groups" else dataset.brands())}
        return [encode(known[i]) for i in ids if i in known]
    return [dataset.raw(kind, i) for i in ids]


def metric_set(ticket: Json, seed: int, base: str) -> Json:
    """The ticket's metric set: counts and times consistent with its status and people."""
    tid = ticket["id"]
    created, updated = parse_iso(ticket["created_at"]), parse_iso(ticket["updated_at"])
    rng = random.Random(f"metric_set:{seed}:{tid}:{updated}")
    span = updated - created

    def at(low: float, high: float) -> int:
        return created + int(span * rng.uniform(low, high))

    def minutes(seconds: int | None) -> Json:
        if seconds is None:
            return {"calendar": None, "business": None}
        calendar = seconds // 60
        return {"calendar": calendar, "business": int(calendar * rng.uniform(0.2, 0.6))}

    status = ticket["status"]
    assigned = ticket["assignee_id"] is not None
    solved = status in ("solved", "closed")
    replies = 0 if status == "new" else rng.randint(1, 5)
    first_reply = at(0.0, 0.3) if replies else None
    initially_assigned = at(0.0, 0.4) if assigned else None
    assigned_at = at(0.4, 0.8) if assigned and rng.random() < 0.3 else initially_assigned
    solved_at = at(0.8, 1.0) if solved else None
    status_updated = solved_at if solved_at is not None else at(0.5, 1.0)
    on_hold = int(span * rng.uniform(0.0, 0.2)) if status == "hold" else 0
    return {
        "url": f"{base}/api/v2/ticket_metrics/{_METRIC_SET_BASE + tid - _TICKET_BASE}.json",
        "id": _METRIC_SET_BASE + tid - _TICKET_BASE,
        "ticket_id": tid,
        "created_at": iso(created),
        "updated_at": iso(updated),
        "group_stations": (1 + (rng.random() < 0.2)) if ticket["group_id"] is not None else 0,
        "assignee_stations": (1 + (rng.random() < 0.2)) if assigned else 0,
        "reopens": int(solved and rng.random() < 0.1),
        "replies": replies,
        "assignee_updated_at": _iso(at(0.3, 1.0) if assigned else None),
        "requester_updated_at": iso(at(0.0, 1.0)),
        "status_updated_at": iso(status_updated),
        "initially_assigned_at": _iso(initially_assigned),
        "assigned_at": _iso(assigned_at),
        "solved_at": _iso(solved_at),
        "latest_comment_added_at": iso(at(0.5, 1.0)),
        "reply_time_in_minutes": minutes(None if first_reply is None else first_reply - created),
        "first_resolution_time_in_minutes": minutes(
            None if solved_at is None else solved_at - created
        ),
        "full_resolution_time_in_minutes": minutes(
            None if solved_at is None else solved_at - created
        ),
        "agent_wait_time_in_minutes": minutes(int(span * rng.uniform(0.0, 0.3))),
        "requester_wait_time_in_minutes": minutes(int(span * rng.uniform(0.0, 0.5))),
        "on_hold_time_in_minutes": minutes(on_hold),
        "custom_status_updated_at": iso(status_updated),
    }


def slas(ticket: Json, seed: int) -> Json:
    """The SLA targets running on the ticket: none once closed, or without a priority."""
    status = ticket["status"]
    if ticket["priority"] is None or status in ("closed", "deleted"):
        return {"policy_metrics": []}
    updated = parse_iso(ticket["updated_at"])
    rng = random.Random(f"slas:{seed}:{ticket['id']}:{updated}")
    metrics = []
    for metric in rng.sample(_SLA_METRICS, rng.randint(1, 2)):
        stage = "paused" if status in ("pending", "hold") else rng.choice(("active", "achieved"))
        hours = rng.randint(-72, 72)
        # Time left to the breach, in the one unit Zendesk picks for its size.
        if abs(hours) >= 48:
            left = {"days": hours // 24}
        else:
            left = {"hours": hours} if hours else {"minutes": rng.randint(-59, 59)}
        breach_at = iso(updated + hours * 3600)
        metrics.append({"breach_at": breach_at, "stage": stage, "metric": metric, **left})
    return {"policy_metrics": metrics}


def groups(base: str, seed: int, since: int) -> list[Json]:
    """The account's agent groups, in id order; the first is the default, the last private."""
    rng = random.Random(f"groups:{seed}")
    objects = []
    for index, (gid, name) in enumerate(zip(_GROUP_IDS, _GROUP_NAMES, strict=True)):
        created = since - rng.randint(100, 400) * 86400
        objects.append(
            {
                "url": f"{base}/api/v2/groups/{gid}.json",
                "id": gid,
                "is_public": index < len(_GROUP_IDS) - 1,
                "name": name,
                "description": rng.choice(("", f"{name} team")),
                "default": index == 0,
                "deleted": False,
                "created_at": iso(created),
                "updated_at": iso(created + rng.randint(0, 90) * 86400),
            }
        )
    return objects


def brands(base: str, seed: int, since: int) -> list[Json]:
    """The account's brands, in id order; the first is the default and has a logo."""
    rng = random.Random(f"brands:{seed}")
    objects = []
    for index, (bid, (name, subdomain)) in enumerate(zip(_BRAND_IDS, _BRANDS, strict=True)):
        created = since - rng.randint(100, 400) * 86400
        objects.append(
            {
                "url": f"{base}/api/v2/brands/{bid}.json",
                "id": bid,
                "name": name,
                "brand_url": f"https://{subdomain}.emulator.test",
                "subdomain": subdomain,
                "host_mapping": f"help.{subdomain}.example.com" if index == 0 else None,
                "has_help_center": index == 0,
                "help_center_state": "enabled" if index == 0 else "disabled",
                "active": True,
                "default": index == 0,
                "is_deleted": False,
                "logo": _logo(base, bid + 1000, subdomain) if index == 0 else None,
                "ticket_form_ids": list(_FORM_IDS),
                "signature_template": "{{agent.signature}}",
                "created_at": iso(created),
                "updated_at": iso(created + rng.randint(0, 90) * 86400),
            }
        )
    return objects


def _logo(base: str, aid: int, subdomain: str) -> Json:
    content = f"{base}/system/brands/{aid}/{subdomain}_logo.png"
    return {
        "url": f"{base}/api/v2/attachments/{aid}.json",
        "id": aid,
        "file_name": f"{subdomain}_logo.png",
        "content_url": content,
        "mapped_content_url": content,
        "content_type": "image/png",
        "size": 5120,
        "width": 80,
        "height": 80,
        "inline": False,
        "deleted": False,
        "thumbnails": [],
    }


def _iso(ts: int | None) -> str | None:
    return None if ts is None else iso(ts)
