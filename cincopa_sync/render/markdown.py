"""The plan as a pull-request comment: a verdict, a summary table, then each kind's changes
in a collapsible section, kept under a size limit with an honest line saying what was cut.

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

from cincopa_sync.plan import ACTIONS, Change, Plan
from cincopa_sync.render.rows import (
    ChangeRow,
    change_row,
    kind_order,
    plural,
    summary_line,
    unmanaged_line,
)

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


def render_markdown(plan: Plan, *, limit: int = DEFAULT_LIMIT) -> str:
    """The plan as GitHub-flavoured Markdown of at most `limit` characters.

    When the changes do not all fit, deletes are kept first, then renames, creates and
    updates (each in plan order); the last line says how many of each were left out.
    """
    if limit < _MIN_LIMIT:
        raise ValueError(f"limit must be at least {_MIN_LIMIT} characters")
    head, tail = _head(plan), _tail(plan)
    blocks = [_change_block(change_row(c)) for c in plan.changes]
    if len(head) + len(tail) + sum(map(len, blocks)) <= limit:  # else it cannot fit
        everything = _assemble(plan, head, tail, blocks, set(range(len(blocks))))
        if len(everything) <= limit:
            return everything
    # Reserve the largest the wrappers and the last line can be, then fill greedily.
    reserve = len(head) + len(tail) + len(_cut_line(plan.changes))
    reserve += sum(len(_open(kind, n, n)) + len(_CLOSE) for kind, n in _by_kind(plan.changes))
    budget = limit - reserve
    if budget < 0:
        raise ValueError("limit is too small for this plan's summary")
    order = sorted(range(len(blocks)), key=lambda i: (_PRIORITY[plan.changes[i].action], i))
    shown: set[int] = set()
    for i in order:
        if len(blocks[i]) <= budget:
            shown.add(i)
            budget -= len(blocks[i])
    text = _assemble(plan, head, tail, blocks, shown)
    assert len(text) <= limit
    return text


# -- layout --------------------------------------------------------------------------

_CLOSE = "</details>\n\n"


def _assemble(plan: Plan, head: str, tail: str, blocks: list[str], shown: set[int]) -> str:
    parts = [head]
    for kind, total in _by_kind(plan.changes):
        indexes = [i for i, c in enumerate(plan.changes) if c.kind == kind and i in shown]
        if not indexes:
            continue
        kind_changes = [c for c in plan.changes if c.kind == kind]
        parts.append(_open(kind, len(indexes), total, kind_changes))
        parts += [blocks[i] for i in indexes]
        parts.append(_CLOSE)
    parts.append(tail)
    hidden = [c for i, c in enumerate(plan.changes) if i not in shown]
    if hidden:
        parts.append(_cut_line(hidden))
    return "".join(parts)


def _by_kind(changes: tuple[Change, ...] | list[Change]) -> list[tuple[str, int]]:
    counts = Counter(c.kind for c in changes)
    return [(kind, counts[kind]) for kind in kind_order() if counts[kind]]


def _head(plan: Plan) -> str:
    lines = [MARKER, f"### {summary_line(plan)}", ""]
    for warning in plan.warning_lines():
        lines += [f"> **Warning:** {_escape(warning)}", ""]
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


def _tail(plan: Plan) -> str:
    lines = [f"**Note:** {_escape(note)}\n" for note in plan.notes]
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


def _change_block(row: ChangeRow) -> str:
    head = f"**{_code(row.symbol)} {row.action} {_code(_one_line(row.address))}**"
    if row.location:
        head += f" · {_code(_one_line(row.location))}"
    lines = [head, ""]
    if row.fields:
        lines += ["| field | before | after |", "| --- | --- | --- |"]
        for f in row.fields:
            shown = (f.before, f.after)
            if f.delta:  # a set changed in place: what leaves, what comes
                shown = (f.removed, f.added)
            before, after = (_cell(_clip(v, MAX_VALUE_CHARS)) if v else "" for v in shown)
            lines.append(f"| {_cell(f.field)} | {before} | {after} |")
        lines.append("")
    for note in row.notes:
        lines += [f"> {_escape(note)}", ""]
    calls = [_clip(call, MAX_CALL_CHARS) for call in row.calls]
    if calls:
        fence = "`" * max(3, _longest_run("\n".join(calls)) + 1)
        lines += [f"{fence}text", *calls, fence, ""]
    return "\n".join(lines) + "\n"


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


def _escape(text: str) -> str:
    """Plain text (notes, warnings) with Markdown and HTML meaning taken away."""
    return _MD_SPECIAL.sub(r"\\\1", _one_line(text))
