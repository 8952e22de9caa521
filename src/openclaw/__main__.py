"""Console entry point. gevent must patch the standard library before paramiko and pyinfra are
imported, or SSH hosts are worked one after another; commands that never connect skip it."""

from __future__ import annotations

import sys

CONNECTING = {"plan", "apply", "bootstrap", "rollback", "status"}


def run() -> None:
    if CONNECTING & set(sys.argv[1:]):
        from gevent import monkey

        monkey.patch_all()
    from openclaw.cli import main

    main()


if __name__ == "__main__":
    run()
