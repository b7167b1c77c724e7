/**
 * Rollback of 20261202100000_add_identity_helpers.sql.
 *   - drops private.caller_confirmed_email(), the domains public.slug and public.email_address,
 *     private.is_valid_email() and private.normalize_email().
 * Loses no data. Run after every later migration is rolled back (`python -m devstack.rollback`
 * does; later migrations use these helpers and domains); the history row is deleted so
 * `supabase migration up` applies the migration again.
 */

begin;

drop function if exists private.caller_confirmed_email();
drop domain if exists public.slug;
drop domain if exists public.email_address;
drop function if exists private.is_valid_email(text);
drop function if exists private.normalize_email(text);

delete from supabase_migrations.schema_migrations where version = '20261202100000';

commit;
