"""Renderings of a Plan. They only read the plan and return text; the CLI writes it."""
