"""The saved-plan format: `plan --out FILE` writes one, `apply --plan FILE` reads it.

A saved plan records what it was planned from, as Terraform's does: the desired state
(each kind's specs, `Kind.spec_to_json`), the plan options and `--target` patterns, the
API, environment and account. `apply --plan` plans again from that desired state against
the account as it is then, and applies only what it derived itself, and only when that
is exactly the recorded changes (engine/staleness.py). The recorded changes, and the
review section people read (the plan's JSON), are kept to compare with and to show.

The file holds no secret and no token. Every secret (webhook keys, Slack URLs) is a
reference: a template of environment variables to resolve again at apply time, or, for
an object being deleted whose key is a secret, found again among the live objects of its
kind; each checked against a salted digest taken at plan time. The file is checked with a
SHA-256 checksum (damage), and, with CINCOPA_SYNC_PLAN_KEY, signed with an HMAC-SHA256 of
its content: without the key, anyone who can edit the file can recompute the checksum.

Reading is strict: anything this version would not have written is exit 3, with where in
the file; a missing or wrong signature when a key is given is exit 4.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets as random_secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from cincopa_sync import __version__
from cincopa_sync.api.endpoints import ENDPOINTS, Call
from cincopa_sync.errors import InvalidInput, Location, Problem, Refused
from cincopa_sync.files import read_bounded, write_atomic
from cincopa_sync.kinds import get, kinds
from cincopa_sync.kinds.base import PlanOptions
from cincopa_sync.manifest.interpolate import FORBIDDEN, template_parts
from cincopa_sync.manifest.model import DesiredState, Origins
from cincopa_sync.plan import ACTIONS, Change, FieldChange, Observed, Plan, PlanContext
from cincopa_sync.shown import Unresolved

FORMAT = "cincopa-sync saved plan"
FORMAT_VERSION = 3
FROM_ENVIRONMENT = "environment"
FROM_LIVE = "live"  # the key of a live object being deleted, found again by its digest
# A saved plan larger than this is refused from its size (see docs/reliability.md).
MAX_PLAN_BYTES = 256 * 1024 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Ref(str):
    """A secret not resolved yet: the reference's name, never the value."""


@dataclass(frozen=True)
class SavedPlan:
    path: str
    api_identity: str
    manifest_digest: str
    allow_deletes: bool
    plan: Plan  # the recorded changes, secret values as Ref: to show, target and compare
    recorded: tuple[Mapping[str, Any], ...]  # the same changes as the file holds them
    review: Mapping[str, Any]
    secrets: Mapping[str, Mapping[str, Any]]  # reference -> where its value comes from
    salt: str
    specs: Mapping[str, tuple[Any, ...]]  # kind -> its specs as JSON
    prune: Mapping[str, bool]
    origins: Mapping[str, Origins]
    options: PlanOptions
    warnings: tuple[Problem, ...]  # the manifests' own, as they were when it was planned
    signed: bool

    @property
    def targets(self) -> tuple[str, ...]:
        """The --target patterns it was planned with."""
        return self.plan.targets

    def desired(self, kind_names: Sequence[str], reveal: Callable[[str], str]) -> DesiredState:
        """The recorded desired state of these kinds, every secret from `reveal`;
        InvalidInput when a spec is not one this version writes."""
        specs: dict[str, tuple[Any, ...]] = {}
        for name in kind_names:
            kind = get(name)
            built = []
            for index, data in enumerate(self.specs.get(name, ())):
                try:
                    built.append(kind.spec_from_json(data, reveal))
                except ValueError as exc:
                    raise self.damaged(f"desired.specs.{name}[{index}]", str(exc)) from None
            specs[name] = tuple(built)
        prune = {name: self.prune.get(name, False) for name in kind_names}
        return DesiredState(specs=specs, prune=prune, origins=self.origins, warnings=self.warnings)

    def damaged(self, where: str, why: str) -> InvalidInput:
        return InvalidInput(f"{self.path}: the saved plan is damaged: {where}: {why}")


def digest(salt: str, value: str) -> str:
    return hashlib.sha256(f"{salt}\0{value}".encode()).hexdigest()


