"""`make dev`: `dagster dev` that always stops on Ctrl-C and on SIGTERM.

`dagster dev` maps SIGTERM to whatever its SIGINT handler is. A process started in the background by a
non-interactive shell (make from a script, nohup, CI, some IDE run buttons) inherits SIGINT *ignored*, so such a
`dagster dev` ignores Ctrl-C and SIGTERM alike and has to be killed, leaving its code servers behind. This
restores the default handlers first, then runs `dagster dev` in this process with the given arguments.
"""

from __future__ import annotations

import signal
import sys


def main(argv: list[str] | None = None) -> int:
    signal.signal(
        signal.SIGINT, signal.default_int_handler
    )  # KeyboardInterrupt: dagster dev shuts down cleanly
    signal.signal(
        signal.SIGTERM, signal.default_int_handler
    )  # dagster dev re-maps SIGTERM to this handler too
    from dagster._cli import main as dagster_main  # the `dagster` console script's entry point

    sys.argv = ["dagster", "dev", *(sys.argv[1:] if argv is None else argv)]
    try:
        return int(dagster_main() or 0)
    except SystemExit as exc:  # click exits through SystemExit
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
