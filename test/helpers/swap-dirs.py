"""Swaps two directory entries atomically (renameat2 RENAME_EXCHANGE) in a tight loop, for the
Kmsdata swap-race test: argv = a, b, seconds (the longest it goes on, from when it starts
swapping), and optionally a trigger file: it starts swapping only once that file exists (so that
it is already running when the moment comes), and once it has swapped it creates <trigger>.swapping
(so that the test can hold the run until the swapping is under way). Stops early on SIGTERM (the
test sends it when the clear it races is over). Ends with both back where they started; prints
the number of swaps."""
import ctypes
import os
import signal
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_EXCHANGE = 2
a, b, seconds = sys.argv[1].encode(), sys.argv[2].encode(), float(sys.argv[3])
trigger = sys.argv[4] if len(sys.argv) > 4 else None
stop = False


def on_term(_signum, _frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
while trigger and not stop and not os.path.exists(trigger):
    time.sleep(0.001)
end = time.time() + seconds
swaps = 0
while not stop and time.time() < end:
    if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0:
        swaps += 1
        if swaps == 1 and trigger:
            open(trigger + '.swapping', 'w').close()
if swaps % 2:
    libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)
print(swaps)
