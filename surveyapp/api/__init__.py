"""The read-only JSON API for analysts: bearer tokens, city-scoped reads, an OpenAPI document."""
