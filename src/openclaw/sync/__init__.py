"""Sync: HostPlans onto hosts. Everything here but engine.py is pure and knows no pyinfra."""
