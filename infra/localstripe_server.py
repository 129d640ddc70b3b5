"""localstripe on 127.0.0.1 only, with its state in memory only.

localstripe's own `localstripe --port N` listens on every interface (it
binds `::`) and writes its whole store to /tmp/localstripe.pickle after
each write, a file every instance on the machine would share. This
starts the same aiohttp application on loopback, from scratch, and turns
the file off.

Usage: python infra/localstripe_server.py PORT
"""

import logging
import sys

from aiohttp import web
from localstripe import resources, server


def main():
    port = int(sys.argv[1])
    resources.Store.dump_to_disk = lambda self: None
    logger = logging.getLogger("aiohttp.access")
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.StreamHandler())
    web.run_app(server.app, host="127.0.0.1", port=port, access_log=logger, print=None)


if __name__ == "__main__":
    main()
