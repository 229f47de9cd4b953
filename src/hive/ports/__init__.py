"""Port allocation: database leases (the truth) plus a bind probe (the machine's view)."""

from hive.ports.allocator import PortAllocator, parse_port_spec
from hive.ports.probe import port_holder, port_is_free

__all__ = ["PortAllocator", "parse_port_spec", "port_holder", "port_is_free"]
