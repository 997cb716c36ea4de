"""Base classes for the contract models.

Mistral's request schemas set ``additionalProperties: false`` on every object except free-form ones
(JSON schemas, metadata, guardrail settings), and its server answers an unknown key with a 422
``extra_forbidden``. ``Closed`` reproduces that; ``Open`` is for the few objects the spec leaves open.
``Params`` is for what FastAPI reads field by field (query and path parameters, form fields): a key it does
not declare is never looked at, so never refused.
"""

from pydantic import BaseModel, ConfigDict


class Closed(BaseModel):
    """An object that rejects keys it does not declare, as Mistral does."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)


class Open(BaseModel):
    """An object the spec leaves open: unknown keys are kept."""

    model_config = ConfigDict(extra="allow")


class Params(BaseModel):
    """Query, path or form parameters: unknown keys are ignored, as FastAPI never reads them."""

    model_config = ConfigDict(extra="ignore")
