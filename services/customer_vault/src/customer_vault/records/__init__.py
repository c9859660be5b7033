"""Customer records: customers, sites, their secrets, contracts, DPA documents; keys on the wall."""
