"""The plan as a pull-request comment: a verdict, a summary table, then each kind's changes
in a collapsible section, kept under a size limit with an honest line saying what was cut.

What a reviewer must not miss comes first, as GitHub alerts: deletes and the delete-safety
threshold in a `> [!CAUTION]` block, every other warning in a `> [!WARNING]` block. A
plan scoped to a pull request (plan --base) shows its own changes apart from the drift.
Locations link to the files when the caller gives a `link` (the CLI does on GitHub
Actions). Invalid manifests get a comment of their own (`render_problems_markdown`).

Values come from the shared row model (render/rows.py), so they are masked and quoted
exactly as in the text rendering; this module only lays them out and escapes them for
GitHub-flavoured Markdown. Every user-controlled string lands in a code span or a fenced
block (where `<`, `*` and `_` mean nothing), with pipes escaped inside table cells.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable

from cincopa_sync.errors import Location, Problem
from cincopa_sync.plan import ACTIONS, Change, Plan, PlanContext
from cincopa_sync.render.rows import (
    ORIGIN_HEADINGS,
    ChangeRow,
    change_row,
    kind_order,
    origin_groups,
    plural,
    summary_line,
    unmanaged_line,
)

# A location -> the URL of that line in the reviewed files, or None.
Linker = Callable[[Location], "str | None"]

DEFAULT_LIMIT = 65_000  # GitHub refuses comments over 65,536 characters
# Hidden in the rendering; lets a CI step find and replace its earlier comment.
MARKER = "<!-- cincopa-sync plan -->"
# One huge value (a long description) must not crowd out every other change.
MAX_VALUE_CHARS = 1_000
MAX_CALL_CHARS = 2_000
# Which changes to keep when not all fit: the ones a reviewer must not miss come first.
_PRIORITY = {"delete": 0, "rename": 1, "create": 2, "update": 3}
_BACKTICKS = re.compile(r"`+")
_MIN_LIMIT = 2_000
_MAX_LISTED_DELETES = 20  # the caution block names this many deletes, then counts the rest


def render_markdown(plan: Plan, *, limit: int = DEFAULT_LIMIT, link: Linker | None = None) -> str:
    """The plan as GitHub-flavoured Markdown of at most `limit` characters.

    When the changes do not all fit, deletes are kept first, then renames, creates and
    updates (each in plan order); the last line says how many of each were left out.
    `link` turns a manifest location into a URL (None: locations are not links).
    """
    if limit < _MIN_LIMIT:
        raise ValueError(f"limit must be at least {_MIN_LIMIT} characters")
    link = link or _no_link
    head, tail = _head(plan, link), _tail(plan)
    blocks = [_change_block(c, change_row(c), link) for c in plan.changes]
    sections = _sections(plan)
    if len(head) + len(tail) + sum(map(len, blocks)) <= limit:  # else it cannot fit
        everything = _assemble(plan, head, tail, blocks, sections, set(range(len(blocks))))
        if len(everything) <= limit:
            return everything
    # Reserve the largest the wrappers and the last line can be, then fill greedily.
    reserve = len(head) + len(tail) + len(_cut_line(plan.changes))
    reserve += sum(len(_group_heading(origin, n)) for origin, n in _group_sizes(sections))
    reserve += sum(len(_open(kind, len(ix), len(ix))) + len(_CLOSE) for _, kind, ix in sections)
    budget = limit - reserve
    if budget < 0:
        raise ValueError("limit is too small for this plan's summary")
    order = sorted(range(len(blocks)), key=lambda i: (_PRIORITY[plan.changes[i].action], i))
    shown: set[int] = set()
    for i in order:
        if len(blocks[i]) <= budget:
            shown.add(i)
            budget -= len(blocks[i])
    text = _assemble(plan, head, tail, blocks, sections, shown)
    assert len(text) <= limit
    return text


def _no_link(_location: Location) -> None:
    return None


# -- layout --------------------------------------------------------------------------

_CLOSE = "</details>\n\n"
Section = tuple["str | None", str, list[int]]  # (origin, kind, indexes into plan.changes)


def _sections(plan: Plan) -> list[Section]:
    """The collapsible sections in order: per origin group (plan --base), per kind."""
    index = {id(c): i for i, c in enumerate(plan.changes)}
    sections: list[Section] = []
    for origin, changes in origin_groups(plan):
        for kind, _ in _by_kind(changes):
            sections.append((origin, kind, [index[id(c)] for c in changes if c.kind == kind]))
    return sections


def _group_sizes(sections: list[Section]) -> list[tuple[str, int]]:
    sizes: dict[str, int] = {}
    for origin, _, indexes in sections:
        if origin:
            sizes[origin] = sizes.get(origin, 0) + len(indexes)
    return list(sizes.items())


def _group_heading(origin: str, count: int) -> str:
    return f"#### {_escape(ORIGIN_HEADINGS[origin])}: {count:,}\n\n"


def _assemble(
    plan: Plan,
    head: str,
    tail: str,
    blocks: list[str],
    sections: list[Section],
    shown: set[int],
) -> str:
    parts = [head]
    sizes = dict(_group_sizes(sections))
    heading_done: set[str] = set()
    for origin, kind, indexes in sections:
        visible = [i for i in indexes if i in shown]
        if not visible:
            continue
        if origin and origin not in heading_done:
            heading_done.add(origin)
            parts.append(_group_heading(origin, sizes[origin]))
        parts.append(_open(kind, len(visible), len(indexes), [plan.changes[i] for i in indexes]))
        parts += [blocks[i] for i in visible]
        parts.append(_CLOSE)
    parts.append(tail)
    hidden = [c for i, c in enumerate(plan.changes) if i not in shown]
    if hidden:
        parts.append(_cut_line(hidden))
    return "".join(parts)


def _by_kind(changes: tuple[Change, ...] | list[Change]) -> list[tuple[str, int]]:
    counts = Counter(c.kind for c in changes)
    return [(kind, counts[kind]) for kind in kind_order() if counts[kind]]


def _head(plan: Plan, link: Linker) -> str:
    lines = [MARKER, f"### {_escape(summary_line(plan))}", ""]
    if plan.context is not None:
        lines += [_context(plan.context), ""]
    lines += _caution(plan)
    lines += _alert("WARNING", [_problem_text(w, link) for w in plan.warnings])
    if plan.empty:
        return "\n".join(lines) + "\n"
    counts = {(c.kind, c.action): 0 for c in plan.changes}
    for c in plan.changes:
        counts[(c.kind, c.action)] += 1
    lines.append("| | " + " | ".join(ACTIONS) + " |")
    lines.append("| --- |" + " ---: |" * len(ACTIONS))
    for kind, _ in _by_kind(plan.changes):
        cells = [f"{counts.get((kind, a), 0):,}" for a in ACTIONS]
        lines.append(f"| {plural(kind)} | " + " | ".join(cells) + " |")
    totals = plan.summary()
    lines.append("| **total** | " + " | ".join(f"**{totals[a]:,}**" for a in ACTIONS) + " |")
    return "\n".join(lines) + "\n\n"


def _caution(plan: Plan) -> list[str]:
    """Deletes, by name, and why apply would refuse them: never inside a folded section."""
    deletes = [c.address for c in plan.changes if c.action == "delete"]
    items = []
    if deletes:
        named = ", ".join(_code(_one_line(a)) for a in deletes[:_MAX_LISTED_DELETES])
        more = len(deletes) - _MAX_LISTED_DELETES
        named += f" and {more:,} more" if more > 0 else ""
        items.append(f"**This plan deletes {_count(len(deletes), 'object')}:** {named}")
    items += [_escape(reason[:1].upper() + reason[1:]) for reason in plan.risky_deletes()]
    return _alert("CAUTION", items)


def _alert(kind: str, items: list[str]) -> list[str]:
    """A GitHub alert block (`> [!WARNING]`): one item a line, a list when several."""
    if not items:
        return []
    if len(items) == 1:
        return [f"> [!{kind}]", f"> {items[0]}", ""]
    return [f"> [!{kind}]", *(f"> - {item}" for item in items), ""]


def _problem_text(problem: Problem, link: Linker) -> str:
    if problem.location is None:
        return _escape(problem.message)
    return f"{_where(problem.location, link)}: {_escape(problem.message)}"


def _where(location: Location, link: Linker) -> str:
    """A location as a code span, a link to the line when the linker knows one."""
    span = _code(_one_line(str(location)))
    url = link(location)
    return f"[{span}]({_url(url)})" if url else span


def _url(url: str) -> str:
    """A link target GitHub takes verbatim: no space, parenthesis or angle bracket."""
    return "".join(c if c.isascii() and c not in " ()<>" else f"%{ord(c):02X}" for c in url)


def _context(ctx: PlanContext) -> str:
    """The environment, account and API host, one line under the verdict."""
    named = [("Account", ctx.account), ("API", ctx.api_host)]
    if ctx.environment is not None:
        named.insert(0, ("Environment", ctx.environment))
    parts = [f"**{label}** {_code(_one_line(value))}" for label, value in named]
    return " · ".join(parts)


def _tail(plan: Plan) -> str:
    lines = []
    if plan.drift_adopted:
        named = ", ".join(_code(_one_line(a)) for a in plan.drift_adopted)
        lines.append(
            "**Drift adopted:** the base branch's plan changes these and this pull request "
            f"does not, so the account keeps its current values: {named}\n"
        )
    lines += [f"**Note:** {_escape(note)}\n" for note in plan.notes]
    unmanaged = unmanaged_line(plan)
    if unmanaged:
        lines.append(_escape(unmanaged))
    return "\n".join(lines) + "\n" if lines else ""


def _open(kind: str, shown: int, total: int, changes: list[Change] | None = None) -> str:
    """A kind's collapsible section. Without `changes`, the longest it can be (a reserve)."""
    if changes is None:
        actions = ", ".join(f"{total:,} to {a}" for a in ACTIONS)
    else:
        counts = Counter(c.action for c in changes)
        actions = ", ".join(f"{counts[a]:,} to {a}" for a in ACTIONS if counts[a])
    partial = f" ({shown:,} of {total:,} shown)" if changes is None or shown < total else ""
    return f"<details><summary><strong>{plural(kind)}</strong>: {actions}{partial}</summary>\n\n"


