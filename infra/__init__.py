"""The deploy template of Clean CRM, built from the code (never deployed itself)."""
