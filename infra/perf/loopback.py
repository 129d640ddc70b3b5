"""Helpers the perf scripts share: a free loopback port, and waiting for a
server they started to answer."""

import socket
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answers(url, attempts=200, pause=0.1):
    """Polls `url` until it answers (any HTTP status) or `attempts` run out."""
    for _ in range(attempts):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(pause)
