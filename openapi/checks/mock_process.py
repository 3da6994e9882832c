"""`feishu-helpdesk mock` for a check: started with `--json` on a free port, its first line
(where it listens, what it accepts) handed to the check, then stopped with SIGTERM."""

import json
import signal
import subprocess


def with_mock(binary, check):
    """Runs `check(started)` against a new mock; gives the mock's exit code after SIGTERM."""
    mock = subprocess.Popen(
        [binary, "mock", "--json", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={},
        text=True,
    )
    try:
        check(json.loads(mock.stdout.readline()))
    finally:
        mock.send_signal(signal.SIGTERM)
        code = mock.wait(timeout=5)
    return code
