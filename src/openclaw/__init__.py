"""openclaw: declarative provisioning and config compiler for OpenClaw agent fleets."""

__version__ = "0.1.0"
