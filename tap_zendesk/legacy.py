"""The `legacy_schema` layout: the columns, types and keys of the incumbent Singer tap.

Teams moving from `tap-zendesk` 2.8.2 (singer-io) keep every downstream column: with
`legacy_schema` each stream that tap also has is emitted with its property names, JSON types
(nested objects and arrays included, `format: date-time` where it has it) and key properties.

A layout is written against our own schema, not copied from the other tap: it names the
properties to keep, in a small notation, and states a type only where the incumbent's differs
from ours made nullable.

- ``name`` keeps our property whole, every nested property and item included.
- ``name(a b c)`` keeps our property with only the listed nested properties; for an array they
  are the properties of its items, and ``[]:types`` types the items themselves.
- ``name:null|object|string`` states the JSON types exactly, in that order; ``:any`` is the
  untyped ``{}``. A property we do not have needs its types (and its nested properties).
- Other types are ours with ``null`` first, because the incumbent lets everything be null.
  A layout's `types` are those of the record itself (``null|object`` unless stated).
- A nested name our object does not list takes the schema of its open map's values
  (``flags_options(2 11)``: flags keyed by their code).
- An open map kept whole (custom field values) stays open (`additionalProperties: true`);
  every other object is closed, as the incumbent's are: undeclared keys are dropped.

Records are shaped by the emitted schema itself (`record_shaper`), so they always match it:
undeclared keys are dropped at every depth, a property we lack is null, and a value whose type
the schema does not allow is converted the way the incumbent's singer-python transformer
converts it (an integer where text is declared becomes its digits, `True` becomes "True";
objects and arrays become JSON text), or is null with a warning if it cannot be.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import typing as t

Record = dict[str, t.Any]
Schema = dict[str, t.Any]
Shaper = t.Callable[[t.Any], t.Any]

# `:any`: the incumbent's untyped property.
ANY = "any"
_TOKENS = re.compile(r"\s*(?:(\(|\))|([\w\[\]]+)(?::([\w|]+))?)")
_KEPT_KEYWORDS = ("description", "format")


@dataclasses.dataclass(frozen=True)
class Field:
    """One property of a layout: its name, stated types and the nested properties kept."""

    name: str
    types: tuple[str, ...] | None = None
    children: tuple[Field, ...] | None = None


def parse(notation: str) -> tuple[Field, ...]:
    """The fields of a layout written in the notation of this module's docstring."""
    stack: list[list[Field]] = [[]]
    pending: list[tuple[str, tuple[str, ...] | None]] = []
    position = 0
    notation = notation.strip()
    while position < len(notation):
        match = _TOKENS.match(notation, position)
        if match is None:
            msg = f"legacy layout: cannot read {notation[position : position + 30]!r}"
            raise ValueError(msg)
        position = match.end()
        bracket, name, types = match.groups()
        if name:
            stack[-1].append(Field(name, tuple(types.split("|")) if types else None))
        elif bracket == "(":
            if not stack[-1]:
                msg = "legacy layout: '(' must follow a property name"
                raise ValueError(msg)
            parent = stack[-1].pop()
            pending.append((parent.name, parent.types))
            stack.append([])
        else:
            if not pending:
                msg = "legacy layout: unbalanced ')'"
                raise ValueError(msg)
            children = tuple(stack.pop())
            name, types = pending.pop()
            stack[-1].append(Field(name, types, children))
    if pending:
        msg = "legacy layout: unbalanced '('"
        raise ValueError(msg)
    return tuple(stack[0])


