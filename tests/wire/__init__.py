"""Tests of mistral_wire, the package both servers share: contract models against the spec, tokenizers."""
