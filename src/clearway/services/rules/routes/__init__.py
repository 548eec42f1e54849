"""The rules service's routes, one module per resource; `rules.api` assembles them."""
