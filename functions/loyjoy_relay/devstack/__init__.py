"""The local stack behind ``loyjoy-relay dev``: emulators or embedded stand-ins, and views.

Not deployed (the staging step leaves it out); it only starts and wires the real parts.
"""
