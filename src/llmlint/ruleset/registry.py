"""Pairs every rule document in rules/ with its class in llmlint.rules (module = snake_case name, class = CamelCase)."""

from __future__ import annotations

import importlib
import pkgutil

from llmlint.ruleset.rule import Rule
from llmlint.ruleset.ruledoc import RuleMeta, load_rule_docs


def module_name(rule_name: str) -> str:
    return rule_name.replace("-", "_")


def class_name(rule_name: str) -> str:
    return "".join(part.capitalize() for part in rule_name.split("-"))


def rule_class(meta: RuleMeta) -> type[Rule]:
    module = importlib.import_module(f"llmlint.rules.{module_name(meta.name)}")
    cls = getattr(module, class_name(meta.name))
    if not (isinstance(cls, type) and issubclass(cls, Rule)):
        raise TypeError(f"llmlint.rules.{module_name(meta.name)}.{class_name(meta.name)} is not a Rule")
    return cls


def rule_modules() -> list[str]:
    import llmlint.rules

    return sorted(m.name for m in pkgutil.iter_modules(llmlint.rules.__path__) if not m.name.startswith("_"))


def all_rules() -> dict[str, RuleMeta]:
    return load_rule_docs()


def find_rule(key: str) -> RuleMeta | None:
    """A rule by id (`LLM101`, any case) or name (`missing-timeout`)."""
    for meta in load_rule_docs().values():
        if key.upper() == meta.id or key.lower() == meta.name:
            return meta
    return None


def instantiate(metas, options_by_name: dict) -> list[Rule]:
    return [rule_class(meta)(meta, options_by_name.get(meta.name)) for meta in metas]
