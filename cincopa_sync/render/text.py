"""The plan for people on a terminal or in a CI log."""

from __future__ import annotations

from cincopa_sync.plan import Plan
from cincopa_sync.render.rows import change_row, summary_line, unmanaged_line

_COLORS = {"+": "32", "~": "33", ">": "36", "-": "31"}


def render_text(plan: Plan, *, color: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if color else text

    lines: list[str] = []
    for change in plan.changes:
        row = change_row(change)
        head = f"  {paint(row.symbol, _COLORS[row.symbol])} {row.address}"
        if row.location:
            head += f"  ({row.location})"
        lines.append(head)
        for f in row.fields:
            lines.append(f"      {f.field}: {f.delta or f'{f.before} -> {f.after}'}")
        for note in row.notes:
            lines.append(f"      # {note}")
        for call in row.calls:
            lines.append(paint(f"      call {call}", "2"))
        lines.append("")
    for note in plan.notes:
        lines.append(f"Note: {note}")
    for warning in plan.warning_lines():
        lines.append(paint(f"Warning: {warning}", "33"))
    lines.append(paint(summary_line(plan), "1"))
    unmanaged = unmanaged_line(plan)
    if unmanaged:
        lines.append(unmanaged)
    return "\n".join(lines) + "\n"
