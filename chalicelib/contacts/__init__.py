"""Contacts: the people in a directory, normalised the same way by the API and the importer."""
