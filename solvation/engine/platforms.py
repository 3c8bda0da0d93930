"""Choose the OpenMM platform: CUDA > HIP > OpenCL > CPU, mixed precision on GPUs."""

from __future__ import annotations

import openmm

from solvation.console import warn
from solvation.errors import SolvationError
from solvation.inputs import InputError, check_environment

AUTO_ORDER = ("CUDA", "HIP", "OpenCL", "CPU")
GPU_PLATFORMS = ("CUDA", "HIP", "OpenCL")
PRECISIONS = ("mixed", "single", "double")


class PlatformError(SolvationError):
    """The requested platform is not available."""


def available_platforms() -> list[str]:
    """Names of the OpenMM platforms registered in this installation."""
    return [
        openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())
    ]


def platform_properties(
    name: str, device: int | None = None, precision: str | None = None, threads: int | None = None
) -> dict[str, str]:
    """Platform properties: mixed precision on GPUs unless told otherwise; the CPU
    platform's thread count when given (else OpenMM's: OPENMM_CPU_THREADS or every core).

    Parameters
    ----------
    name : str
        OpenMM platform name.
    device : int, optional
        GPU index.
    precision : str, optional
        'mixed' (default on GPUs), 'single' or 'double'.
    threads : int, optional
        Threads of the CPU platform.
    """
    props = {}
    if name in GPU_PLATFORMS:
        props["Precision"] = precision or "mixed"
        if device is not None:
            props["DeviceIndex"] = str(device)
    elif name == "CPU" and threads is not None:
        props["Threads"] = str(threads)
    return props


def _works(name: str, props: dict[str, str]) -> bool:
    """A platform can be registered but unusable (CUDA without a GPU): try a tiny Context."""
    system = openmm.System()
    system.addParticle(1.0)
    try:
        openmm.Context(
            system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName(name), props
        )
        return True
    except Exception:
        return False


def choose_platform(
    requested: str = "auto",
    device: int | None = None,
    precision: str | None = None,
    threads: int | None = None,
) -> tuple[openmm.Platform, dict[str, str]]:
    """The platform to run on and its properties.

    ``auto`` takes the first usable of CUDA, HIP, OpenCL, CPU. A named platform that is
    missing or unusable is an error listing what is available.

    Parameters
    ----------
    requested : str
        Platform name, or "auto".
    device : int, optional
        GPU index.
    precision : str, optional
        'mixed' (default on GPUs), 'single' or 'double'.
    threads : int, optional
        Threads of the CPU platform.
    """
    _check_request(device, precision)
    names = available_platforms()
    if requested.lower() == "auto":
        for name in AUTO_ORDER:
            props = platform_properties(name, device, precision, threads)
            if name in names and _works(name, props):
                return _honoured(name, device, precision), props
        raise PlatformError(f"no usable OpenMM platform among {names}")
    match = next((n for n in names if n.lower() == requested.lower()), None)
    props = platform_properties(match or requested, device, precision, threads)
    if match is None or not _works(match, props):
        why = "is not installed" if match is None else "cannot create a context (no device?)"
        hint = " (pip install 'solvation[cuda]' for CUDA)" if requested.upper() == "CUDA" else ""
        raise PlatformError(f"platform {requested!r} {why}{hint}; available: {', '.join(names)}")
    return _honoured(match, device, precision), props


def _check_request(device: int | None, precision: str | None) -> None:
    """A device index and precision that exist; OPENMM_CPU_THREADS a thread count (a
    bad value stops OpenMM's CPU platform with SIGFPE)."""
    try:
        check_environment()
    except InputError as err:
        raise PlatformError(str(err)) from None
    if precision is not None and precision not in PRECISIONS:
        raise PlatformError(f"--precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    if device is not None and (
        isinstance(device, bool) or not isinstance(device, int) or device < 0
    ):
        raise PlatformError(f"--device {device!r}: give a GPU index (0, 1, ...)")


def _honoured(name: str, device: int | None, precision: str | None) -> openmm.Platform:
    """The platform ``name``, refused when a GPU device was asked for and it has none; a
    precision it has no setting for is said to be ignored."""
    if name not in GPU_PLATFORMS:
        if device is not None:
            raise PlatformError(
                f"--device {device} asks for a GPU, but the run would use the {name} platform "
                "(no usable GPU platform); drop --device to run on it, or install the GPU's "
                "platform (pip install 'solvation[cuda]')"
            )
        if precision is not None:
            warn(
                f"--precision {precision} is ignored: the {name} platform has no precision setting"
            )
    return openmm.Platform.getPlatformByName(name)
