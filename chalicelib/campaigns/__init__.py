"""Campaigns: a message to every contact of a directory, one delivery per contact."""
