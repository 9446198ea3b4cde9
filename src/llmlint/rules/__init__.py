"""One module per rule; each module's class is named after the rule (see llmlint.ruleset.registry)."""
