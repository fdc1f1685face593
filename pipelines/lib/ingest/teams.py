"""Microsoft Teams reports (to come)."""
