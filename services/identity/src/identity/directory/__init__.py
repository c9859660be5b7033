"""Tenants, organisations, areas, people, invitations and partner clients."""
