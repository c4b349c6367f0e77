"""Portals: identified by subdomain; created, updated, renamed (`previously`), pruned."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.endpoints import RESERVED_PORTAL_PARAMS
from cincopa_sync.api.paging import READ_ATTEMPTS
from cincopa_sync.errors import Location, Problem, UnstableRead
from cincopa_sync.kinds.base import (
    ExportSink,
    Field,
    Kind,
    KindDiff,
    LiveObject,
    PlanOptions,
)
from cincopa_sync.manifest.yamlwrite import UNWRITABLE, comment, literal, quoted, writable
from cincopa_sync.plan import Change, FieldChange, Observed, plain
from cincopa_sync.shown import escape_controls

if TYPE_CHECKING:
    from cincopa_sync.api.paging import Reader
    from cincopa_sync.manifest.semantic import EntryContext

log = logging.getLogger("cincopa_sync.api")

SUBDOMAIN = ep.PORTAL_SUBDOMAIN
SETTINGS = ep.PORTAL_SETTINGS
PREVIOUSLY = "previously"
STATUS = ep.PORTAL_STATUS
ACTIVE = "active"  # managed state, derived from the live status
_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")


def _settings(value: object) -> dict[str, str]:
    """Settings as the API stores them: every value a string."""
    if not isinstance(value, Mapping):
        return {}
    return {str(k): _setting_text(v) for k, v in value.items()}


def _setting_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_active(status: object) -> bool:
    """A portal is active unless its status says otherwise (no status: active)."""
    return status in (None, "", ep.PORTAL_ACTIVE)


FIELDS = (
    Field("name"),
    Field("visibility"),
    Field(ACTIVE, _is_active, wire=STATUS),  # false: ceased (portal.cease), not deleted
    Field(SETTINGS, _settings, "map"),
)


@dataclass(frozen=True, slots=True)
class PortalSpec:
    subdomain: str
    previously: tuple[str, ...]
    fields: Mapping[str, object]  # name, visibility, active, settings: only those written
    location: Location

    @property
    def address(self) -> str:
        return f"portal.{self.subdomain}"

    def secrets(self) -> tuple[tuple[str, str], ...]:
        return ()


@dataclass
class PortalLive:
    objects: dict[str, LiveObject] = field(default_factory=dict)  # by subdomain
    # portal.check answers for the names a plan would create or rename to
    checks: dict[str, Mapping[str, object]] = field(default_factory=dict)


class PortalKind(Kind):
    name = "portal"
    plural = "portals"
    spec_class = PortalSpec
    key = SUBDOMAIN
    fields = FIELDS
    read_also = (Field(SUBDOMAIN), Field(STATUS))
    list_endpoint = ep.PORTAL_LIST
    prunable = True
    identity_fields = (SUBDOMAIN,)

    # -- manifest ---------------------------------------------------------------------

    def build(self, entry: EntryContext) -> PortalSpec | None:
        values = entry.entry
        ok = self._claim(entry, entry.at(SUBDOMAIN), values[SUBDOMAIN], as_subdomain=True)
        previously = values.get(PREVIOUSLY, ())
        for index, name in enumerate(previously):
            where = entry.item_at(previously, index)
            ok = self._claim(entry, where, name, as_subdomain=False) and ok
        fields: dict[str, object] = {
            k: values[k] for k in ("name", "visibility", ACTIVE) if k in values
        }
        if SETTINGS in values:
            settings = self._settings(entry, values[SETTINGS])
            if settings is None:
                ok = False
            else:
                fields[SETTINGS] = settings
        if not ok:
            return None
        return PortalSpec(
            values[SUBDOMAIN], tuple(previously), MappingProxyType(fields), entry.location
        )

    def _claim(
        self, entry: EntryContext, where: Location, name: str, *, as_subdomain: bool
    ) -> bool:
        first = entry.claim("portal name", name, where, as_subdomain)
        if first is None:
            return True
        earlier, earlier_as_subdomain = first
        what = "portal subdomain" if as_subdomain and earlier_as_subdomain else "portal name"
        entry.error(where, f"{what} {name} is declared twice: here and at {earlier}")
        return False

    def merge(self, earlier: PortalSpec, later: PortalSpec, wrote: frozenset[str]) -> PortalSpec:
        merged = super().merge(earlier, later, wrote)
        previously = later.previously if PREVIOUSLY in wrote else earlier.previously
        return replace(merged, previously=previously)

    def check_merged(self, specs: Sequence[PortalSpec]) -> list[Problem]:
        """A name (subdomain or earlier name) stays one portal's once the layers merge."""
        problems = []
        owner: dict[str, PortalSpec] = {}
        for spec in specs:
            for name in (spec.subdomain, *spec.previously):
                first = owner.get(name)
                if first is None:
                    owner[name] = spec
                    continue
                # (Within one spec no name repeats: `previously` comes whole from one entry,
                # which named the subdomain too, and that entry's own checks ran.)
                problems.append(
                    Problem(
                        spec.location,
                        f"portal name {name} is declared twice: here and at {first.location} "
                        "once the layers are merged",
                    )
                )
        return problems

    def _settings(
        self, entry: EntryContext, settings: Mapping[str, object]
    ) -> MappingProxyType | None:
        values: dict[str, str] = {}
        ok = True
        for key, value in settings.items():
            if key in RESERVED_PORTAL_PARAMS:
                own = key in ("name", "visibility", SUBDOMAIN)
                hint = f": use the portal's own {key} key" if own else ""
                entry.error(entry.key_of(settings, key), f"settings.{key} is not allowed{hint}")
                ok = False
            elif not writable(key, one_line=True):  # the schema's rule for one-line text
                where = entry.key_of(settings, key)
                entry.error(
                    where, f"settings key '{escape_controls(key)}' holds a control character"
                )
                ok = False
            elif value.__class__ is str:
                values[key] = value  # type: ignore[assignment]
            elif value is True or value is False:
                values[key] = "true" if value else "false"
            else:  # a number, as written (1.10 stays "1.10")
                values[key] = entry.written(settings, key)
        return MappingProxyType(values) if ok else None

    # -- live -------------------------------------------------------------------------

    def read(self, reader: Reader, specs: Sequence[PortalSpec], prune: bool) -> PortalLive:
        """The listing, and portal.check for the names a plan would create or rename to:
        only portal.check can tell that another account owns one. It says "taken" for this
        account's own portals too, so a name it calls taken is looked for in a listing read
        after the check: a portal this account created or renamed in between is read again
        with the account, never reported as someone else's."""
        listing = self.reread(reader, ())
        for _ in range(READ_ATTEMPTS):
            live = PortalLive(listing)
            names = sorted({s.subdomain for s in specs if s.subdomain not in listing})
            answers = reader.map(lambda name: reader.client.call(ep.portal_check(name)), names)
            live.checks = dict(zip(names, answers, strict=True))
            taken = [n for n, a in live.checks.items() if a.get(ep.PORTAL_CHECK_AVAILABLE) is False]
            if not taken:
                return live
            listing = self.reread(reader, ())
            appeared = [name for name in taken if name in listing]
            if not appeared:
                return live  # taken, and not by this account
            log.info("portal.list: %s appeared since it was read; reading again", appeared[0])
        raise UnstableRead(
            ep.PORTAL_LIST,
            f"portal {appeared[0]!r} appeared while the account was read (this account created "
            f"or renamed it between portal.list and portal.check), {READ_ATTEMPTS} time(s) in "
            "a row; nothing was planned from it. Run again when the account has settled",
        )

    def reread(self, reader: Reader, keys: Iterable[str]) -> dict[str, LiveObject]:
        return self.whole_listing(reader)

    def export_read(self, reader: Reader) -> list[LiveObject]:
        return list(self.reread(reader, ()).values())

    def live_from_json(self, data: Mapping[str, Any]) -> PortalLive:
        live = PortalLive(self.by_key(map(self.parse, data.get(self.plural, []))))
        live.checks = {k: dict(v) for k, v in data.get("checks", {}).items()}
        return live

    # -- diff -------------------------------------------------------------------------

    def diff(
        self, specs: Sequence[PortalSpec], live: PortalLive, prune: bool, options: PlanOptions
    ) -> tuple[KindDiff, list[Problem]]:
        out, problems = KindDiff(), []
        accounted: set[str] = set()  # live subdomains some manifest entry speaks for
        portals = live.objects
        for spec in specs:
            old_names = [name for name in spec.previously if name in portals]
            change: Change | None
            if spec.subdomain in portals:
                if old_names:
                    problems.append(
                        Problem(
                            spec.location,
                            f"portal {spec.subdomain!r} and its earlier name "
                            f"{old_names[0]!r} both exist: remove one by hand or drop it from "
                            "`previously`",
                        )
                    )
                    continue
                accounted.add(spec.subdomain)
                change = self._update(spec, portals[spec.subdomain])
            elif len(old_names) > 1:
                problems.append(
                    Problem(
                        spec.location,
                        f"several earlier names of portal {spec.subdomain!r} exist "
                        f"({', '.join(old_names)}): cannot tell which to rename",
                    )
                )
                continue
            elif live.checks.get(spec.subdomain, {}).get(ep.PORTAL_CHECK_AVAILABLE, True) is False:
                problems.append(
                    Problem(
                        spec.location,
                        f"portal subdomain {spec.subdomain!r} is taken by another account",
                    )
                )
                continue
            elif old_names:
                accounted.add(old_names[0])
                change = self._rename(spec, old_names[0], portals[old_names[0]])
            else:
                change = self._create(spec)
            if change is not None:
                out.changes.append(change)
        self.prune(out, portals, accounted, prune)
        return out, problems

    def delete_change(self, key: str, current: LiveObject) -> Change:
        return Change(
            f"portal.{key}",
            self.name,
            "delete",
            (FieldChange(SUBDOMAIN, key, None),),
            (ep.portal_remove(key),),
            notes=("no manifest names it and prune.portals is on",),
            observed=(Observed(self.name, key, ()),),
        )

    def _update(self, spec: PortalSpec, current: LiveObject) -> Change | None:
        diffs = self.changes_of(spec.fields, current)
        if not diffs:
            return None
        calls, notes = _writes(spec, diffs, current)
        return Change(
            spec.address,
            self.name,
            "update",
            tuple(diffs),
            calls,
            spec.location,
            notes,
            observed=(Observed(self.name, spec.subdomain, self.seen(spec.fields, current)),),
        )

    def _rename(self, spec: PortalSpec, old: str, current: LiveObject) -> Change:
        diffs = self.changes_of(spec.fields, current)
        calls, notes = _writes(spec, diffs, current)
        seen = (
            Observed(self.name, old, self.seen(spec.fields, current)),
            Observed(self.name, spec.subdomain, None),
        )
        return Change(
            spec.address,
            self.name,
            "rename",
            (FieldChange(SUBDOMAIN, old, spec.subdomain), *diffs),
            (ep.portal_rename(old, spec.subdomain), *calls),
            spec.location,
            notes,
            observed=seen,
        )

    def _create(self, spec: PortalSpec) -> Change:
        fields = [FieldChange(SUBDOMAIN, None, spec.subdomain)]
        fields += [
            FieldChange(f.name, None, plain(spec.fields[f.name]))
            for f in self.fields
            if f.name in spec.fields and spec.fields[f.name] not in (None, {})
        ]
        calls = [ep.portal_set(spec.subdomain, dict(spec.fields))]
        if spec.fields.get(ACTIVE) is False:  # created active, then switched off
            calls.append(ep.portal_cease(spec.subdomain))
        return Change(
            spec.address,
            self.name,
            "create",
            tuple(fields),
            tuple(calls),
            spec.location,
            creates=True,
            observed=(Observed(self.name, spec.subdomain, None),),
        )

    # -- export -----------------------------------------------------------------------

    def export_entry(self, obj: LiveObject, sink: ExportSink) -> tuple[str | None, str]:
        return _entry(obj)


