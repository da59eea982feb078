"""Service levels: policies (targets per inbox, team or label) and each open conversation's clocks."""
