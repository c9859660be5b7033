"""fieldvault identity: Tenants, people, organisations, login and tokens."""
