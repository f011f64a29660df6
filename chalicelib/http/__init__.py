"""What every route shares: problem responses, bodies, auth, pagination."""
