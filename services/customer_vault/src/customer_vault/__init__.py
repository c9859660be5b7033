"""fieldvault customer-vault: encrypted customers, sites and secrets; grants, reveal, audit."""
