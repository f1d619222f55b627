"""What the ticket events export must give: each stream's ids, and a ticket's history replayed."""

from __future__ import annotations


def ticket_events_truth(emulator) -> dict[str, set]:
    """The ids each stream read from the ticket events export must end up with."""
    items = emulator.dataset.ticket_events(include_comments=True)
    return {
        "ticket_audits": {item["id"] for item in items},
        "ticket_events": {item["id"] for item in items},
        "ticket_comments": {c["id"] for c in emulator.dataset.comments()}
        | {
            child["id"]
            for item in items
            for child in item["child_events"]
            if child["event_type"] == "Comment"
        },
    }


def replay(rows: list[dict]) -> dict[tuple[int, str], str | None]:
    """Each ticket's fields after its history: the last value of each, in audit order.

    A tag change whose whole list the tap could not know (value null) applies its difference.
    """
    current: dict[tuple[int, str], str | None] = {}
    for row in sorted(rows, key=lambda r: (r["updated_at"], r["audit_id"])):
        key = (row["ticket_id"], row["field_name"])
        if row["value"] is None and row["field_name"] == "tags" and row["added_values"] is not None:
            tags = (current.get(key) or "").split()
            removed = (row["removed_values"] or "").split()
            tags = [tag for tag in tags if tag not in removed]
            tags += [tag for tag in row["added_values"].split() if tag not in tags]
            current[key] = " ".join(tags)
        else:
            current[key] = row["value"]
    return current
