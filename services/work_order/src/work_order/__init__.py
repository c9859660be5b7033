"""fieldvault work-order: The work order lifecycle and dispatch to employees and subcontractors."""