def _writes(
    spec: PortalSpec, diffs: list[FieldChange], current: LiveObject
) -> tuple[tuple[ep.Call, ...], tuple[str, ...]]:
    """The calls of the differing fields, and the notes they need.

    One portal.set carries the changed fields; it also makes a ceased portal active
    again, so it is sent for `active: true` alone, and a portal that is to be off gets
    its portal.cease after any portal.set.
    """
    changed = {d.field: d.after for d in diffs if d.field != ACTIVE}
    wanted = spec.fields.get(ACTIVE)  # None: the state is not managed
    was_active = current.get(ACTIVE) is not False
    calls = []
    if changed or (wanted is True and not was_active):
        calls.append(ep.portal_set(spec.subdomain, changed))
    if wanted is False and (calls or was_active):
        calls.append(ep.portal_cease(spec.subdomain))
    notes: tuple[str, ...] = ()
    if changed and not was_active:
        status = current.get(STATUS)
        if wanted is None:
            notes = (f"the portal is {status}: writing it makes it active again",)
        elif wanted is False:
            notes = (f"the portal is {status}: portal.set makes it active, portal.cease after it",)
    return tuple(calls), notes


def _entry(portal: LiveObject) -> tuple[str | None, str]:
    subdomain = str(portal[SUBDOMAIN])
    settings: dict[str, str] = dict(portal.get(SETTINGS) or {})  # type: ignore[call-overload]
    if not _DNS_LABEL.match(subdomain):
        return None, f"portal {subdomain!r}: the subdomain is not a DNS label a manifest accepts"
    texts = [portal.get("name"), *settings.values()]
    if not (
        all(writable(v) for v in texts if isinstance(v, str))
        and all(writable(k, one_line=True) for k in settings)
    ):
        return (
            None,
            f"portal {subdomain}: {UNWRITABLE}",
        )
    reserved = sorted(set(settings) & RESERVED_PORTAL_PARAMS)
    if reserved:
        return None, f"portal {subdomain}: settings {reserved} are not allowed in a manifest"
    lines = [f"  - subdomain: {literal(subdomain)}"]
    status = str(portal.get(STATUS) or ep.PORTAL_ACTIVE)
    if status not in (ep.PORTAL_ACTIVE, ep.PORTAL_CEASED):
        # A status a manifest cannot say: a reviewer should know, and that any portal.set
        # (a later change to this entry) makes the portal active again.
        note = f"status: {status} (not managed; any change to this portal makes it active)"
        lines.append("    " + comment(note))
    lines.append(f"    name: {literal(str(portal.get('name') or ''))}")
    if portal.get("visibility") in ("public", "private"):
        lines.append(f"    visibility: {literal(str(portal['visibility']))}")
    if status == ep.PORTAL_CEASED:
        lines.append(f"    {ACTIVE}: false")
    if settings:
        lines.append("    settings:")
        lines += [f"      {quoted(k)}: {literal(settings[k])}" for k in sorted(settings)]
    return "\n".join(lines) + "\n", ""
