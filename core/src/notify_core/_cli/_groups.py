"""``notify groups``: open groups and digests, and when each goes out."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .._errors import NotifyError
from ._common import ConfigOpt, DbOpt, JsonOpt, TenantOpt, app, table
from ._shared import UsageError, load_notifier, print_json, when

if TYPE_CHECKING:  # loaded by the commands that use them, not for `notify --help`
    from .._grouping import Outlook
    from .._notifier import Notifier
    from .._store import GroupItem, GroupRow

groups_app = typer.Typer(
    help="Open groups and digests, and when each goes out; `notify groups show ID` for one.",
    no_args_is_help=False,
)
app.add_typer(groups_app, name="groups")


def _outlook(notifier: Notifier, group: GroupRow, items: list[GroupItem]) -> Outlook:
    """Read with the configuration's policy when there is one (the log works without)."""
    from .._grouping import outlook, policy_of

    policy = None
    if notifier.config.all_channels():
        try:
            policy = policy_of(notifier.channel(group.channel, group.tenant))
        except NotifyError:
            policy = None
    return outlook(policy, group, items)


def _group_dict(group: GroupRow, items: list[GroupItem], seen: Outlook) -> dict[str, Any]:
    return {
        "id": group.id,
        "kind": group.kind,
        "channel": group.channel,
        "tenant": group.tenant,
        "key": group.key,
        "labels": group.label_map,
        "items": len(items),
        "firing": sum(1 for i in items if i.state == "firing"),
        "resolved": sum(1 for i in items if i.state == "resolved"),
        "new": sum(1 for i in items if i.changed),
        "goes_out": when(seen.at) if seen.at is not None else None,
        "next": seen.what,
        "due": when(group.due) if group.due is not None else None,
        "created": when(group.created),
        "last_sent": when(group.last_sent) if group.last_sent is not None else None,
        "last_delivery": group.last_delivery,
        "claimed_by": group.lease_owner
        if group.lease_until is not None and group.lease_until > time.time()
        else None,
    }


@groups_app.callback(invoke_without_command=True)
def groups(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    tenant: TenantOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List open groups and digests: their items and when each will go out.

    Example: notify groups --channel ops
    """
    if ctx.invoked_subcommand is not None:
        return
    with load_notifier(config, db, required=False, read_only=True) as notifier:
        found = []
        for group in notifier.store.groups(channel=channel, tenant=tenant):
            items = notifier.store.group_items(group.id)
            found.append(_group_dict(group, items, _outlook(notifier, group, items)))
    if json_out:
        print_json(found)
        return
    for item in found:
        item["tenant"] = item["tenant"] or "-"
        item["goes_out"] = item["goes_out"] or "-"
        item["last_sent"] = item["last_sent"] or "-"
    table(
        found,
        ["id", "kind", "key", "items", "new", "goes_out", "next", "last_sent"],
        empty="no open groups",
    )


@groups_app.command("show")
def groups_show(
    group_id: Annotated[str, typer.Argument(metavar="ID", help="Group id (or a prefix).")],
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show one open group and its items, each with the delivery row of its latest message.

    Example: notify groups show g1bd9a29
    """
    with load_notifier(config, db, required=False, read_only=True) as notifier:
        matches = [g for g in notifier.store.groups() if g.id.startswith(group_id)]
        if not matches:
            raise UsageError(
                f"no open group {group_id!r} in {notifier.db_path} (`notify groups` lists them)"
            )
        if len(matches) > 1:
            raise UsageError(f"{group_id!r} matches several groups; give more characters")
        group = matches[0]
        items = notifier.store.group_items(group.id)
        data = _group_dict(group, items, _outlook(notifier, group, items))
    data["items_list"] = [
        {
            "dedup_key": i.dedup_key,
            "state": i.state,
            "new": i.changed,
            "seen": i.seen,
            "first_seen": when(i.created),
            "last_seen": when(i.updated),
            "delivery_id": i.delivery_id,
            "sent_in": i.sent_in,
        }
        for i in items
    ]
    if json_out:
        print_json(data)
        return
    for key in ("id", "kind", "key", "items", "new", "goes_out", "next", "due", "last_sent"):
        if data.get(key) not in (None, ""):
            typer.echo(f"{key:>9}: {data[key]}")
    table(
        [
            {**i, "new": "yes" if i["new"] else "", "sent_in": i["sent_in"] or "-"}
            for i in data["items_list"]
        ],
        ["delivery_id", "state", "new", "seen", "last_seen", "sent_in", "dedup_key"],
        empty="no items",
    )
