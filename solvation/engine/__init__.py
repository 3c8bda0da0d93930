"""The run engine: protocol, platforms, reporters, resumable runs, engine benchmark."""

from .bench import bench_md
from .platforms import PlatformError, available_platforms, choose_platform
from .protocol import Protocol, ProtocolError, protocol_from
from .run import RunError, RunInterrupted, extend_production, run

__all__ = [
    "bench_md",
    "PlatformError",
    "available_platforms",
    "choose_platform",
    "Protocol",
    "ProtocolError",
    "protocol_from",
    "RunError",
    "RunInterrupted",
    "extend_production",
    "run",
]
