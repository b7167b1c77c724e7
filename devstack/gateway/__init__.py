"""A local stand-in for Supabase's API gateway and PostgREST, for development and tests only.

It serves ``/rest/v1`` (tables and RPC, with PostgREST's semantics) and ``/functions/v1`` (the
project's Python functions) on ``API_URL``. Production uses real Supabase; see devstack/README.md for
what is and is not supported.
"""
