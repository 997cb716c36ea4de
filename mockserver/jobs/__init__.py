"""The mock's stateful side: Mistral's files and batch jobs, kept per mock, with visible state transitions.

``files`` keeps uploaded and generated files on disk (a folder per mock) with their metadata; ``batch`` runs
batch jobs in the background, answering each line with the mock's own engine (``lines``) and writing
Mistral-format output and error files into the file store; ``source`` answers the routes of both, as the
first source of the synthetic chain.
"""
