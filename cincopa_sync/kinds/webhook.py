"""Webhooks: identified by URL (a Slack one is itself a secret); keys are write-only."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cincopa_sync.api import endpoints as ep
from cincopa_sync.errors import Location, Problem
from cincopa_sync.kinds.base import (
    ExportSink,
    Field,
    Kind,
    KindDiff,
    LiveObject,
    PlanOptions,
    flag,
    text,
)
from cincopa_sync.manifest.yamlwrite import (
    UNWRITABLE,
    comment,
    flow_list,
    literal,
    quoted,
    reference,
    writable,
)
from cincopa_sync.plan import Change, FieldChange, Observed, plain
from cincopa_sync.shown import NONE, SENSITIVE, SET, unresolved_names

if TYPE_CHECKING:
    from cincopa_sync.api.paging import Reader
    from cincopa_sync.manifest.semantic import EntryContext

URL = "url"
TYPE = "type"
EVENTS = "events"
SECURITY_KEY = "security_key"
HAS_KEY = "has_security_key"
HTTP, SLACK = "http", "slack"
WEBHOOK_TYPES = (HTTP, SLACK)
DEFAULT_WEBHOOK_TYPE = HTTP

# Event names from Cincopa's guide and integrations.
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

FIELDS = (
    Field(TYPE, lambda v: text(v) or DEFAULT_WEBHOOK_TYPE, wire=ep.HOOK_TYPE),
    Field(EVENTS, ep.parse_list, "set", wire=ep.HOOK_EVENTS),  # a comma list, like tags
    Field(HAS_KEY, flag, wire=ep.HOOK_HAS_KEY),  # whether a (write-only) key is set
)


_SHOWN_HOST = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]{1,5})?")


def mask_url(url: str) -> str:
    """Keep scheme and host of a secret URL, hide the rest, and stay distinct per URL.

    Only a plain host is shown: userinfo (`user:pass@`), the path, a query, a fragment
    and anything after a backslash are not; a host that is not plain is hidden too."""
    scheme, sep, rest = url.partition("://")
    shown_scheme = scheme.lower() if sep and scheme.isascii() and scheme.isalpha() else "?"
    authority = re.split(r"[/?#\\]", rest, maxsplit=1)[0] if sep else ""
    host = authority.rpartition("@")[2]
    if not _SHOWN_HOST.fullmatch(host):
        host = SENSITIVE
    digest = hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{shown_scheme}://{host}/({SENSITIVE.strip('()')}:{digest})"


def webhook_address(url: str, *, secret: bool) -> str:
    return f"webhook.{mask_url(url) if secret else url}"


@dataclass(frozen=True, slots=True)
class WebhookSpec:
    url: str
    type: str  # HTTP | SLACK
    events: frozenset[str]
    security_key: str | None = field(repr=False)  # None: the manifest manages no key
    location: Location
    # (field, the value as written, e.g. "${CINCOPA_HOOK_KEY}") for each secret field;
    # "" when the secret is written out in the manifest itself. Not in a saved plan, which
    # keeps its own references.
    secret_templates: tuple[tuple[str, str], ...] = field(
        default=(), repr=False, compare=False, metadata={"saved": False}
    )

    @property
    def url_is_secret(self) -> bool:
        # A Slack incoming-webhook URL carries its own credential.
        return self.type == SLACK

    @property
    def address(self) -> str:
        return webhook_address(self.url, secret=self.url_is_secret)

    def secrets(self) -> tuple[tuple[str, str], ...]:
        written = dict(self.secret_templates)
        found = [(SECURITY_KEY, self.security_key)] + (
            [(URL, self.url)] if self.url_is_secret else []
        )
        return tuple((value, written.get(name, "")) for name, value in found if value)


@dataclass
class WebhookLive:
    objects: dict[str, LiveObject] = field(default_factory=dict)  # by URL


class WebhookKind(Kind):
    name = "webhook"
    plural = "webhooks"
    spec_class = WebhookSpec
    key = URL
    fields = FIELDS
    read_also = (Field(URL, wire=ep.HOOK_URL),)
    list_endpoint = ep.WEBHOOK_LIST
    prunable = True
    identity_fields = (URL,)
    deletes_need_creates = True
    send_only = (SECURITY_KEY,)

    # -- manifest ---------------------------------------------------------------------

    def build(self, entry: EntryContext) -> WebhookSpec | None:
        values = entry.entry
        url = values[URL]
        kind = values.get(TYPE, DEFAULT_WEBHOOK_TYPE)
        secret = kind == SLACK
        shown = mask_url(url) if secret else url
        ok = True  # the schema checked that the URL is https:// with a host
        here = entry.at(URL)
        first = entry.claim("webhook url", url, here, secret)
        if first is not None:
            where, first_secret = first
            if first_secret:
                shown = mask_url(url)
            entry.error(here, f"webhook url {shown} is declared twice: here and at {where}")
            ok = False
        key = values.get(SECURITY_KEY)
        ok = self._check_secrets(entry) and ok
        ok = self._check_events(entry, values[EVENTS]) and ok
        if not ok:
            return None
        # Where each secret came from, as written: `${NAME}` templates let a saved plan
        # resolve it again at apply time; a secret written out in the file has none.
        sources = []
        if key is not None:
            sources.append((SECURITY_KEY, entry.template(SECURITY_KEY)))
        if secret:
            sources.append((URL, entry.template(URL)))
        events = frozenset(values[EVENTS])
        return WebhookSpec(url, kind, events, key, entry.location, tuple(sources))

    def secret_keys(self, entry: Mapping[str, object]) -> tuple[str, ...]:
        return (SECURITY_KEY, URL) if entry.get(TYPE) == SLACK else (SECURITY_KEY,)

    # -- layers -----------------------------------------------------------------------

    def identity(self, spec: WebhookSpec) -> str:
        return spec.url  # the address also depends on the type (a Slack URL is masked)

    def merge(self, earlier: WebhookSpec, later: WebhookSpec, wrote: frozenset[str]) -> WebhookSpec:
        kind = later.type if TYPE in wrote else earlier.type
        keyed = later if SECURITY_KEY in wrote else earlier
        written = {**dict(earlier.secret_templates), **dict(later.secret_templates)}
        sources = []
        if keyed.security_key is not None:
            sources.append((SECURITY_KEY, dict(keyed.secret_templates).get(SECURITY_KEY, "")))
        if kind == SLACK:
            sources.append((URL, written.get(URL, "")))
        return replace(
            later,
            type=kind,
            events=later.events if EVENTS in wrote else earlier.events,
            security_key=keyed.security_key,
            secret_templates=tuple(sources),
        )

    def check_merged(self, specs: Sequence[WebhookSpec]) -> list[Problem]:
        return [
            Problem(
                spec.location,
                "security_key is not used by slack webhooks: once the layers are merged, this "
                "slack webhook has one (remove it from the layer that writes it)",
            )
            for spec in specs
            if spec.type == SLACK and spec.security_key is not None
        ]

    def check_parts(self, entry: EntryContext) -> None:
        """The checks of an entry the schema rejected that still apply to the keys it got
        right: the secrets written out, the events (every problem at once)."""
        values = entry.entry
        events = values.get(EVENTS)
        if isinstance(events, list) and all(isinstance(e, str) for e in events):
            self._check_events(entry, events)
        typed = isinstance(values.get(URL), str) and values.get(TYPE) in (*WEBHOOK_TYPES, None)
        if typed and isinstance(values.get(SECURITY_KEY, ""), str):
            self._check_secrets(entry)

    def _check_secrets(self, entry: EntryContext) -> bool:
        """A key or Slack URL written out in the file is an error (it would be committed);
        a key on a Slack hook has no use. A value interpolation could not expand was
        reported already."""
        values = entry.entry
        url, key = values[URL], values.get(SECURITY_KEY)
        slack = values.get(TYPE, DEFAULT_WEBHOOK_TYPE) == SLACK
        ok = True
        if slack and key is not None:
            entry.error(
                entry.key_at(SECURITY_KEY), "security_key is not used by slack webhooks: remove it"
            )
            ok = False
        elif (
            key  # "" is the schema's to report
            and not entry.unexpanded(SECURITY_KEY)
            and not entry.from_environment(SECURITY_KEY)
        ):
            entry.error(entry.at(SECURITY_KEY), _written_out(SECURITY_KEY, key, "CINCOPA_HOOK_KEY"))
            ok = False
        if slack and not entry.unexpanded(URL) and not entry.from_environment(URL):
            entry.error(
                entry.at(URL), _written_out("a Slack webhook's url", url, "SLACK_WEBHOOK_URL")
            )
            ok = False
        return ok

    def _check_events(self, entry: EntryContext, events: list[str]) -> bool:
        """Unknown events are warnings (with a "did you mean"); empty ones or ones with a
        comma are errors."""
        ok = True
        for index, event in enumerate(events):
            if event in KNOWN_EVENTS or event in EVENT_WILDCARDS:
                continue
            where = entry.item_at(events, index)
            if event.strip() == "" or "," in event:
                problem = "is empty" if not event.strip() else "contains a comma"
                entry.error(where, f"event {event!r} {problem}: write one event name per item")
                ok = False
                continue
            message = f"unknown webhook event {event!r}"
            close = difflib.get_close_matches(event, sorted(KNOWN_EVENTS | EVENT_WILDCARDS), 1)
            if close:
                message += f" (did you mean '{close[0]}'?)"
            entry.warn(where, message)
        return ok

    # -- live -------------------------------------------------------------------------

    def read(self, reader: Reader, specs: Sequence[WebhookSpec], prune: bool) -> WebhookLive:
        return WebhookLive(self.reread(reader, ()))

    def reread(self, reader: Reader, keys: Iterable[str]) -> dict[str, LiveObject]:
        return self.whole_listing(reader)

    def export_read(self, reader: Reader) -> list[LiveObject]:
        return list(self.reread(reader, ()).values())

    def live_from_json(self, data: Mapping[str, Any]) -> WebhookLive:
        return WebhookLive(self.by_key(map(self.parse, data.get(self.plural, []))))

    # -- diff -------------------------------------------------------------------------

    def diff(
        self, specs: Sequence[WebhookSpec], live: WebhookLive, prune: bool, options: PlanOptions
    ) -> tuple[KindDiff, list[Problem]]:
        out = KindDiff()
        for spec in specs:
            current = live.objects.get(spec.url)
            change = self._create(spec) if current is None else self._update(spec, current, options)
            if change is not None:
                out.changes.append(change)
        keyed = [c.address for c in out.changes if _sends_key(c)]
        if keyed:  # said when it matters: the plan writes a hook with its key
            out.notes.append(
                (
                    "security keys cannot be read back: a key is written when a hook has "
                    "none, whenever its hook is written anyway, and for every hook with "
                    "--resend-secrets",
                    keyed,
                )
            )
        self.prune(out, live.objects, {s.url for s in specs}, prune)
        return out, []

    def delete_change(self, key: str, current: LiveObject) -> Change:
        slack = current.get(TYPE) == SLACK
        return Change(
            webhook_address(key, secret=slack),
            self.name,
            "delete",
            (FieldChange(URL, mask_url(key) if slack else key, None, sensitive=slack),),
            (ep.webhook_delete(key, slack=slack),),
            notes=("no manifest names it and prune.webhooks is on",),
            observed=(Observed(self.name, key, ()),),
        )

    def _key_notes(self, spec: WebhookSpec, call: ep.Call) -> tuple[str, ...]:
        """Say so when the key this change sends comes from variables that are not set."""
        names = unresolved_names(v for _, v in call.params)
        if not names:
            return ()
        return (
            f"{', '.join(names)} is not set: apply needs it to send this hook's key "
            "(and stops before any write without it)",
        )

    def _call(self, spec: WebhookSpec) -> ep.Call:
        return ep.webhook_set(spec.url, spec.events, spec.security_key, slack=spec.type == SLACK)

    def _create(self, spec: WebhookSpec) -> Change:
        fields = [
            FieldChange(
                URL, None, spec.address.removeprefix("webhook."), sensitive=spec.url_is_secret
            ),
            FieldChange(TYPE, None, spec.type),
            FieldChange(EVENTS, None, plain(spec.events)),
        ]
        if spec.security_key:
            fields.append(FieldChange(SECURITY_KEY, None, SENSITIVE, sensitive=True))
        call = self._call(spec)
        return Change(
            spec.address,
            self.name,
            "create",
            tuple(fields),
            (call,),
            spec.location,
            self._key_notes(spec, call),
            creates=True,
            observed=(Observed(self.name, spec.url, None),),
        )

    def _update(
        self, spec: WebhookSpec, current: LiveObject, options: PlanOptions
    ) -> Change | None:
        diffs = self.changes_of({TYPE: spec.type, EVENTS: spec.events}, current)
        notes = []
        if spec.security_key and spec.type == HTTP:
            if not current.get(HAS_KEY):
                diffs.append(FieldChange(SECURITY_KEY, NONE, SENSITIVE, sensitive=True))
            elif options.resend_secrets:
                diffs.append(FieldChange(SECURITY_KEY, SET, SENSITIVE, sensitive=True))
                notes.append("the key is sent again (--resend-secrets)")
            elif diffs:
                notes.append("the key cannot be compared; it is sent with the hook")
        if not diffs:
            return None
        call = self._call(spec)
        return Change(
            spec.address,
            self.name,
            "update",
            tuple(diffs),
            (call,),
            spec.location,
            (*notes, *self._key_notes(spec, call)),
            observed=(Observed(self.name, spec.url, self.seen([TYPE, EVENTS, HAS_KEY], current)),),
        )

    # -- apply ------------------------------------------------------------------------

    def holds(self, fc: FieldChange, current: LiveObject) -> tuple[bool, object]:
        if fc.field == SECURITY_KEY:  # write-only: the list says only whether one is set
            return bool(current.get(HAS_KEY)), NONE
        return super().holds(fc, current)

    # -- export -----------------------------------------------------------------------

    def export_entry(self, obj: LiveObject, sink: ExportSink) -> tuple[str | None, str]:
        """A key as CINCOPA_HOOK_KEY_<N>, a Slack URL as SLACK_WEBHOOK_URL_<N>, numbered
        in file order, both noted in `sink.variables`."""
        return _entry(obj, sink.variables)


def _written_out(what: str, value: str, example: str) -> str:
    """A secret written out in a manifest: it would be committed, and no saved plan could
    carry it."""
    message = (
        f"{what} is written out in the manifest, which is committed with it: take it from "
        f"the environment, e.g. ${{{example}}}"
    )
    bare = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", value)
    if bare:
        message += f" (did you mean '${{{bare.group(1)}}}'?)"
    return message


def _sends_key(change: Change) -> bool:
    return any(call.param(ep.HOOK_SECURITY_KEY) is not None for call in change.calls)


def _entry(hook: LiveObject, variables: list[tuple[str, str]]) -> tuple[str | None, str]:
    url, kind = str(hook[URL]), str(hook.get(TYPE) or HTTP)
    events = sorted(hook.get(EVENTS) or ())  # type: ignore[call-overload]
    slack = kind == SLACK
    # For messages and comments: masked when secret, line breaks escaped.
    shown = comment(mask_url(url) if slack else url)[2:]
    if not writable(url, one_line=True):
        return None, f"webhook {shown}: {UNWRITABLE}"
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.netloc:
        return None, f"webhook {shown}: a manifest takes only https:// URLs"
    if kind not in WEBHOOK_TYPES:
        return None, f"webhook {shown}: type {kind!r} is not one a manifest knows"
    if not events:
        return None, f"webhook {shown}: it has no events (a manifest needs at least one)"
    if not all(writable(e, one_line=True) for e in events):
        return (
            None,
            f"webhook {shown}: {UNWRITABLE}",
        )
    events_text = f"    events: {flow_list(events)}"
    if slack:
        name = f"SLACK_WEBHOOK_URL_{sum(v.startswith('SLACK_') for v, _ in variables) + 1}"
        variables.append((name, f"the URL of the Slack webhook {shown}"))
        lines = [
            "  " + comment(f"a Slack webhook's URL is a secret: set {name} to the URL of {shown}"),
            f"  - url: {reference(name)}",
            f"    type: {quoted(SLACK)}",
            events_text,
        ]
        return "\n".join(lines) + "\n", ""
    lines = [f"  - url: {literal(url)}", events_text]
    if hook.get(HAS_KEY):
        name = f"CINCOPA_HOOK_KEY_{sum(v.startswith('CINCOPA_') for v, _ in variables) + 1}"
        variables.append((name, f"the security key of the webhook {shown}"))
        lines.append("    " + comment(f"the API never returns a key: set {name} to this one"))
        lines.append(f"    security_key: {reference(name)}")
    return "\n".join(lines) + "\n", ""
