# Names of solvation.engine, loaded lazily by __init__.py (lazy_loader.attach_stub).

from . import metadynamics, viscosity
from .bench import bench_md
from .platforms import PlatformError, available_platforms, choose_platform
from .protocol import Protocol, ProtocolError, protocol_from
from .run import RunError, RunInterrupted, extend_production, run

__all__ = [
    "metadynamics",
    "viscosity",
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
