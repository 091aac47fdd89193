"""Row ids: positive 64-bit integers (BigAutoField).

In a path anything else is a 404 before any query; in a body or a filter it is a 400. Either way a 30-digit id
never reaches the database, where it would overflow SQLite's integer and become a 500.
"""

MAX_ID = 2**63 - 1
ID_PATTERN = r"[0-9]{1,18}"
