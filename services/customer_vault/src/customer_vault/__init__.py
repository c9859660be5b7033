"""fieldvault customer-vault: Encrypted customers, sites and secrets; grants, reveal, tamper-evident audit."""
