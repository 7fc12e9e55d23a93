"""The ``loyjoy-relay`` command line (DESIGN.md, "Command line"): entry points that wire."""