@dataclasses.dataclass(frozen=True)
class LegacyLayout:
    """How one stream looks in the incumbent tap."""

    properties: str
    key_properties: tuple[str, ...] = ("id",)
    # The types of the record itself.
    types: tuple[str, ...] = ("null", "object")
    # Values the incumbent has that we can work out from our record (before shaping).
    derive: t.Callable[[Record], Record] | None = None
    # Top-level properties whose incumbent shape is that of another of our properties, by
    # dotted path (our audits' `via` is the export's text; the incumbent's, an event's object).
    borrowed: tuple[tuple[str, str], ...] = ()

    def schema(self, ours: Schema) -> Schema:
        """The incumbent's schema of this stream, built from ours."""
        properties = dict(ours.get("properties") or {})
        for name, path in self.borrowed:
            node: Schema = ours
            for part in path.split("."):
                node = node["items"] if part == "[]" else node["properties"][part]
            properties[name] = node
        return {
            "type": list(self.types),
            "properties": _properties(
                {**ours, "properties": properties}, parse(self.properties), "$"
            ),
        }

    def record_shaper(
        self, schema: Schema, stream: str, logger: logging.Logger
    ) -> t.Callable[[Record], Record]:
        """A function giving a record of ours the shape of `schema` (the emitted one).

        A value that cannot be converted becomes null, with one warning per property.
        """
        warned: set[str] = set()

        def warn(path: str, value: t.Any) -> None:
            if path not in warned:
                warned.add(path)
                logger.warning(
                    "%s: a %s at %s does not fit the legacy schema; emitted as null",
                    stream,
                    _kind(value),
                    path,
                )

        shape = record_shaper(schema, warn)
        derive = self.derive
        if derive is None:
            return shape
        return lambda record: shape(derive(record))


# Deriving the schema ----------------------------------------------------------------------


def _properties(ours: Schema | None, fields: t.Iterable[Field], path: str) -> Schema:
    declared = (ours or {}).get("properties") or {}
    open_map = (ours or {}).get("additionalProperties")
    properties = {}
    for field in fields:
        mine = declared.get(field.name)
        if mine is None and field.types is None and isinstance(open_map, dict):
            mine = open_map
        properties[field.name] = _node(mine, field, f"{path}.{field.name}")
    return properties


def _node(ours: Schema | None, field: Field, path: str) -> Schema:
    """The incumbent's schema of one property, from ours and what the layout says of it."""
    if field.types == (ANY,):
        return {}
    if ours is None and (field.types is None or (field.children is None and _nests(field.types))):
        msg = f"legacy layout: {path} is not in our schema; state its types and properties"
        raise ValueError(msg)
    if field.children is None:
        node = _whole(ours) if ours is not None else {}
        if field.types is not None:
            node["type"] = list(field.types)
            if "array" not in field.types:
                node.pop("items", None)
            if "object" not in field.types:
                node.pop("properties", None)
                node.pop("additionalProperties", None)
        return node
    node = {key: ours[key] for key in _KEPT_KEYWORDS if ours and key in ours}
    node["type"] = list(field.types) if field.types else _nullable(ours)
    if "array" in node["type"]:
        node["items"] = _items(ours, field.children, path)
    else:
        node["properties"] = _properties(ours, field.children, path)
    return node


def _items(ours: Schema | None, children: tuple[Field, ...], path: str) -> Schema:
    """An array's items: `[]` types them, the other children are their properties."""
    mine = (ours or {}).get("items")
    stated = next((child.types for child in children if child.name == "[]"), None)
    named = [child for child in children if child.name != "[]"]
    if not named:
        return _node(mine, Field("[]", stated), f"{path}[]")
    return _node(mine, Field("[]", stated, tuple(named)), f"{path}[]")


def _nests(types: tuple[str, ...]) -> bool:
    return "object" in types or "array" in types


def _whole(ours: Schema) -> Schema:
    """Our property with every level made nullable, open maps kept open, others closed."""
    node = {key: ours[key] for key in _KEPT_KEYWORDS if key in ours}
    if "type" not in ours:
        return node
    node["type"] = _nullable(ours)
    if "properties" in ours:
        node["properties"] = {name: _whole(sub) for name, sub in ours["properties"].items()}
    elif ours.get("additionalProperties"):
        node["additionalProperties"] = True
    if isinstance(ours.get("items"), dict):
        node["items"] = _whole(ours["items"])
    return node


def _nullable(ours: Schema | None) -> list[str]:
    declared = (ours or {}).get("type", [])
    declared = [declared] if isinstance(declared, str) else declared
    return ["null", *(kind for kind in declared if kind != "null")]


# Shaping records -------------------------------------------------------------------------


def record_shaper(schema: Schema, warn: t.Callable[[str, t.Any], None]) -> Shaper:
    """Shape whole records: every top-level property present (null when we lack it)."""
    shape = _shaper(schema, "$", warn)
    names = tuple(schema.get("properties") or ())

    def shape_record(record: Record) -> Record:
        shaped = shape(record)
        for name in names:
            shaped.setdefault(name, None)
        return shaped

    return shape_record


