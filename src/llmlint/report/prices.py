"""Prices from genai-prices (a maintained table of provider prices), never from a table of llmlint's own.

genai-prices is read from the copy installed with llmlint; it is never asked to download newer prices (the report
runs without network). A model it does not know, a self-hosted model or a missing package is an unknown price:
the report says so and counts nothing for it."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from decimal import Decimal

# llmlint's provider names (data/providers.toml) -> genai-prices provider ids; the others (frameworks such as
# LangChain or LiteLLM, raw HTTP) are matched by the model's name alone.
PROVIDER_IDS = {
    "openai": "openai", "anthropic": "anthropic", "google": "google", "mistral": "mistral", "cohere": "cohere",
    "groq": "groq", "together": "together", "bedrock": "aws",
}
SELF_HOSTED = {"ollama"}  # models run on the user's own machines: no per-token price


@dataclass(frozen=True)
class Price:
    """One model at one provider in genai-prices: its id there and its base rates in dollars per million tokens
    (for display; costs are computed by genai-prices itself, tiers included)."""

    provider: str
    model: str
    input_mtok: Decimal
    output_mtok: Decimal
    model_ref: str  # the name the code uses
    provider_ref: str | None  # the genai-prices provider id asked for


class PriceTable:
    """genai-prices at one date. `version` is None when the package is not installed (or needs a newer Python)."""

    def __init__(self, on: _dt.date | None = None):
        self.on = on or _dt.datetime.now(_dt.timezone.utc).date()
        try:
            import genai_prices
        except ImportError:
            self.version, self._gp = None, None
        else:
            self.version, self._gp = genai_prices.__version__, genai_prices
        self._memo: dict = {}

    @property
    def when(self) -> _dt.datetime:
        return _dt.datetime.combine(self.on, _dt.time(12), tzinfo=_dt.timezone.utc)

    def lookup(self, model: str | None, provider: str) -> tuple[Price | None, str]:
        """(the price, "") or (None, why it is unknown)."""
        if model is None:
            return None, "model unknown"
        if provider in SELF_HOSTED:
            return None, "self-hosted model: no per-token price"
        if self._gp is None:
            return None, "genai-prices is not installed"
        key = (model, provider)
        if key not in self._memo:
            self._memo[key] = self._lookup(model, provider)
        return self._memo[key]

    def _lookup(self, model: str, provider: str):
        provider_id = PROVIDER_IDS.get(provider)
        try:
            calc = self._gp.calc_price(self._gp.Usage(input_tokens=1, output_tokens=1), model, provider_id=provider_id,
                                       genai_request_timestamp=self.when)
        except LookupError:
            return None, f"no price for `{model}` in genai-prices {self.version}"
        except Exception as error:  # a price the table cannot compute for plain tokens
            return None, f"genai-prices cannot price `{model}` ({type(error).__name__})"
        rates = calc.model_price
        price = Price(calc.provider.id, calc.model.id, _base(rates.input_mtok), _base(rates.output_mtok), model, provider_id)
        if not price.input_mtok and not price.output_mtok:
            return None, f"genai-prices lists no token price for `{model}` at {calc.provider.id}"
        return price, ""

    def cost(self, price: Price, input_tokens: int, output_tokens: int) -> Decimal:
        """Dollars for one request of that many tokens, as genai-prices computes it (tiered rates included)."""
        calc = self._gp.calc_price(self._gp.Usage(input_tokens=input_tokens, output_tokens=output_tokens), price.model_ref,
                                   provider_id=price.provider_ref, genai_request_timestamp=self.when)
        return Decimal(calc.total_price)


def _base(rate) -> Decimal:
    if rate is None:
        return Decimal(0)
    return Decimal(getattr(rate, "base", rate))
