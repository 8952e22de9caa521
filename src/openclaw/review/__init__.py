"""Offline review of a change: compile two revisions and compare, no hosts, no secrets."""
