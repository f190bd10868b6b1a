"""The review app: defector collaborators watch, judge and sign off each item (issue 7)."""
