"""The API's description: the OpenAPI document, built from the routes, and its viewers."""
