"""The API gateway: the only door into Clearway."""
