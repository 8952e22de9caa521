"""Worst cases of hostile input: each file is as large or as deep as the loader lets through
(or just past it), run through `openclaw validate` (and `compile` when it validates) in a
fresh process whose wall time and peak memory are measured. `make bench-hostile` runs it and
writes bench/hostile.md; it is a benchmark, not a timed test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OPENCLAW = str(Path(sys.executable).parent / "openclaw")
LIMIT = 1024 * 1024  # load.MAX_BYTES
REFERENCE = (REPO / "openclaw.yaml").read_text()


def cases() -> dict[str, tuple[str, str | None]]:
    """name -> (config text, inventory text or None)."""
    out: dict[str, tuple[str, str | None]] = {}
    pad = LIMIT - 200
    out["one 1 MiB token-like line"] = (f"version: 1\nservice:\n  user: sk-{'A1' * (pad // 2)}\n",
                                        None)
    out["1 MiB of unknown keys (a finding each)"] = (
        "version: 1\n" + "".join(f"k{i}: 1\n" for i in range(pad // 10)), None)
    bomb = ["version: 1", 'a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 12):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        bomb.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 10) + "]")
    out["alias bomb (10^12 values)"] = ("\n".join(bomb) + "\n", None)
    out["a 500 KB value aliased 2,000 times"] = (
        'version: 1\nx: &a "' + "A1b2" * 125_000 + '"\ny: [' + ",".join(["*a"] * 2000) + "]\n",
        None)
    out["nesting 64 deep (the cap)"] = ("version: 1\nx: " + "[" * 63 + "]" * 63 + "\n", None)
    out["nesting 200,000 deep"] = ("version: 1\nx: " + "[" * 200_000 + "]" * 200_000 + "\n",
                                   None)
    out["threshold with 500k spaces"] = (
        f'version: 1\nalerting:\n  thresholds:\n    error_rate: ">{" " * 500_000}5!"\n', None)
    out["count with 500k spaces"] = (
        f'version: 1\nretry:\n  max_attempts: "3{" " * 500_000}!"\n', None)
    codes = ", ".join(["500"] * 100_000)
    out["100,000 status codes"] = (REFERENCE.replace(
        "status_codes: [400, 429, 500, 502, 503, 504]", f"status_codes: [{codes}]"), None)
    hosts = "".join(f"      h{i}: {{}}\n" for i in range(2000))
    inventory = ("defaults:\n  ssh_host: '@local'\n  root: /tmp/hostile\nregions:\n"
                 f"  us-east:\n    hosts:\n{hosts}")
    out["inventory of 2,000 hosts, the cap (compiled)"] = (REFERENCE, inventory)
    return out


def measure(args: list[str]) -> tuple[int, float, int]:
    """Exit code, wall seconds and peak RSS (KiB) of one command in a fresh interpreter, so
    that RUSAGE_CHILDREN sees that command alone."""
    probe = ("import resource, subprocess, sys, time\n"
             "t = time.monotonic()\n"
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
             "stderr=subprocess.DEVNULL)\n"
             "print(r.returncode, time.monotonic() - t, "
             "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    r = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                       timeout=600)
    code, wall, rss = r.stdout.split()
    return int(code), float(wall), int(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(REPO / "bench/hostile.md"))
    opts = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="openclaw-hostile-") as tmp:
        for name, (config, inventory) in cases().items():
            c = Path(tmp) / "openclaw.yaml"
            c.write_text(config)
            args = [OPENCLAW, "validate", "-c", str(c)]
            if inventory is not None:
                i = Path(tmp) / "inventory.yaml"
                i.write_text(inventory)
                args += ["-i", str(i)]
            code, wall, rss = measure(args)
            line = [name, f"{len(config) + len(inventory or ''):,}", str(code), f"{wall:.2f}",
                    f"{rss // 1024}"]
            if code == 0 and inventory is not None:
                ccode, cwall, crss = measure([OPENCLAW, "compile", "-c", str(c), "-i",
                                              str(Path(tmp) / "inventory.yaml"), "-o",
                                              str(Path(tmp) / "out")])
                line += [str(ccode), f"{cwall:.2f}", f"{crss // 1024}"]
            else:
                line += ["-", "-", "-"]
            rows.append(line)
            print(" | ".join(line), flush=True)
    started = time.strftime("%Y-%m-%d")
    text = [f"Hostile inputs, {started}: `openclaw validate` (and `compile` when it validates) "
            f"in a fresh process; wall seconds and peak memory (MiB). "
            f"Python {sys.version.split()[0]}, {os.cpu_count()} cores.", "",
            "| input | bytes | validate exit | s | MiB | compile exit | s | MiB |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    text += ["| " + " | ".join(r) + " |" for r in rows]
    Path(opts.out).write_text("\n".join(text) + "\n")
    print(f"wrote {opts.out}")


if __name__ == "__main__":
    main()
