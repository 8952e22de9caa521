"""Console entry point. gevent must patch the standard library before paramiko and pyinfra are
imported, or SSH hosts are worked one after another; commands that never connect skip it."""

from __future__ import annotations

import sys

CONNECTING = {"plan", "apply", "bootstrap", "rollback", "status"}


def run() -> None:
    if CONNECTING & set(sys.argv[1:]):
        from gevent import monkey

        monkey.patch_all()
    import gc

    from openclaw.cli import main

    # A fleet's plans are many small objects that live until the run ends: the full
    # collections the default thresholds start cost a third of compiling 1,000 hosts.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    main()


if __name__ == "__main__":
    run()
