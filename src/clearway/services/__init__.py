"""The five services; none imports another (import-linter checks it)."""
