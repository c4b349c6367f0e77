"""cincopa-sync: keep a Cincopa account in the state its YAML manifests describe."""

__version__ = "0.1.0"
