#!/usr/bin/env python3
"""zmtp_send.py HOST|/unix/path PORT HEXFRAME... — speak just enough ZMTP 3.0 (NULL
mechanism, as a DEALER) to deliver one message of the given frames (hex
strings) to a ZeroMQ ROUTER, then read for up to 2 s and print the hex of
every frame that comes back, one per line. With --raw HEX it sends those
bytes over plain TCP instead (garbage that is not ZMTP at all).
Used by the cluster scenario tests to send malformed control messages;
the test machine has no pyzmq."""
import socket
import struct
import sys


def frame(data, more):
    flags = 0x01 if more else 0x00
    if len(data) < 256:
        return bytes([flags, len(data)]) + data
    return bytes([flags | 0x02]) + struct.pack(">Q", len(data)) + data


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    args = sys.argv[3:]
    if host.startswith("/"):  # a unix socket path (ipc://); PORT is ignored
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(host)
    else:
        s = socket.create_connection((host, port), timeout=5)
    if args and args[0] == "--raw":
        s.sendall(bytes.fromhex(args[1]))
        s.settimeout(1)
        try:
            s.recv(4096)
        except OSError:
            pass
        s.close()
        return
    greeting = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL" + b"\x00" * 16 + b"\x00" + b"\x00" * 31
    s.sendall(greeting)
    buf = b""
    while len(buf) < 64:  # the peer's greeting, before anything else
        chunk = s.recv(64 - len(buf))
        if not chunk:
            sys.exit("zmtp_send: the peer closed during the greeting")
        buf += chunk
    prop = bytes([11]) + b"Socket-Type" + struct.pack(">I", 6) + b"DEALER"
    body = bytes([5]) + b"READY" + prop
    s.sendall(bytes([0x04, len(body)]) + body)
    frames = [bytes.fromhex(a) for a in args]
    for i, f in enumerate(frames):
        s.sendall(frame(f, i + 1 < len(frames)))
    # read the peer's greeting, READY and any reply; print reply frames
    s.settimeout(1)
    msgs = []
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            msgs = parse(buf[64:])
            if msgs and msgs[-1][1]:  # a whole message came back: done
                break
    except OSError:
        pass
    s.close()
    for data, _ in parse(buf[64:]):
        print(data.hex())


def parse(b):
    """The data frames in b (commands skipped), each with 'last frame'."""
    out, pos = [], 0
    while pos + 2 <= len(b):
        flags = b[pos]
        if flags & 0x02:
            if pos + 9 > len(b):
                break
            (n,) = struct.unpack(">Q", b[pos + 1:pos + 9])
            pos += 9
        else:
            n = b[pos + 1]
            pos += 2
        if pos + n > len(b):
            break
        if not flags & 0x04:
            out.append((b[pos:pos + n], not flags & 0x01))
        pos += n
    return out


main()
