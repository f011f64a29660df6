"""The local stack: embedded AWS (moto server), chalice local, a queue pump. Never deployed."""
