"""The account's business rules and service levels: macros, views, triggers, automations,
SLA policies and business-hours schedules, as their list endpoints serve them.

Static apart from URLs and timestamps, and tied to the rest of the emulator: restrictions
name real groups and the account's admin, actions set real custom fields, the first triggers
are the ones whose notifications the audits carry, and the SLA policies are the ones the
metric events apply, with the targets those events show.
"""

from __future__ import annotations

from typing import Any

from .activity import _POLICIES, _SLA_TARGETS, _TRIGGER_BASE, _TRIGGERS
from .catalog import _Maker
from .dataset import _GROUP_IDS, _TICKET_FIELDS, Json

_MACRO_BASE = 32_000_000_010_001
_VIEW_BASE = 32_000_000_011_001
_AUTOMATION_BASE = 32_000_000_012_001
_SCHEDULE_BASE = 32_000_000_013_001
_TAGGER_FIELD = next(fid for fid, kind in _TICKET_FIELDS if kind == "tagger")
_SUPPORT, _BILLING, _ESCALATIONS, _ONBOARDING = _GROUP_IDS

# (title, active, restriction, actions): restriction "group:<n>" is one group, "groups" two,
# "user" the account's admin, None everyone.
_MACROS: tuple[tuple[str, bool, str | None, tuple[tuple[str, Any], ...]], ...] = (
    (
        "Close and redirect to topics",
        True,
        None,
        (
            ("status", "solved"),
            ("comment_value", "Thanks for your request. This is a known issue; see our forums."),
        ),
    ),
    ("Take it!", True, None, (("assignee_id", "current_user"), ("status", "open"))),
    (
        "Customer not responding",
        True,
        None,
        (("status", "pending"), ("comment_value", "Just checking in: did our last reply help?")),
    ),
    ("Downgrade and inform", True, None, (("priority", "low"), ("set_tags", "downgraded"))),
    (
        "Escalate to tier 2",
        True,
        f"group:{_ESCALATIONS}",
        (("group_id", _ESCALATIONS), ("priority", "high"), ("current_tags", "escalated")),
    ),
    (
        "Refund approved",
        True,
        f"group:{_BILLING}",
        (
            ("status", "solved"),
            (f"custom_fields_{_TAGGER_FIELD}", "gold"),
            ("comment_value_html", "<p>Your refund is on its way.</p>"),
        ),
    ),
    ("Billing: request the invoice number", True, "groups", (("current_tags", "billing"),)),
    ("Mark as bug", True, None, (("type", "problem"), ("current_tags", "bug"))),
    ("Personal: follow up tomorrow", True, "user", (("status", "pending"),)),
    (
        "Notify the requester",
        True,
        None,
        (("notification_user", ["requester_id", "About your request", "We are on it."]),),
    ),
    ("Old: offer the survey", False, None, (("satisfaction_score", "offered"),)),
    ("Spam", False, None, (("status", "closed"), ("set_tags", "spam"))),
)
# (title, all conditions, any conditions, restriction as for macros, active)
_Condition = tuple[str, str, Any]
_VIEWS: tuple[tuple[str, tuple[_Condition, ...], tuple[_Condition, ...], str | None, bool], ...] = (
    (
        "Your unsolved tickets",
        (("status", "less_than", "solved"), ("assignee_id", "is", "current_user")),
        (),
        None,
        True,
    ),
    (
        "Unassigned tickets",
        (("assignee_id", "is", ""), ("status", "less_than", "solved")),
        (),
        None,
        True,
    ),
    ("All unsolved tickets", (("status", "less_than", "solved"),), (), None, True),
    ("Pending tickets", (("status", "is", "pending"),), (), None, True),
    (
        "Recently solved tickets",
        (("status", "greater_than", "open"), ("SOLVED", "less_than", 168)),
        (),
        None,
        True,
    ),
    (
        "VIP and urgent",
        (("status", "less_than", "solved"),),
        (("current_tags", "includes", "vip"), ("priority", "is", "urgent")),
        None,
        True,
    ),
    (
        "Billing queue",
        (("group_id", "is", str(_BILLING)), ("status", "less_than", "solved")),
        (),
        f"group:{_BILLING}",
        True,
    ),
    (
        "Custom status: waiting",
        (("custom_status_id", "includes", ["32000000000503", "32000000000504"]),),
        (),
        "groups",
        True,
    ),
    ("Old escalations", (("group_id", "is", str(_ESCALATIONS)),), (), "user", False),
)
# (title, all conditions, actions, active, category id) after the three notification
# triggers the audits name.
_CUSTOM_TRIGGERS: tuple[
    tuple[str, tuple[_Condition, ...], tuple[tuple[str, Any], ...], bool, str], ...
] = (
    (
        "Assign to first responder",
        (("update_type", "is", "Change"), ("comment_is_public", "is", "true")),
        (("assignee_id", "current_user"),),
        True,
        "10027",
    ),
    (
        "Tag VIP requesters",
        (("update_type", "is", "Create"), ("organization_id", "is_not", "")),
        (("current_tags", "vip"), ("priority", "high")),
        True,
        "10027",
    ),
    (
        "Route billing tickets",
        (("update_type", "is", "Create"), ("current_tags", "includes", "billing refund")),
        (("group_id", _BILLING),),
        True,
        "10028",
    ),
    (
        "Notify escalations group",
        (("group_id", "is", str(_ESCALATIONS)),),
        (("notification_group", [str(_ESCALATIONS), "Escalated", "{{ticket.title}}"]),),
        False,
        "10028",
    ),
)
_AUTOMATIONS: tuple[tuple[str, tuple[_Condition, ...], tuple[tuple[str, Any], ...], bool], ...] = (
    (
        "Close ticket 4 days after status is set to solved",
        (("status", "is", "solved"), ("SOLVED", "greater_than", 96)),
        (("status", "closed"),),
        True,
    ),
    (
        "Pending notification 24 hours",
        (("status", "is", "pending"), ("PENDING", "is", 24)),
        (("notification_user", ["requester_id", "Still waiting", "Do you still need help?"]),),
        True,
    ),
    (
        "Pending notification 5 days",
        (("status", "is", "pending"), ("PENDING", "is", 120)),
        (("status", "solved"),),
        True,
    ),
    (
        "Escalate unassigned after 8 hours",
        (("assignee_id", "is", ""), ("NEW", "greater_than", 8)),
        (("group_id", _ESCALATIONS), ("priority", "urgent")),
        False,
    ),
)
# Mon-Fri (days 1-5) in minutes since Sunday midnight, as the schedules API counts.
_SCHEDULES = (
    (
        "Support hours",
        "Eastern Time (US & Canada)",
        tuple((d * 1440 + 540, d * 1440 + 1020) for d in range(1, 6)),
    ),
    ("Round the clock", "UTC", tuple((d * 1440, d * 1440 + 1440) for d in range(7))),
)


