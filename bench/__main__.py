"""`make bench`: every benchmark, cold start first."""

from bench import cold_start

cold_start.run()
