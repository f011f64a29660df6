"""``python -m local`` (``make run``) starts the local stack."""

from local.stack import main

main()
