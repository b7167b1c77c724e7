"""A local stand-in for Supabase Auth (GoTrue) under ``/auth/v1``: sign-up with e-mail confirmation
through a local mailbox, password and refresh-token grants, the user endpoints, logout and the admin
user API, on the ``auth`` tables of devstack/bootstrap.sql. Development and tests only."""