def sign(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


# -- writing ------------------------------------------------------------------------


def write_saved_plan(
    path: str | os.PathLike[str],
    plan: Plan,
    desired: DesiredState,
    *,
    api_identity: str,
    review: Mapping[str, Any],
    allow_deletes: bool = False,
    options: PlanOptions | None = None,
    key: str | None = None,
) -> tuple[str, ...]:
    """Write `plan` and what it was planned from atomically, mode 0600, with `review`
    (what people read) beside it, signed with `key` when one is given. InvalidInput if a
    secret of the manifests is written out in one (it could only be saved by saving it).
    Returns the templates of the secrets it records by reference, as written."""
    salt = random_secrets.token_hex(16)
    refs: dict[str, str] = {}  # secret value -> reference
    sources: dict[str, dict[str, Any]] = {}
    problems = []
    templates: list[str] = []

    def reference(value: str, source: dict[str, Any]) -> str:
        if value not in refs:
            refs[value] = f"s{len(refs) + 1}"
            # A secret unset when planning was not planned with a value: any will do later.
            known = None if isinstance(value, Unresolved) else digest(salt, value)
            sources[refs[value]] = {**source, "digest": known}
        return refs[value]

    for spec in desired.all_specs():
        for value, template in spec.secrets():
            if "${" not in template.replace("$${", ""):
                problems.append(f"{spec.location}: {spec.address} holds a secret written out")
                continue
            reference(value, {"from": FROM_ENVIRONMENT, "template": template_parts(template)})
            templates.append(template)
    for change in plan.changes:
        for call in change.calls:
            for name, value in call.params:
                if name in call.secret and value not in refs:  # a live object's, deleted
                    reference(value, {"from": FROM_LIVE, "kind": change.kind})
    if problems:
        raise InvalidInput(
            [
                Problem(None, f"{p}: a saved plan can only carry secrets given as ${{NAME}}")
                for p in problems
            ]
        )

    def secret(value: str) -> dict[str, str]:
        return {"secret": refs[value]}

    body = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tool_version": __version__,
        "api": api_identity,
        # Where the plan is for: `apply --plan` refuses another account, or environment.
        **_context_out(plan),
        "manifest_digest": desired.digest,
        "allow_deletes": allow_deletes,
        "options": asdict(options or PlanOptions()),
        "salt": salt,
        "secrets": sources,
        "desired": {
            "prune": dict(desired.prune),
            "specs": {
                kind.name: [kind.spec_to_json(s, secret) for s in desired.of(kind.name)]
                for kind in kinds()
                if desired.of(kind.name)
            },
            "origins": {
                address: [[str(where), sorted(keys)] for where, keys in origins.entries]
                for address, origins in desired.origins.items()
            },
            "warnings": _problems_out(desired.warnings),
        },
        "review": dict(review),
        "changes": changes_as_written(plan.changes, refs),
        "notes": list(plan.notes),
        "unmanaged": dict(plan.unmanaged),
        "live_counts": dict(plan.live_counts),
        # as reviewed (and shown by `show`): what plan warned of, what --target cut
        "warnings": _problems_out(plan.warnings),
        "targets": list(plan.targets),
        "left_out": plan.left_out,
        "drift_adopted": None if plan.drift_adopted is None else list(plan.drift_adopted),
    }
    text = _canonical(body)
    document: dict[str, Any] = {"checksum": hashlib.sha256(text.encode()).hexdigest()}
    if key:
        document["signature"] = sign(key, text)
    document.update(body)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
    write_atomic(Path(path), text, mode=0o600)  # the owner only: it is an approval
    return tuple(templates)


