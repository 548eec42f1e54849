"""Load profiles for `make bench`: Clearway through its gateway, next to a bare baseline."""
