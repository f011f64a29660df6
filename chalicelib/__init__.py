"""Clean CRM: the package deployed to Lambda beside app.py."""
