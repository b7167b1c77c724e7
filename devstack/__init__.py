"""The Docker-less local Supabase stack: a throwaway PostgreSQL cluster made Supabase-compatible,
migrated with the real Supabase CLI, and served by a local PostgREST stand-in.

Development and test tooling only. Production runs on Supabase (hosted or `supabase start`).
"""
