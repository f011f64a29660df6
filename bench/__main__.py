"""`make bench`: every benchmark, cold start first."""

from bench import campaigns, cold_start, exports, imports, list_contacts, templates

cold_start.run()
list_contacts.run()
imports.run()
exports.run()
campaigns.run()
templates.run()