def _shaper(schema: Schema, path: str, warn: t.Callable[[str, t.Any], None]) -> Shaper:
    """A function that fits one value to `schema`, compiled once per emitted schema."""
    types = schema.get("type")
    if types is None:
        return _as_is
    types = (types,) if isinstance(types, str) else tuple(types)
    declared = schema.get("properties")
    props = (
        {name: _shaper(sub, f"{path}.{name}", warn) for name, sub in declared.items()}
        if declared is not None
        else None
    )
    keep_others = schema.get("additionalProperties") is True
    items = _shaper(schema["items"], f"{path}[]", warn) if "items" in schema else _as_is

    def shape(value: t.Any) -> t.Any:
        if value is None:
            return None
        kind = _kind(value)
        if kind == "object" and "object" in types:
            if props is None:
                return value
            shaped = {name: props[name](sub) for name, sub in value.items() if name in props}
            if keep_others:
                shaped.update((name, sub) for name, sub in value.items() if name not in props)
            return shaped
        if kind == "array" and "array" in types:
            return [items(item) for item in value]
        if kind in types or (kind == "integer" and "number" in types):
            return value
        converted = _convert(value, types)
        if converted is None:
            warn(path, value)
        return converted

    return shape


def _as_is(value: t.Any) -> t.Any:
    return value