class Rules:
    """Builds the rule lists for one base URL; ``admin_id`` owns the personal rules."""

    def __init__(self, base: str, made: _Maker, admin_id: int) -> None:
        self.base = base
        self.made = made
        self.admin_id = admin_id

    def restriction(self, kind: str | None) -> Json | None:
        """None (everyone), the admin ("user"), two groups ("groups") or "group:<id>"."""
        if kind is None:
            return None
        if kind == "user":
            return {"type": "User", "id": self.admin_id}
        if kind == "groups":
            return {"type": "Group", "id": _SUPPORT, "ids": [_SUPPORT, _ONBOARDING]}
        group = int(kind.split(":")[1])
        return {"type": "Group", "id": group, "ids": [group]}

    def macros(self) -> list[Json]:
        made = self.made
        macros = []
        for index, (title, active, restriction, actions) in enumerate(_MACROS):
            mid = _MACRO_BASE + index
            macros.append(
                {
                    "url": f"{self.base}/api/v2/macros/{mid}.json",
                    "id": mid,
                    "title": title,
                    "active": active,
                    "updated_at": made.stamp(100 + index + (0 if active else 60 * 24)),
                    "created_at": made.stamp(100 + index),
                    "default": False,
                    "position": 10_000 + index,
                    "description": f"{title}." if index % 3 == 0 else None,
                    "actions": actions_of(actions),
                    "restriction": self.restriction(restriction),
                    "raw_title": title,
                }
            )
        return macros

    def views(self) -> list[Json]:
        made = self.made
        tagger = f"{self.base}/api/v2/ticket_fields/{_TAGGER_FIELD}.json"
        columns = [
            {"id": "subject", "title": "Subject"},
            {"id": "requester", "title": "Requester"},
            {"id": "updated", "title": "Updated"},
            {"id": _TAGGER_FIELD, "title": "Plan", "type": "tagger", "url": tagger},
        ]
        views = []
        for index, (title, all_of, any_of, restriction, active) in enumerate(_VIEWS):
            vid = _VIEW_BASE + index
            views.append(
                {
                    "url": f"{self.base}/api/v2/views/{vid}.json",
                    "id": vid,
                    "title": title,
                    "active": active,
                    "updated_at": made.stamp(200 + index + (0 if active else 90 * 24)),
                    "created_at": made.stamp(200 + index),
                    "default": index < 5,
                    "position": index + 1,
                    "description": None if index < 5 else f"{title} (team view)",
                    "execution": {
                        "group_by": "status",
                        "group_order": "asc",
                        "sort_by": "updated",
                        "sort_order": "desc",
                        "group": {"id": "status", "title": "Status", "order": "asc"},
                        "sort": {"id": "updated", "title": "Updated", "order": "desc"},
                        "columns": columns,
                        "fields": columns[:3],
                        "custom_fields": columns[3:],
                    },
                    "conditions": conditions_of(all_of, any_of),
                    "restriction": self.restriction(restriction),
                    "watchable": True,
                    "raw_title": title,
                }
            )
        return views

    def triggers(self) -> list[Json]:
        """The three notification triggers the audits' Notification events name, then others."""
        made = self.made
        notifying = [
            (
                title,
                (("update_type", "is", "Create" if index < 2 else "Change"),),
                (("notification_user", ["requester_and_ccs", subject, body]),),
                True,
                "10026",
            )
            for index, (title, subject, body) in enumerate(_TRIGGERS)
        ]
        triggers = []
        for index, (title, all_of, actions, active, category) in enumerate(
            [*notifying, *_CUSTOM_TRIGGERS]
        ):
            tid = _TRIGGER_BASE + index
            triggers.append(
                {
                    "url": f"{self.base}/api/v2/triggers/{tid}.json",
                    "id": tid,
                    "title": title,
                    "active": active,
                    "updated_at": made.stamp(300 + index),
                    "created_at": made.stamp(300 + index),
                    "default": index < len(notifying),
                    "actions": actions_of(actions),
                    "conditions": conditions_of(all_of),
                    "description": None if index < len(notifying) else f"{title}.",
                    "position": index + 1,
                    "raw_title": title,
                    "category_id": category,
                }
            )
        return triggers

    def automations(self) -> list[Json]:
        made = self.made
        automations = []
        for index, (title, all_of, actions, active) in enumerate(_AUTOMATIONS):
            aid = _AUTOMATION_BASE + index
            automations.append(
                {
                    "url": f"{self.base}/api/v2/automations/{aid}.json",
                    "id": aid,
                    "title": title,
                    "active": active,
                    "updated_at": made.stamp(400 + index),
                    "created_at": made.stamp(400 + index),
                    "default": index == 0,
                    "actions": actions_of(actions),
                    "conditions": conditions_of(all_of),
                    "position": index + 1,
                    "raw_title": title,
                }
            )
        return automations

    def sla_policies(self) -> list[Json]:
        """The policies the metric events' apply_sla names, with their targets per priority."""
        made = self.made
        filters = (
            {"all": [{"field": "priority", "operator": "less_than", "value": "high"}], "any": []},
            {
                "all": [{"field": "priority", "operator": "greater_than", "value": "normal"}],
                "any": [],
            },
        )
        policies = []
        for index, (pid, title, description) in enumerate(_POLICIES):
            metrics = [
                {
                    "priority": priority,
                    "metric": "first_reply_time",
                    "target": target,
                    "business_hours": business_hours,
                    "target_in_seconds": target * 60,
                }
                for priority, (target, business_hours, policy) in _SLA_TARGETS.items()
                if priority is not None and policy == index
            ]
            policies.append(
                {
                    "url": f"{self.base}/api/v2/slas/policies/{pid}.json",
                    "id": pid,
                    "title": title,
                    "description": description,
                    "position": index + 1,
                    "filter": filters[index],
                    "policy_metrics": metrics,
                    "created_at": made.stamp(500 + index),
                    "updated_at": made.stamp(500 + index),
                }
            )
        return policies

    def schedules(self) -> list[Json]:
        made = self.made
        return [
            {
                "id": _SCHEDULE_BASE + index,
                "name": name,
                "time_zone": zone,
                "created_at": made.stamp(600 + index),
                "updated_at": made.stamp(600 + index),
                "intervals": [{"start_time": start, "end_time": end} for start, end in intervals],
            }
            for index, (name, zone, intervals) in enumerate(_SCHEDULES)
        ]


def actions_of(actions: tuple[tuple[str, Any], ...]) -> list[Json]:
    return [{"field": field, "value": value} for field, value in actions]


def conditions_of(all_of: tuple[_Condition, ...], any_of: tuple[_Condition, ...] = ()) -> Json:
    def one(condition: _Condition) -> Json:
        field, operator, value = condition
        return {"field": field, "operator": operator, "value": value}

    return {"all": [one(c) for c in all_of], "any": [one(c) for c in any_of]}
