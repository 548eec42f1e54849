"""The monitor's rules in plain Python: statistics (`stats`) and the audit chain
(`audit_chain`). No web framework, no database."""