def _kind(value: t.Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    return "array" if isinstance(value, list) else "unknown"


def _convert(value: t.Any, types: tuple[str, ...]) -> t.Any:
    """The value as the first declared type it converts to without loss; else None.

    Text is what singer-python's str() writes, except that objects and arrays become JSON
    rather than Python's repr."""
    for kind in types:
        if kind == "string":
            return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
        if kind == "integer" and isinstance(value, (str, float)) and not isinstance(value, bool):
            try:
                number = float(value)
            except ValueError:
                continue
            if number.is_integer():
                return int(number)
        if kind == "number" and isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                continue
        if kind == "boolean" and isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
    return None


# Derived values ----------------------------------------------------------------------------


def _audit_via(audit: Record) -> Record:
    """The incumbent reads audits per ticket, where `via` is an object; the ticket events
    export names the channel instead (e.g. "Web form"). A comment of the audit carries the
    audit's via object, so that is used; else the name becomes `{"channel": name}`. Events
    that name the same channel get the same object."""
    via = audit.get("via")
    if not isinstance(via, str):
        return audit
    events = audit.get("events") or []
    found = next((e["via"] for e in events if isinstance(e.get("via"), dict)), None)
    audit["via"] = found if found is not None else {"channel": via}
    for event in events:
        if event.get("via") == via:
            event["via"] = audit["via"]
        elif isinstance(event.get("via"), str):
            event["via"] = {"channel": event["via"]}
    return audit


# The layouts ------------------------------------------------------------------------------

# An SLA policy's filter condition: the incumbent declares its items non-null.
_CONDITION = "([]:object field operator value:null|string)"
# A ticket metric's durations; the incumbent has no `*_in_seconds` ones.
_MINUTES = "(calendar business)"
_VIA_TO = "to(address name)"
# A comment's and an audit's via source: from names what or who the update came from.
_VIA_SOURCE = (
    "source(from(address name original_recipients id title deleted ticket_id ticket_ids"
    f" subject) {_VIA_TO} rel)"
)
# A file attachment, and each of its thumbnails: without our malware and deletion keys.
_ATTACHMENT = (
    "url id file_name content_url mapped_content_url content_type size width height inline"
)
_ATTACHMENTS = f"attachments({_ATTACHMENT} thumbnails({_ATTACHMENT}))"
_METADATA = (
    "metadata(system custom:any trusted flags flags_options(2(trusted) 11)"
    " notifications_suppressed_for)"
)

LAYOUTS: dict[str, LegacyLayout] = {
    "tickets": LegacyLayout(
        f"""
        url id external_id via(channel source(from(address name ticket_id subject) {_VIA_TO} rel))
        created_at updated_at generated_timestamp type subject raw_subject description
        priority status recipient requester_id submitter_id assignee_id organization_id
        group_id collaborator_ids follower_ids email_cc_ids forum_topic_id problem_id
        has_incidents is_public due_at tags custom_fields(id value:any)
        satisfaction_rating:null|object|string sharing_agreement_ids followup_ids
        ticket_form_id brand_id allow_channelback allow_attachments
        """
    ),
    "ticket_comments": LegacyLayout(
        f"""
        id ticket_id audit_id author_id body html_body plain_body public type
        via(channel {_VIA_SOURCE})
        {_METADATA} created_at {_ATTACHMENTS}
        """
    ),
    "ticket_audits": LegacyLayout(
        f"""
        id ticket_id created_at author_id via:null|object(channel {_VIA_SOURCE})
        {_METADATA}
        events(
            id type field_name value:null|array|string previous_value:null|array|string
            via:null|object(channel source(from(address name original_recipients id title
                deleted revision_id ticket_id subject) {_VIA_TO} rel))
            author_id body html_body plain_body public {_ATTACHMENTS} audit_id created_at
            data(from to recording_url call_duration:null|string answered_by_id
                answered_by_name transcription_text transcription_status started_at)
            trusted formatted_from formatted_to transcription_visible:any subject recipients
            macro_id:null|string macro_title macro_deleted resource:null|string
        )
        """,
        derive=_audit_via,
        borrowed=(("via", "events.[].via"),),
    ),
    "ticket_metric_events": LegacyLayout(
        """
        id:integer ticket_id metric instance_id type time sla(target business_hours policy)
        status deleted
        """
    ),
    "ticket_fields": LegacyLayout(
        """
        url id type title raw_title description raw_description position active required
        collapsed_for_agents regexp_for_validation title_in_portal raw_title_in_portal
        visible_in_portal editable_in_portal required_in_portal tag created_at updated_at
        removable agent_description custom_field_options(id name raw_name value default)
        system_field_options([]:any) sub_type_id
        """
    ),
    "ticket_forms": LegacyLayout(
        """
        url id name raw_name display_name raw_display_name end_user_visible position
        ticket_field_ids active default in_all_brands restricted_brand_ids created_at
        updated_at
        """
    ),
    # The incumbent's ticket_metrics also declares metric event columns, always null here.
    "ticket_metrics": LegacyLayout(
        f"""
        url id ticket_id created_at updated_at group_stations assignee_stations reopens replies
        assignee_updated_at requester_updated_at status_updated_at initially_assigned_at
        assigned_at solved_at latest_comment_added_at reply_time_in_minutes{_MINUTES}
        first_resolution_time_in_minutes{_MINUTES} full_resolution_time_in_minutes{_MINUTES}
        agent_wait_time_in_minutes{_MINUTES} requester_wait_time_in_minutes{_MINUTES}
        on_hold_time_in_minutes{_MINUTES}
        metric:null|string time:null|string instance_id:null|integer type:null|string
        status:null|object(calendar:null|integer business:null|integer)
        """
    ),
    "users": LegacyLayout(
        f"""
        id url name email created_at updated_at time_zone phone shared_phone_number
        photo({_ATTACHMENT} thumbnails({_ATTACHMENT})) locale_id locale organization_id role
        role_type custom_role_id verified external_id tags alias active shared shared_agent
        last_login_at two_factor_auth_enabled signature details notes moderator
        ticket_restriction only_private_comments restricted_agent suspended chat_only
        default_group_id report_csv user_fields permanently_deleted
        """
    ),
    "organizations": LegacyLayout(
        """
        url id name shared_tickets shared_comments external_id created_at updated_at
        deleted_at domain_names details notes group_id tags organization_fields
        """
    ),
    "groups": LegacyLayout("url id name deleted created_at updated_at"),
    "group_memberships": LegacyLayout("url id user_id group_id default created_at updated_at"),
    "tags": LegacyLayout("name count", key_properties=("name",)),
    "satisfaction_ratings": LegacyLayout(
        """
        id url score comment reason reason_id assignee_id group_id requester_id ticket_id
        created_at updated_at
        """,
        types=("null", "object", "string"),
    ),
    "macros": LegacyLayout(
        """
        url id title description active position actions(field value:null|string)
        restriction created_at updated_at
        """
    ),
    "sla_policies": LegacyLayout(
        f"""
        url id:integer title description position filter(all{_CONDITION} any{_CONDITION})
        policy_metrics(priority metric:any target business_hours) created_at updated_at
        """,
        types=("object",),
    ),
}
