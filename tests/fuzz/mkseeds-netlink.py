#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# The netlink fuzzer's seeds, from a real kernel: run as root in a fresh netns
# with br0 (a bridge) and tap0 (a vnet_hdr tap) on it:
#   unshare -n sh -c 'ip link add br0 type bridge; ip tuntap add tap0 mode tap vnet_hdr;
#     ip link set tap0 master br0; python3 tests/fuzz/mkseeds-netlink.py tests/fuzz/corpus/netlink'
import socket, struct, os, sys
out = sys.argv[1]
NETLINK_EXT_ACK, NETLINK_CAP_ACK, SOL_NETLINK = 11, 10, 270
RTM_NEWLINK, RTM_GETLINK = 16, 18
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP, NLM_F_CREATE, NLM_F_EXCL = 1, 4, 0x300, 0x400, 0x200
def attr(t, payload):
    l = 4 + len(payload)
    return struct.pack('=HH', l, t) + payload + b'\0' * ((4 - l % 4) % 4)
def msg(t, flags, payload, seq=1):
    return struct.pack('=IHHII', 16 + len(payload), t, flags, seq, 0) + payload
def recv_all(s):
    bufs = []
    while True:
        b = s.recv(65536)
        bufs.append(b)
        t = struct.unpack_from('=H', b, 4)[0]
        if t in (2, 3):  # NLMSG_ERROR, NLMSG_DONE
            return bufs
def sock(cap):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1 if cap else 0)
    return s
ifinfo = struct.pack('=BxHiII', 0, 0, 0, 0, 0)
s = sock(True)
s.send(msg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, ifinfo))
for i, b in enumerate(recv_all(s)):
    open(f'{out}/linkdump-{i}', 'wb').write(b)
# An unknown link kind: -EOPNOTSUPP with "Unknown device type", capped and echoed.
req = ifinfo + attr(3, b'fz0\0') + attr(18, attr(1, b'nosuchkind\0'))
for cap in (True, False):
    s = sock(cap)
    s.send(msg(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, req))
    open(f'{out}/extack-{"capped" if cap else "echoed"}', 'wb').write(s.recv(65536))
# The module's replies, made by hand (no module here): type = family, genl cmd 1.
genl = struct.pack('=BBH', 1, 1, 0)
u32 = lambda t, v: attr(t, struct.pack('=I', v))
stats = lambda t: attr(t, attr(1, struct.pack('=Q', 7)) + attr(2, struct.pack('=Q', 9)))
mac = b'\x52\x54\x00\x12\x34\x56'
bodies = {
    'switch': (0x1e, attr(1, b'sw0\0') + u32(2, 300000) + u32(3, 4096) + u32(4, 2) + u32(5, 3) + stats(6)),
    'port': (0x1f, attr(1, b'sw0\0') + u32(7, 7) + attr(8, b'tap0\0') + u32(9, 2) + attr(10, mac) + stats(11)),
    'fdb': (0x20, attr(1, b'sw0\0') + attr(12, mac) + attr(8, b'tap0\0') + u32(7, 7) + u32(13, 1) + u32(14, 1500)),
}
for kind, (t, body) in bodies.items():
    open(f'{out}/genl-{kind}', 'wb').write(msg(t, 2, genl + body))
