"""Support for testing programs built on promptgraph: a loopback Messages API server."""

from promptgraph.testing.messages_api import FAULTS, MessagesServer, request_from_body

__all__ = ["FAULTS", "MessagesServer", "request_from_body"]
