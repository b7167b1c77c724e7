/**
 * Rollback of 20261123130000_create_private_schema_and_flags.sql, the first migration: afterwards
 * the database holds nothing of this project's schema.
 *   - drops tables prompt_feature_flags and prompt_admins (with their trigger and policies);
 *   - drops public.fn_feature_enabled(), public.fn_is_prompt_admin(), private.is_prompt_admin(),
 *     private.set_updated_at();
 *   - drops schema `private` and the `citext` extension. Both are dropped without cascade, so
 *     this fails (and changes nothing) if anything else still uses them.
 * LOSES DATA: the feature flags' state (re-applying the migration creates both flags OFF) and the
 * prompt_admins memberships (admins by JWT claim are unaffected). auth.users is not touched.
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop table if exists public.prompt_feature_flags;
drop table if exists public.prompt_admins;
drop function if exists public.fn_feature_enabled(text);
drop function if exists public.fn_is_prompt_admin();
drop function if exists private.is_prompt_admin();
drop function if exists private.set_updated_at();
drop schema if exists private;
drop extension if exists citext;

delete from supabase_migrations.schema_migrations where version = '20261123130000';

commit;
