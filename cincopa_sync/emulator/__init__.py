"""A local emulator of the Cincopa REST API v2, written from the API's documentation.

It must never import the client (cincopa_sync.api): sharing the client's mapping code
would hide the client's mistakes. See docs/emulator.md.
"""

from .account import Account, Asset, Portal, Webhook
from .core import Call, Emulator, Reply
from .faults import Fault, FaultPlan, parse_faults
from .handlers import ENDPOINTS, KINDS, WRITES
from .server import EmulatorServer, run, serve
from .transport import AsyncEmulatorTransport, EmulatorTransport
from .uploads import UploadRules

__all__ = [
    "ENDPOINTS",
    "KINDS",
    "WRITES",
    "Account",
    "Asset",
    "AsyncEmulatorTransport",
    "Call",
    "Emulator",
    "EmulatorServer",
    "EmulatorTransport",
    "Fault",
    "FaultPlan",
    "Portal",
    "Reply",
    "UploadRules",
    "Webhook",
    "parse_faults",
    "run",
    "serve",
]
