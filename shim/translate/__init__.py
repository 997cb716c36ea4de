"""Pure translation between OpenAI's wire format and Mistral's: tables and functions, no I/O."""
