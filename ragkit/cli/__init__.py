"""The ``ragkit`` command line (thin layer over the public API)."""