def _canonical(body: Mapping[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _problems_out(problems: Sequence[Problem]) -> list[dict[str, Any]]:
    return [
        {"location": str(p.location) if p.location else None, "message": p.message}
        for p in problems
    ]


def _context_out(plan: Plan) -> dict[str, Any]:
    ctx = plan.context
    if ctx is None:  # only the CLI saves plans, and it always knows where a plan is for
        raise ValueError("a plan is saved with the account it was made for")
    return {"environment": ctx.environment, "account": ctx.account, "api_host": ctx.api_host}


def changes_as_written(changes: Sequence[Change], refs: Mapping[str, str]) -> list[dict[str, Any]]:
    """Changes as a saved plan holds them, each secret value as its reference."""
    return [_change_out(c, refs) for c in changes]


def _scrub(value: Any, refs: Mapping[str, str]) -> Any:
    """JSON-able, with every secret value replaced by its reference."""
    if isinstance(value, str):
        return {"secret": refs[value]} if value in refs else value
    if isinstance(value, tuple | list):
        return {"tuple": [_scrub(v, refs) for v in value]}
    if isinstance(value, Mapping):
        return {"dict": {k: _scrub(v, refs) for k, v in value.items()}}
    return value


def _plain(value: Any) -> Any:
    """JSON-able, as _scrub writes it, with no reference."""
    return _scrub(value, {})


def _change_out(change: Change, refs: Mapping[str, str]) -> dict[str, Any]:
    return {
        "address": change.address,
        "kind": change.kind,
        "action": change.action,
        "location": str(change.location) if change.location else None,
        "creates": change.creates,
        "notes": list(change.notes),
        # Only what is secret is written as a reference: public text that equals a
        # secret's value or stand-in stays text (and is never read back as the secret).
        "fields": [
            [
                f.field,
                *(_scrub(v, refs) if f.sensitive else _plain(v) for v in (f.before, f.after)),
                f.sensitive,
            ]
            for f in change.fields
        ],
        "calls": [
            {
                "endpoint": c.endpoint,
                "params": [[k, _scrub(v, refs) if k in c.secret else v] for k, v in c.params],
                "secret": sorted(c.secret),
                "deferred": sorted(c.deferred),
            }
            for c in change.calls
        ],
        "observed": [
            {"kind": o.kind, "key": _scrub(o.key, refs), "fields": _scrub(o.fields, refs)}
            for o in change.observed
        ],
        "origin": change.origin,
    }


# -- reading ------------------------------------------------------------------------


@contextmanager
def as_damage(where: str) -> Iterator[None]:
    """What only a value of a type this version never writes can raise (a set where a
    text goes, nesting a thousand deep), as a damaged saved plan: exit 3, not an internal
    error. For reading a saved plan and for what is made from it before any write."""
    try:
        yield
    except (TypeError, AttributeError, RecursionError) as exc:
        raise InvalidInput(
            f"{where}: the saved plan is damaged: it holds a value this version does not "
            f"write ({type(exc).__name__}); nothing was written"
        ) from None


def read_saved_plan(path: str | os.PathLike[str], *, key: str | None = None) -> SavedPlan:
    """The saved plan, or InvalidInput (exit 3) for a damaged or unknown file; with `key`,
    Refused (exit 4) unless the file is signed with it."""
    where = os.fspath(path)
    data = read_bounded(where, MAX_PLAN_BYTES, "a saved plan")
    with as_damage(where):
        return _read(where, data, key)


def _read(where: str, data: bytes, key: str | None) -> SavedPlan:
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"{where}: not a saved plan (damaged: not JSON)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidInput(f"{where}: not a cincopa-sync saved plan")
    if document.get("format_version") != FORMAT_VERSION:
        raise InvalidInput(
            f"{where}: saved plan format version {document.get('format_version')!r} is not "
            f"one this version ({__version__}) reads ({FORMAT_VERSION}): plan again"
        )
    checksum = document.pop("checksum", None)
    signature = document.pop("signature", None)
    text = _canonical(document)
    if checksum != hashlib.sha256(text.encode()).hexdigest():
        raise InvalidInput(f"{where}: the saved plan is damaged (its checksum does not match)")
    if key:
        if signature is None:
            raise Refused(
                f"{where}: the saved plan is not signed, and CINCOPA_SYNC_PLAN_KEY is set: "
                "only a plan made with that key is applied; nothing was written"
            )
        if not (
            isinstance(signature, str)
            and signature.isascii()  # compare_digest takes no other text
            and hmac.compare_digest(signature, sign(key, text))
        ):
            raise Refused(
                f"{where}: the saved plan's signature does not match CINCOPA_SYNC_PLAN_KEY: it "
                "was changed since it was made, or made with another key; nothing was written"
            )
    return _Decoder(where).saved(document, signed=signature is not None)


class _Decoder:
    """Reads a saved plan's content, strictly: every problem names its place in it."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.refs: set[str] = set()

    def damaged(self, at: str, why: str) -> InvalidInput:
        return InvalidInput(f"{self.where}: the saved plan is damaged: {at}: {why}")

    def take(self, data: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
        if key not in data:
            raise self.damaged(key, "missing")
        value = data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.damaged(key, "not the type this version writes")
        return value

    def saved(self, document: Mapping[str, Any], *, signed: bool) -> SavedPlan:
        secrets = self.secrets(self.take(document, "secrets", dict))
        salt = self.take(document, "salt", str)
        desired = self.take(document, "desired", dict)
        changes = self.take(document, "changes", list)
        left_out = self.take(document, "left_out", int)
        adopted = self.take(document, "drift_adopted", (list, type(None)))
        if left_out < 0 or not all(isinstance(a, str) for a in adopted or ()):
            raise self.damaged("left_out, drift_adopted", "not what this version writes")
        plan = Plan(
            changes=tuple(self.change(c, f"changes[{n}]") for n, c in enumerate(changes)),
            unmanaged=self.counts(document, "unmanaged"),
            warnings=self.problems(document, "warnings"),
            notes=self.texts(document, "notes"),
            live_counts=self.counts(document, "live_counts"),
            targets=self.texts(document, "targets"),
            left_out=left_out,
            drift_adopted=None if adopted is None else tuple(adopted),
            context=self.context(document),
        )
        return SavedPlan(
            path=self.where,
            api_identity=self.take(document, "api", str),
            manifest_digest=self.take(document, "manifest_digest", str),
            allow_deletes=self.take(document, "allow_deletes", bool),
            plan=plan,
            recorded=tuple(changes),
            review=self.take(document, "review", dict),
            secrets=secrets,
            salt=salt,
            specs=self.specs(desired),
            prune=self.prune(desired),
            origins=self.origins(desired),
            options=self.options(self.take(document, "options", dict)),
            warnings=self.problems(desired, "warnings"),
            signed=signed,
        )

    def texts(self, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
        items = self.take(data, key, list)
        if not all(isinstance(i, str) for i in items):
            raise self.damaged(key, "not a list of text")
        return tuple(items)

    def problems(self, data: Mapping[str, Any], key: str) -> tuple[Problem, ...]:
        out = []
        for n, item in enumerate(self.take(data, key, list)):
            at = f"{key}[{n}]"
            if not isinstance(item, dict) or set(item) != {"location", "message"}:
                raise self.damaged(at, "not a warning")
            if not isinstance(item["message"], str):
                raise self.damaged(at, "not a warning")
            where = None if item["location"] is None else self.location(item["location"], at)
            out.append(Problem(where, item["message"], "warning"))
        return tuple(out)

    def counts(self, data: Mapping[str, Any], key: str) -> tuple[tuple[str, int], ...]:
        counts = self.take(data, key, dict)
        for name, count in counts.items():
            self.kind_name(name, f"{key}.{name}")
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise self.damaged(f"{key}.{name}", "not a count")
        return tuple(sorted(counts.items()))

    def kind_name(self, name: object, at: str) -> str:
        if not isinstance(name, str) or name not in {k.name for k in kinds()}:
            raise self.damaged(at, f"{name!r} is not a kind this version knows")
        return name

    def context(self, document: Mapping[str, Any]) -> PlanContext:
        # Always written: without them apply --plan could not refuse another account.
        environment = self.take(document, "environment", (str, type(None)))
        return PlanContext(
            self.take(document, "account", str), self.take(document, "api_host", str), environment
        )

    def options(self, data: Mapping[str, Any]) -> PlanOptions:
        names = {f.name for f in fields(PlanOptions)}
        if set(data) != names or not all(v is True or v is False for v in data.values()):
            raise self.damaged("options", "not the plan options this version writes")
        return PlanOptions(**data)

    def secrets(self, data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        for ref, source in data.items():
            at = f"secrets.{ref}"
            if not isinstance(source, dict):
                raise self.damaged(at, "not a secret's source")
            origin, known = source.get("from"), source.get("digest")
            unset = known is None and origin == FROM_ENVIRONMENT  # unset when planned
            if not (unset or (isinstance(known, str) and _HEX64.match(known))):
                raise self.damaged(at, "not a secret's source")
            if origin == FROM_LIVE and set(source) == {"from", "kind", "digest"}:
                self.kind_name(source["kind"], f"{at}.kind")
            elif origin == FROM_ENVIRONMENT and set(source) == {"from", "template", "digest"}:
                self.template(source["template"], f"{at}.template")
            else:
                raise self.damaged(at, "not a secret's source")
        self.refs = set(data)
        return dict(data)

    def template(self, parts: object, at: str) -> None:
        if not isinstance(parts, list) or not parts:
            raise self.damaged(at, "not a template")
        for part in parts:
            if not (isinstance(part, list) and len(part) == 2 and isinstance(part[1], str)):
                raise self.damaged(at, "not a template")
            if part[0] == "env":
                if not _NAME.match(part[1]) or part[1] in FORBIDDEN:
                    raise self.damaged(at, f"{part[1]!r} is not a variable a plan may read")
            elif part[0] != "text":
                raise self.damaged(at, "not a template")
        if not any(part[0] == "env" for part in parts):
            raise self.damaged(at, "a secret's template names no variable")

    def specs(self, desired: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
        """Each kind's specs as JSON, each read once already (secrets as stand-ins), so a
        damaged one is found here, before anything else is looked at."""
        specs = self.take(desired, "specs", dict)
        for name, items in specs.items():
            kind = get(self.kind_name(name, f"desired.specs.{name}"))
            if not isinstance(items, list):
                raise self.damaged(f"desired.specs.{name}", "not a list")
            for index, data in enumerate(items):
                try:
                    kind.spec_from_json(data, self.stand_in)
                except ValueError as exc:
                    raise self.damaged(f"desired.specs.{name}[{index}]", str(exc)) from None
        return {name: tuple(items) for name, items in specs.items()}

    def stand_in(self, ref: str) -> str:
        if ref not in self.refs:
            raise KeyError(ref)
        return f"(secret {ref})"

    def prune(self, desired: Mapping[str, Any]) -> dict[str, bool]:
        prune = self.take(desired, "prune", dict)
        for name, on in prune.items():
            self.kind_name(name, f"desired.prune.{name}")
            if on is not True and on is not False:
                raise self.damaged(f"desired.prune.{name}", "not true or false")
        return dict(prune)

    def origins(self, desired: Mapping[str, Any]) -> dict[str, Origins]:
        out = {}
        for address, entries in self.take(desired, "origins", dict).items():
            at = f"desired.origins.{address}"
            if not isinstance(entries, list) or not entries:
                raise self.damaged(at, "not a list of entries")
            parsed = []
            for entry in entries:
                if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], list)):
                    raise self.damaged(at, "not an entry")
                if not all(isinstance(k, str) for k in entry[1]):
                    raise self.damaged(at, "not an entry")
                parsed.append((self.location(entry[0], at), frozenset(entry[1])))
            out[address] = Origins(tuple(parsed))
        return out

    def location(self, text: object, at: str) -> Location:
        if isinstance(text, str):
            file, _, column = text.rpartition(":")
            file, _, line = file.rpartition(":")
            if file and line.isdigit() and column.isdigit():
                return Location(file, int(line), int(column))
        raise self.damaged(at, "not a place (file:line:column)")

    def value(self, value: Any, at: str) -> Any:
        """A value as _scrub wrote it, secrets staying references (Ref)."""
        if value is None or isinstance(value, str | bool | int):  # JSON's own (not floats)
            return value
        if isinstance(value, dict) and len(value) == 1:
            ((tag, inner),) = value.items()
            if tag == "secret" and isinstance(inner, str):
                if inner not in self.refs:
                    raise self.damaged(at, f"secret reference {inner!r} is not in secrets")
                return Ref(inner)
            if tag == "tuple" and isinstance(inner, list):
                return tuple(self.value(v, f"{at}[{n}]") for n, v in enumerate(inner))
            if tag == "dict" and isinstance(inner, dict):
                return {k: self.value(v, f"{at}.{k}") for k, v in inner.items()}
        raise self.damaged(at, "not a value this version writes")

    def change(self, data: object, at: str) -> Change:
        if not isinstance(data, dict):
            raise self.damaged(at, "not a change")
        keys = {"address", "kind", "action", "location", "creates", "notes", "fields"}
        if set(data) != keys | {"calls", "observed", "origin"}:
            raise self.damaged(at, "not the keys of a change")
        kind = self.kind_name(data["kind"], f"{at}.kind")
        if not isinstance(data["action"], str) or data["action"] not in ACTIONS:
            raise self.damaged(f"{at}.action", f"{data['action']!r} is not an action")
        if not isinstance(data["address"], str) or not isinstance(data["creates"], bool):
            raise self.damaged(at, "not a change")
        if data["origin"] not in (None, "change", "drift"):
            raise self.damaged(f"{at}.origin", "not an origin this version writes")
        location = data["location"]
        notes = self.list(data, "notes", at)
        if not all(isinstance(n, str) for n in notes):
            raise self.damaged(f"{at}.notes", "not a list of text")
        field_list, call_list = self.list(data, "fields", at), self.list(data, "calls", at)
        return Change(
            address=data["address"],
            kind=kind,
            action=data["action"],
            fields=tuple(self.field(f, f"{at}.fields[{n}]") for n, f in enumerate(field_list)),
            calls=tuple(self.call(c, f"{at}.calls[{n}]") for n, c in enumerate(call_list)),
            location=None if location is None else self.location(location, f"{at}.location"),
            notes=tuple(notes),
            creates=data["creates"],
            observed=tuple(
                self.observed(o, f"{at}.observed[{n}]")
                for n, o in enumerate(self.list(data, "observed", at))
            ),
            origin=data["origin"],
        )

    def list(self, data: Mapping[str, Any], key: str, at: str) -> list[Any]:
        items = data[key]
        if not isinstance(items, list):
            raise self.damaged(f"{at}.{key}", "not a list")
        return items

    def field(self, data: object, at: str) -> FieldChange:
        if not (isinstance(data, list) and len(data) == 4 and isinstance(data[0], str)):
            raise self.damaged(at, "not a field change")
        if not isinstance(data[3], bool):
            raise self.damaged(at, "not a field change")
        return FieldChange(data[0], self.value(data[1], at), self.value(data[2], at), data[3])

    def call(self, data: object, at: str) -> Call:
        if not isinstance(data, dict) or set(data) != {"endpoint", "params", "secret", "deferred"}:
            raise self.damaged(at, "not a call")
        if not isinstance(data["endpoint"], str) or data["endpoint"] not in ENDPOINTS:
            raise self.damaged(f"{at}.endpoint", f"{data['endpoint']!r} is not an endpoint")
        params = []
        for n, pair in enumerate(self.list(data, "params", at)):
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise self.damaged(f"{at}.params[{n}]", "not a parameter")
            value = self.value(pair[1], f"{at}.params[{n}]")
            if not isinstance(value, str):
                raise self.damaged(f"{at}.params[{n}]", "not a parameter's value")
            params.append((pair[0], value))
        names = []
        for key in ("secret", "deferred"):
            items = self.list(data, key, at)
            if not all(isinstance(i, str) for i in items):
                raise self.damaged(f"{at}.{key}", "not a list of parameter names")
            names.append(frozenset(items))
        return Call(data["endpoint"], tuple(params), names[0], names[1])

    def observed(self, data: object, at: str) -> Observed:
        if not isinstance(data, dict) or set(data) != {"kind", "key", "fields"}:
            raise self.damaged(at, "not an observation")
        key = self.value(data["key"], f"{at}.key")
        fields_ = self.value(data["fields"], f"{at}.fields")
        pairs = fields_ is None or (
            isinstance(fields_, tuple)
            and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in fields_)
        )
        if not isinstance(key, str) or not pairs:
            raise self.damaged(at, "not an observation")
        return Observed(self.kind_name(data["kind"], f"{at}.kind"), key, fields_)
