"""Directories: the contact lists a user keeps."""
