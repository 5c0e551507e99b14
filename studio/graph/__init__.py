"""The Node API (PRD §4.3): socket types, the node-type registry and the ``Graph``."""

from studio.graph import builtin_types as _builtin_types  # noqa: F401 - registers Table 2
from studio.graph.registry import FieldSpec, NodeType, NodeUI, SocketSpec, registry
from studio.graph.sockets import SocketType, can_feed

__all__ = ["FieldSpec", "NodeType", "NodeUI", "SocketSpec", "SocketType", "can_feed", "registry"]
