"""Dynamics 365 (to come)."""
