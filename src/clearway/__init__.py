"""Clearway: cross-border logistics compliance behind one API gateway."""
