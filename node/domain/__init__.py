"""Domain rules as plain Python: frozen values and pure functions.

Nothing here knows pycrdt, SQL or Qt (ARCHITECTURE §1); every rule can be
tested with values alone.
"""
