"""The staff console: a city's initiatives, waves and responses, scoped to the user's cities."""
