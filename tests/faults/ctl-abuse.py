#!/usr/bin/env python3
# Control-socket abuse for 080-control.sh: IDLE clients that connect and
# never send; NOREAD clients that send "show calls" requests as fast as
# the socket takes them and never read a reply; GARBAGE clients that send
# random bytes.  Runs for SECONDS, then closes everything.
import os, random, socket, struct, sys, time, json

path, seconds, idle, noread, garbage = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
payload = json.dumps({"argv": ["show", "calls"]}).encode()
frame = struct.pack("!IIHH", 1, len(payload), 1, 0) + payload
socks = []
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.setblocking(False)
    return s
for _ in range(idle):
    try: socks.append(("idle", conn()))
    except OSError as e: print("# idle connect: %s" % e)
for _ in range(noread):
    try: socks.append(("noread", conn()))
    except OSError as e: print("# noread connect: %s" % e)
for _ in range(garbage):
    try: socks.append(("garbage", conn()))
    except OSError as e: print("# garbage connect: %s" % e)
sent = 0
end = time.time() + seconds
while time.time() < end:
    for kind, s in socks:
        try:
            if kind == "noread":
                s.send(frame * 16); sent += 16
            elif kind == "garbage":
                s.send(os.urandom(random.randint(1, 4096)))
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            pass
    time.sleep(0.01)
print("# ctl abuse: %d idle, %d not reading (%d requests sent), %d garbage" % (idle, noread, sent, garbage))
