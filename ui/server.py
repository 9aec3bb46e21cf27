"""``hemicycle ui``: Streamlit as a child process that stops when ``hemicycle ui`` stops.

``serve`` starts ``python -m ui.server <streamlit run arguments>`` and forwards SIGTERM,
SIGINT and SIGHUP to it (a service manager or ``kill`` stops the parent only; Ctrl-C in a
terminal reaches both), then waits for it; on Linux the child also gets SIGTERM if the
parent dies without cleaning up.  Run as ``__main__``, this module is that child: it tells
Streamlit not to treat ``ui/pages/`` as an old-style pages folder, which otherwise makes the
first visit of a page URL (``/corpus``) run that page alone, without ``ui/app.py``'s
navigation (raw file names as titles) and page config (narrow layout).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Sequence

__all__ = ["serve"]

_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(streamlit_args: Sequence[str], grace_s: float = 10.0) -> int:
    """Run Streamlit until it exits or this process is asked to stop; its exit code."""
    child = subprocess.Popen([sys.executable, "-m", "ui.server", *streamlit_args],
                             preexec_fn=_die_with_parent if sys.platform == "linux" else None)

    def stop(signum: int, _frame: object) -> None:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in _FORWARDED}
    try:
        return child.wait()
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _main() -> None:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False  # ui/app.py's st.navigation lists the pages
    sys.argv = ["streamlit", "run", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    _main()
