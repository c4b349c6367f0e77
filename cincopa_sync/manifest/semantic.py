"""Checks the schema cannot express, across all files, and the desired model they build.

Runs on entries the schema accepted (their types are known), in manifest order: files in
load order, entries in file order.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit

from cincopa_sync.api.endpoints import RESERVED_PORTAL_PARAMS
from cincopa_sync.errors import Location, Problem
from cincopa_sync.manifest.model import AssetSpec, PortalSpec, Prune, WebhookSpec, mask_url
from cincopa_sync.manifest.yamlload import Document, PosDict, PosList

# Event names from Cincopa's guide and integrations (cincopa-api.md).
KNOWN_EVENTS = frozenset(
    (
        "gallery.created",
        "gallery.updated",
        "gallery.deleted",
        "gallery.synced",
        "gallery.claim",
        "gallery.sync",
        "asset.uploaded",
        "asset.updated",
        "asset.deleted",
        "asset.synced",
        "account.traffic_usage",
        "account.settings",
        "lead.created",
    )
)
# Namespace wildcards; the guide really writes `leads.*` next to `lead.created`.
EVENT_WILDCARDS = frozenset(("gallery.*", "asset.*", "account.*", "leads.*", "analytics.*"))
# portal.set parameters that have their own manifest key (or must never be a setting).
DEFAULT_WEBHOOK_TYPE = "http"

Skip = set[tuple[str, int]]  # (top-level key, index); index -1: the whole key


@dataclass
class Collected:
    assets: list[AssetSpec] = field(default_factory=list)
    portals: list[PortalSpec] = field(default_factory=list)
    webhooks: list[WebhookSpec] = field(default_factory=list)
    prune: Prune = field(default_factory=Prune)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


class Builder:
    """Builds the model one document at a time (each tree can be freed after), then
    `finish()` gives the model with every problem and warning."""

    def __init__(self) -> None:
        self.out = Collected()
        # identity -> where it was first declared. Only a Location is kept, never the
        # document: each file's tree can then be freed as soon as it is built, so a large
        # load holds one file's tree at a time, not all of them.
        self.rids: dict[str, Location] = {}
        self.refs: dict[str, Location] = {}
        self.portal_names: dict[str, tuple[Location, bool]] = {}  # (where, as a subdomain)
        self.urls: dict[str, tuple[Location, bool]] = {}  # (where, secret)
        self.prune: dict[str, tuple[bool, Location]] = {}
        self.tag_sets: dict[frozenset[str], frozenset[str]] = {}

    def error(self, location: Location, message: str) -> None:
        self.out.problems.append(Problem(location, message))

    def document(self, doc: Document, skip: Skip) -> None:
        root = doc.root
        if not isinstance(root, PosDict) or ("", -1) in skip:
            return
        for key, handle in (
            ("assets", self.asset),
            ("portals", self.portal),
            ("webhooks", self.webhook),
        ):
            entries = root.get(key)
            if not isinstance(entries, PosList) or (key, -1) in skip:
                continue
            spots = entries.spots
            for index, entry in enumerate(entries):
                if skip and (key, index) in skip:
                    continue
                handle(doc, entry, spots[index])
        prune = root.get("prune")
        if isinstance(prune, PosDict) and ("prune", -1) not in skip:
            self.prune_of(doc, prune)

    # --- assets -----------------------------------------------------------------------

    def asset(self, doc: Document, entry: PosDict, spot: int) -> None:
        if "rid" in entry:
            by = "rid"
            seen = self.rids
        elif "reference_id" in entry:
            by = "reference_id"
            seen = self.refs
        else:
            self.error(doc.location(spot), "asset has no identity: give rid or reference_id")
            return
        ident = entry[by]
        ok = True
        if ident == "":
            self.error(doc.location(entry.value_spot(by)), f"{by} must not be empty")
            ok = False
        else:
            here = doc.location(entry.value_spot(by))
            first = seen.get(ident)
            if first is None:
                seen[ident] = here
            else:
                self.error(here, f"asset {by} {ident} is declared twice: here and at {first}")
                ok = False
        fields: dict[str, object] = {}
        for key, value in entry.items():
            if key == by:
                continue
            if key == "tags":
                tags = self.tags(doc, value)
                if tags is None:
                    ok = False
                fields[key] = tags
            elif key == "video_thumb_sec":
                fields[key] = int(value)  # the schema lets 15.0 through
            else:
                fields[key] = value
        if ok:
            self.out.assets.append(
                AssetSpec(by, ident, MappingProxyType(fields), doc.location(spot))
            )

    def tags(self, doc: Document, tags: PosList) -> frozenset[str] | None:
        trimmed = [t.strip() for t in tags]
        if "" not in trimmed and not any("," in t for t in trimmed):
            # Tag sets repeat across entries: share one frozenset per distinct set.
            tag_set = frozenset(trimmed)
            return self.tag_sets.setdefault(tag_set, tag_set)
        for index, tag in enumerate(trimmed):
            where = doc.location(tags.spots[index])
            if tag == "":
                self.error(where, f"tags[{index}] is empty")
            elif "," in tag:
                self.error(
                    where,
                    f"tags[{index}] {tag!r} contains a comma (the API's tag separator): "
                    "write each tag as its own item",
                )
        return None

    # --- portals ----------------------------------------------------------------------

    def portal(self, doc: Document, entry: PosDict, spot: int) -> None:
        ok = self.portal_name(doc, entry, "subdomain", entry["subdomain"], "subdomain")
        previously = entry.get("previously", ())
        for index, name in enumerate(previously):
            ok = self.portal_name(doc, previously, index, name, "name") and ok
        fields: dict[str, object] = {}
        for key in ("name", "visibility"):
            if key in entry:
                fields[key] = entry[key]
        if "settings" in entry:
            settings = self.settings(doc, entry["settings"])
            if settings is None:
                ok = False
            else:
                fields["settings"] = settings
        if ok:
            self.out.portals.append(
                PortalSpec(
                    entry["subdomain"],
                    tuple(previously),
                    MappingProxyType(fields),
                    doc.location(spot),
                )
            )

    def portal_name(
        self, doc: Document, holder: PosDict | PosList, key: object, name: str, what: str
    ) -> bool:
        here = doc.location(_value_spot(holder, key))
        first = self.portal_names.get(name)
        if first is None:
            self.portal_names[name] = (here, isinstance(holder, PosDict))
            return True
        where, first_as_subdomain = first
        if what == "subdomain" and first_as_subdomain:
            what_text = "portal subdomain"
        else:
            what_text = "portal name"
        self.error(here, f"{what_text} {name} is declared twice: here and at {where}")
        return False

    def settings(self, doc: Document, settings: PosDict) -> MappingProxyType | None:
        values: dict[str, str] = {}
        ok = True
        for key, value in settings.items():
            if key in RESERVED_PORTAL_PARAMS:
                own = key in ("name", "visibility", "subdomain")
                hint = f": use the portal's own {key} key" if own else ""
                self.error(
                    doc.location(settings.key_spot(key)),
                    f"settings.{key} is not allowed{hint}",
                )
                ok = False
            elif value.__class__ is str:
                values[key] = value
            elif value is True or value is False:
                values[key] = "true" if value else "false"
            else:  # a number, as written (1.10 stays "1.10")
                values[key] = doc.source_text(settings.value_spot(key), value)
        return MappingProxyType(values) if ok else None

    # --- webhooks ---------------------------------------------------------------------

    def webhook(self, doc: Document, entry: PosDict, spot: int) -> None:
        url = entry["url"]
        kind = entry.get("type", DEFAULT_WEBHOOK_TYPE)
        secret = kind == "slack"
        shown = mask_url(url) if secret else url
        ok = True
        parts = urlsplit(url)
        if parts.scheme.lower() != "https" or not parts.netloc:
            self.error(
                doc.location(entry.value_spot("url")),
                f"webhook url must be an https:// URL, got {shown!r}",
            )
            ok = False
        here = doc.location(entry.value_spot("url"))
        first = self.urls.get(url)
        if first is None:
            self.urls[url] = (here, secret)
        else:
            where, first_secret = first
            if first_secret:
                shown = mask_url(url)
            self.error(here, f"webhook url {shown} is declared twice: here and at {where}")
            ok = False
        key = entry.get("security_key")
        if secret and key is not None:
            self.error(
                doc.location(entry.key_spot("security_key")),
                "security_key is not used by slack webhooks: remove it",
            )
            ok = False
        events = entry["events"]
        for index, event in enumerate(events):
            if event in KNOWN_EVENTS or event in EVENT_WILDCARDS:
                continue
            where = doc.location(events.spots[index])
            if event.strip() == "" or "," in event:
                problem = "is empty" if not event.strip() else "contains a comma"
                self.error(where, f"event {event!r} {problem}: write one event name per item")
                ok = False
                continue
            message = f"unknown webhook event {event!r}"
            close = difflib.get_close_matches(event, sorted(KNOWN_EVENTS | EVENT_WILDCARDS), 1)
            if close:
                message += f" (did you mean '{close[0]}'?)"
            self.out.warnings.append(Problem(where, message, "warning"))
        if ok:
            # Where each secret came from, as written: `${NAME}` templates let a saved plan
            # resolve it again at apply time; a secret written out in the file has none.
            sources = []
            if key is not None:
                spot_of_key = entry.value_spot("security_key")
                sources.append(("security_key", doc.templates.get(spot_of_key, "")))
            if secret:
                sources.append(("url", doc.templates.get(entry.value_spot("url"), "")))
            self.out.webhooks.append(
                WebhookSpec(url, kind, frozenset(events), key, doc.location(spot), tuple(sources))
            )

    # --- prune ------------------------------------------------------------------------

    def prune_of(self, doc: Document, prune: PosDict) -> None:
        for key, value in prune.items():
            where = doc.location(prune.value_spot(key))
            first = self.prune.get(key)
            if first is None:
                self.prune[key] = (value, where)
            elif first[0] != value:
                self.error(
                    where,
                    f"prune.{key} is {_bool(value)} here but {_bool(first[0])} at {first[1]}",
                )

    def finish(self) -> Collected:
        out = self.out
        out.prune = Prune(
            portals=self.prune.get("portals", (False,))[0],
            webhooks=self.prune.get("webhooks", (False,))[0],
        )
        return out


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _value_spot(holder: PosDict | PosList, key: object) -> int:
    if isinstance(holder, PosDict):
        return holder.value_spot(key)  # type: ignore[arg-type]
    return holder.spots[key]  # type: ignore[index]
