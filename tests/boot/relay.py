# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""relay.py PORT: one TCP connection from a QEMU guest to 127.0.0.1:PORT.

QEMU's user-mode network runs it for each connection the guest opens to a
`guestfwd` address (`guestfwd=tcp:10.0.2.100:5700-cmd:python3 relay.py
PORT`), with the guest's side of the connection on stdin and stdout. When
nothing listens on PORT it exits at once, so the guest sees its connection
closed: a server that is down.
"""

import os
import selectors
import socket
import sys


def main():
    port = int(sys.argv[1])
    try:
        server = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return 1
    server.settimeout(None)
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ, "guest")
    sel.register(server, selectors.EVENT_READ, "server")
    open_ends = 2
    while open_ends:
        for key, _ in sel.select():
            if key.data == "guest":
                data = os.read(0, 65536)
                if data:
                    server.sendall(data)
                else:
                    sel.unregister(0)
                    server.shutdown(socket.SHUT_WR)
                    open_ends -= 1
            else:
                data = server.recv(65536)
                if data:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(1, view):]
                else:
                    sel.unregister(server)
                    os.close(1)
                    open_ends -= 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
