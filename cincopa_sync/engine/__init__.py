"""The pipeline: read the live account, diff it against the desired state (pure), apply
a plan, save and re-check plans, export. Every kind-specific step is asked of the
registry (cincopa_sync.kinds)."""