def _cut_line(hidden: tuple[Change, ...] | list[Change]) -> str:
    counts = Counter((c.kind, c.action) for c in hidden)
    parts = [
        _count(counts[(kind, action)], f"{kind} {action}")
        for kind in kind_order()
        for action in ACTIONS
        if counts[(kind, action)]
    ]
    more = _count(len(hidden), "more change")
    return (
        f"\n**… {more} ({', '.join(parts)}) not shown** to keep this comment under "
        "GitHub's size limit: run `cincopa-sync plan` for all of it.\n"
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _change_block(change: Change, row: ChangeRow, link: Linker) -> str:
    head = f"**{_code(row.symbol)} {row.action} {_code(_one_line(row.address))}**"
    if change.location:
        head += f" · {_where(change.location, link)}"
    lines = [head, ""]
    if row.fields:
        lines += ["| field | before | after |", "| --- | --- | --- |"]
        for f in row.fields:
            if f.delta:  # a set changed in place: what it was, then what changes
                before = _cell(_clip(f.before, MAX_VALUE_CHARS))
                after = "; ".join(
                    f"{word} {_items(items)}"
                    for word, items in (("added", f.added_items), ("removed", f.removed_items))
                    if items
                )
            else:
                before, after = (
                    _cell(_clip(v, MAX_VALUE_CHARS)) if v else "" for v in (f.before, f.after)
                )
            lines.append(f"| {_cell(f.field)} | {before} | {after} |")
        lines.append("")
    for note in row.notes:
        lines += [f"> {_escape(note)}", ""]
    calls = [_clip(call, MAX_CALL_CHARS) for call in row.calls]
    if calls:
        fence = "`" * max(3, _longest_run("\n".join(calls)) + 1)
        lines += [f"{fence}text", *calls, fence, ""]
    return "\n".join(lines) + "\n"


def _items(items: tuple[str, ...]) -> str:
    """Set items (shown values), one code span each."""
    return " ".join(_cell(_clip(item, MAX_VALUE_CHARS)) for item in items)


def render_problems_markdown(
    problems: list[Problem], *, limit: int = DEFAULT_LIMIT, link: Linker | None = None
) -> str:
    """Invalid manifests as a pull-request comment: every problem with its location (as
    many as fit under `limit`, then how many more there are)."""
    link = link or _no_link
    errors = [p for p in problems if p.severity == "error"]
    files = {p.location.file for p in errors if p.location}
    where = f" in {_count(len(files), 'file')}" if files else ""
    head = "\n".join(
        [
            MARKER,
            f"### The manifests are invalid: {_count(len(errors), 'error')}{where}. "
            "Nothing was planned.",
            "",
            "> [!CAUTION]",
            "> Fix every problem below and push again: no plan is made while one remains.",
            "",
            "| | where | problem |",
            "| --- | --- | --- |",
        ]
    )
    rows = [_problem_row(p, link) for p in problems]
    text, kept = head + "\n", 0
    for row in rows:
        if len(text) + len(row) + len(_more_problems(len(rows))) > limit:
            break
        text += row
        kept += 1
    if kept < len(rows):
        text += _more_problems(len(rows) - kept)
    return text


def _problem_row(problem: Problem, link: Linker) -> str:
    mark = "warning" if problem.severity == "warning" else "**error**"
    place = _where(problem.location, link).replace("|", "\\|") if problem.location else ""
    return f"| {mark} | {place} | {_escape(_clip(problem.message, MAX_VALUE_CHARS))} |\n"


def _more_problems(count: int) -> str:
    return (
        f"\n**… {_count(count, 'more problem')} not shown**: run `cincopa-sync validate` "
        "for all of them.\n"
    )


# -- escaping ------------------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    """A long value shortened, saying by how much (the saved or text plan has it all)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… (+{len(text) - limit:,} characters)"


def _longest_run(text: str) -> int:
    return max((len(m.group()) for m in _BACKTICKS.finditer(text)), default=0)


def _code(text: str) -> str:
    """A code span holding `text` verbatim, whatever backticks or spaces it holds."""
    fence = "`" * (_longest_run(text) + 1)
    pad = ""
    if (
        text.startswith("`")
        or text.endswith("`")
        or (text.startswith(" ") and text.endswith(" ") and text.strip())
    ):
        pad = " "  # CommonMark strips one space from each side again
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    """A table cell: a code span with pipes escaped (GFM splits cells before code spans)."""
    return _code(text).replace("|", "\\|")


def _one_line(text: str) -> str:
    """Addresses and file names as written, unless a line break or control character would
    break the layout: then JSON-escaped and quoted, visibly not the raw text."""
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in text):
        return json.dumps(text, ensure_ascii=False)
    return text


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~!])")


_AUTOLINK = re.compile(r"(?i)(://|www\.)")


def _escape(text: str) -> str:
    """Plain text (notes, warnings) with Markdown and HTML meaning taken away, autolinks
    included (a URL in a message is text, not a link)."""
    text = _MD_SPECIAL.sub(r"\\\1", _one_line(text))
    return _AUTOLINK.sub(lambda m: "\\://" if m.group(1) == "://" else m.group(1)[:3] + "\\.", text)
