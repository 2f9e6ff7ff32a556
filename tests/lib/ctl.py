#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A test client for kavm's control socket (tests/kvm/control.sh).

  ctl.py PATH                 each stdin line (Python escapes such as \\x00
                              decoded) is sent as one request; the next
                              reply line is printed (events are skipped)
  ctl.py PATH events N        once served, print CONNECTED, then the next N
                              lines, events included
  ctl.py PATH big N           an N-byte line of 'x', then query-status: both replies
  ctl.py PATH many N          N clients at once, each asks query-status:
                              "served S refused R other O"
  ctl.py PATH noread N        a client that sends requests and never reads,
                              while another makes N link changes (events):
                              "noread: closed|open; other: N replies"
  ctl.py PATH eof REQUEST     send REQUEST without a newline, shut down
                              writing, print every line until kavm closes
Every wait is bounded (5 s per reply); a timeout prints TIMEOUT.
"""
import codecs
import json
import socket
import sys
import time

TIMEOUT = 5


def connect(path):
    deadline = time.time() + TIMEOUT
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            # The backlog is full until kavm's loop accepts: wait, bounded.
            s.close()
            if time.time() > deadline:
                raise
            time.sleep(0.01)


class Lines:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def next(self):
        while b"\n" not in self.buf:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return "TIMEOUT"
            except ConnectionResetError:
                return "RESET"
            if not data:
                return "EOF"
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace")

    def reply(self):
        while True:
            line = self.next()
            if not line.startswith('{"event"'):
                return line


def interactive(path):
    s = connect(path)
    lines = Lines(s)
    for raw in sys.stdin.buffer:
        req = codecs.escape_decode(raw.rstrip(b"\n"))[0]
        s.sendall(req + b"\n")
        print(lines.reply(), flush=True)


def events(path, n):
    s = connect(path)
    lines = Lines(s)
    # Served (accepted) before saying so: only then do events reach it.
    s.sendall(b'{"execute":"query-netdevs","id":"listen"}\n')
    lines.reply()
    print("CONNECTED", flush=True)
    for _ in range(int(n)):
        print(lines.next(), flush=True)


def big(path, n):
    s = connect(path)
    lines = Lines(s)
    s.sendall(b"x" * int(n) + b"\n" + b'{"execute":"query-status","id":"after"}\n')
    print(lines.reply())
    print(lines.reply())


def many(path, n):
    socks = [connect(path) for _ in range(int(n))]
    time.sleep(0.5)
    served = refused = other = 0
    for i, s in enumerate(socks):
        try:
            s.sendall(b'{"execute":"query-status","id":%d}\n' % i)
        except OSError:
            pass  # refused and closed already: its line is still there to read
        line = Lines(s).reply()
        if line.startswith('{"id":%d,"return":{"status":"running"' % i):
            served += 1
        elif line == ('{"error":{"class":"GenericError",'
                      '"desc":"too many clients (64)"}}'):
            refused += 1
        else:
            other += 1
            print("unexpected:", line, file=sys.stderr)
    for s in socks:
        s.close()
    print("served %d refused %d other %d" % (served, refused, other))


def noread(path, n):
    quiet = connect(path)
    quiet.setblocking(False)
    req = b'{"execute":"query-netdevs","id":1}\n' * 1000
    sent = 0
    deadline = time.time() + TIMEOUT
    # Send until kavm stops reading (its replies are not read): it must not block.
    while time.time() < deadline:
        try:
            sent += quiet.send(req)
        except BlockingIOError:
            break
    busy = connect(path)
    lines = Lines(busy)
    replies = 0
    for i in range(int(n)):
        up = "true" if i % 2 else "false"
        busy.sendall(b'{"execute":"set-link","id":%d,"arguments":{"name":"n0","up":%s}}\n'
                     % (i, up.encode()))
        if lines.reply().startswith('{"id":%d,"return"' % i):
            replies += 1
    # kavm closed the quiet client: reading reaches EOF (or a reset) within bounds.
    quiet.setblocking(True)
    quiet.settimeout(TIMEOUT)
    state = "open"
    try:
        while quiet.recv(1 << 20):
            pass
        state = "closed"
    except ConnectionResetError:
        state = "closed"
    except socket.timeout:
        pass
    print("noread: %s; other: %d replies" % (state, replies))


def eof(path, req):
    s = connect(path)
    lines = Lines(s)
    s.sendall(req.encode())
    s.shutdown(socket.SHUT_WR)
    while True:
        line = lines.next()
        print(line)
        if line in ("EOF", "RESET", "TIMEOUT"):
            break


def main():
    path = sys.argv[1]
    if len(sys.argv) == 2:
        return interactive(path)
    cmd, arg = sys.argv[2], sys.argv[3]
    {"events": events, "big": big, "many": many, "noread": noread, "eof": eof}[cmd](path, arg)


if __name__ == "__main__":
    main()
