"""The pure compiler: (model, host) -> HostPlan. No I/O beyond reading templates once, no
pyinfra, no clock, no randomness."""

from openclaw.compile.hostplan import compile_fleet, compile_host
from openclaw.compile.plan import Directory, File, HostPlan, Unit

__all__ = ["Directory", "File", "HostPlan", "Unit", "compile_fleet", "compile_host"]
