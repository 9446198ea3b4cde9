"""The rule machinery: rule documents, the rule base class, the registry pairing them, the README's rule table."""
