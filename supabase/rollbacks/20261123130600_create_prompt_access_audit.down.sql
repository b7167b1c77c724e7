/**
 * Rollback of 20261123130600_create_prompt_access_audit.sql.
 *   - drops the RPC public.check_prompt_access() and its definer half private.check_prompt_access();
 *   - drops table prompt_access_audit (with its indexes and policy).
 * LOSES DATA: every row of prompt_access_audit (the access-check audit trail). Export it first
 * if it must be kept.
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop function if exists public.check_prompt_access();
drop function if exists private.check_prompt_access();
drop table if exists public.prompt_access_audit;

delete from supabase_migrations.schema_migrations where version = '20261123130600';

commit;
