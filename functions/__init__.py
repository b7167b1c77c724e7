"""Prompt Manager's HTTP functions: publish-prompt, usage-events, access-check, cohort-sync.

The functions-framework targets are in `functions.main`; the rest of the package is private
(``_settings``, ``_errors``, ``_auth``, ``_webhooks``, ``_db``, ``_http``) except the pydantic
models in `functions.models`. Importing the package starts nothing and reads no settings.
"""
