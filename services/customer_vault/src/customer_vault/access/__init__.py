"""Who may see what, and the record of who did: grants, reveal, shares, rotation, audit, GDPR."""
