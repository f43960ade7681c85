#!/usr/bin/env python3
"""idle_clients.py HOST PORT N HOLD_S STATUS_FILE

Open N TCP connections to HOST:PORT that never send a byte (each connect
bounded to 2 s; the first that fails ends the opening), then hold them
for at most HOLD_S seconds, watching which ones the server closes. The
status file gets, each line written whole (a rename):
  opened COUNT SECONDS          when the opening is done
  closed COUNT LAST_SECONDS     at the end: how many the server closed,
                                and when the last of them went (seconds
                                after the opening was done; -1: none)
Exits once the server has closed them all, or after HOLD_S.
"""
import os
import select
import socket
import sys
import time


LINES = []


def status(path, text):
    LINES.append(text + "\n")
    with open(path + ".tmp", "w") as f:
        f.writelines(LINES)
    os.replace(path + ".tmp", path)


def main():
    host, port, n, hold, path = (sys.argv[1], int(sys.argv[2]),
                                 int(sys.argv[3]), float(sys.argv[4]),
                                 sys.argv[5])
    t0 = time.monotonic()
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect((host, port))
        except OSError:
            s.close()
            break
        s.setblocking(False)
        socks.append(s)
    t_open = time.monotonic()
    status(path, "opened %d %.2f" % (len(socks), t_open - t0))

    poll = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        poll.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    closed, last = 0, -1.0
    while by_fd and time.monotonic() - t_open < hold:
        for fd, _ in poll.poll(200):
            s = by_fd.pop(fd, None)
            if s is None:
                continue
            poll.unregister(fd)
            # readable: EOF, a reset or an answer (a 408): the server let
            # the connection go
            closed += 1
            last = time.monotonic() - t_open
            s.close()
    status(path, "closed %d %.2f" % (closed, last))
    for s in by_fd.values():
        s.close()


if __name__ == "__main__":
    main()
