"""One manifest entry per live object, as YAML text, for export.

Every string goes through manifest/yamlwrite.py, so the loader reads back exactly the live
value. An object that no manifest could describe (a webhook on http://, a portal whose
subdomain is not a DNS label, text that is not valid Unicode) is left out and reported:
writing it would make the whole export fail to load.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cincopa_sync.api.endpoints import RESERVED_PORTAL_PARAMS
from cincopa_sync.manifest.model import ASSET_TEXT_FIELDS, WEBHOOK_TYPES, mask_url
from cincopa_sync.manifest.yamlwrite import comment, flow_list, literal, quoted, reference, writable

_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
# Written in this order; thumb_attached_rid only when set (see asset_entry).
_ASSET_TEXT = tuple(f for f in ASSET_TEXT_FIELDS if f != "thumb_attached_rid")

Entry = tuple[str | None, str | None]  # (YAML text, or None and why it was left out)


@dataclass
class Entries:
    texts: list[str] = field(default_factory=list)

    def add(self, entry: Entry, skipped: list[str]) -> None:
        text, why = entry
        if text is None:
            skipped.append(str(why))
        else:
            self.texts.append(text)


def _all_writable(values: Iterable[object]) -> bool:
    return all(writable(v) for v in values if isinstance(v, str))


def asset_entry(asset: dict[str, object]) -> Entry:
    rid = str(asset["rid"])
    tags = sorted(asset.get("tags") or ())  # type: ignore[call-overload]
    if not rid:
        return None, "an asset without a rid"
    if not _all_writable([rid, *tags, *(asset.get(f) for f in ASSET_TEXT_FIELDS)]):
        return None, f"asset {rid!a}: holds text that is not valid Unicode"
    lines = [f"  - rid: {literal(rid)}"]
    lines += [f"    {name}: {literal(str(asset.get(name) or ''))}" for name in _ASSET_TEXT]
    lines.append(f"    tags: {flow_list(tags)}")
    thumb_sec = asset.get("video_thumb_sec")
    if isinstance(thumb_sec, int) and thumb_sec >= 0:
        lines.append(f"    video_thumb_sec: {thumb_sec}")
    thumb_rid = asset.get("thumb_attached_rid")
    if thumb_rid:
        lines.append(f"    thumb_attached_rid: {literal(str(thumb_rid))}")
    return "\n".join(lines) + "\n", None


def portal_entry(portal: dict[str, object]) -> Entry:
    subdomain = str(portal["subdomain"])
    settings: dict[str, str] = dict(portal.get("settings") or {})  # type: ignore[call-overload]
    if not _DNS_LABEL.match(subdomain):
        return None, f"portal {subdomain!r}: the subdomain is not a DNS label a manifest accepts"
    if not _all_writable([portal.get("name"), *settings, *settings.values()]):
        return None, f"portal {subdomain}: holds text that is not valid Unicode"
    reserved = sorted(set(settings) & RESERVED_PORTAL_PARAMS)
    if reserved:
        return None, f"portal {subdomain}: settings {reserved} are not allowed in a manifest"
    lines = [f"  - subdomain: {literal(subdomain)}"]
    status = str(portal.get("status") or "active")
    if status != "active":
        # Manifests do not manage status, but a reviewer should know, and that any
        # portal.set (a later change to this entry) makes a ceased portal active again.
        note = f"status: {status} (not managed; any change to this portal makes it active)"
        lines.append("    " + comment(note))
    lines.append(f"    name: {literal(str(portal.get('name') or ''))}")
    if portal.get("visibility") in ("public", "private"):
        lines.append(f"    visibility: {literal(str(portal['visibility']))}")
    if settings:
        lines.append("    settings:")
        lines += [f"      {quoted(k)}: {literal(settings[k])}" for k in sorted(settings)]
    return "\n".join(lines) + "\n", None


def webhook_entries(
    hooks: Iterable[dict[str, object]], skipped: list[str]
) -> tuple[Entries, list[tuple[str, str]]]:
    """The webhook entries by URL, and the (variable, purpose) pairs their secrets need:
    a key as CINCOPA_HOOK_KEY_<N>, a Slack URL as SLACK_WEBHOOK_URL_<N>, numbered in
    file order."""
    entries = Entries()
    variables: list[tuple[str, str]] = []
    for hook in sorted(hooks, key=lambda h: str(h["url"])):
        text = _webhook_entry(hook, variables)
        entries.add(text, skipped)
    return entries, variables


def _webhook_entry(hook: dict[str, object], variables: list[tuple[str, str]]) -> Entry:
    url, kind = str(hook["url"]), str(hook.get("type") or "http")
    events = sorted(hook.get("events") or ())  # type: ignore[call-overload]
    slack = kind == "slack"
    # For messages and comments: masked when secret, line breaks escaped.
    shown = comment(mask_url(url) if slack else url)[2:]
    parts = urlsplit(url) if writable(url) else None
    if parts is None or parts.scheme.lower() != "https" or not parts.netloc:
        return None, f"webhook {shown}: a manifest takes only https:// URLs"
    if kind not in WEBHOOK_TYPES:
        return None, f"webhook {shown}: type {kind!r} is not one a manifest knows"
    if not events:
        return None, f"webhook {shown}: it has no events (a manifest needs at least one)"
    if not _all_writable(events):
        return None, f"webhook {shown}: holds text that is not valid Unicode"
    events_text = f"    events: {flow_list(events)}"
    if slack:
        name = f"SLACK_WEBHOOK_URL_{sum(v.startswith('SLACK_') for v, _ in variables) + 1}"
        variables.append((name, f"the URL of the Slack webhook {shown}"))
        lines = [
            "  " + comment(f"a Slack webhook's URL is a secret: set {name} to the URL of {shown}"),
            f"  - url: {reference(name)}",
            f"    type: {quoted('slack')}",
            events_text,
        ]
        return "\n".join(lines) + "\n", None
    lines = [f"  - url: {literal(url)}", events_text]
    if hook.get("has_security_key"):
        name = f"CINCOPA_HOOK_KEY_{sum(v.startswith('CINCOPA_') for v, _ in variables) + 1}"
        variables.append((name, f"the security key of the webhook {shown}"))
        lines.append("    " + comment(f"the API never returns a key: set {name} to this one"))
        lines.append(f"    security_key: {reference(name)}")
    return "\n".join(lines) + "\n", None
