/**
 * Rollback of 20261123130500_create_prompt_telemetry.sql.
 *   - drops the RPCs ingest_usage_events() and set_telemetry_opt_out();
 *   - drops tables prompt_usage_logs and prompt_user_preferences (with their triggers, indexes
 *     and policies), then the trigger functions and public.fn_user_has_opted_out().
 * LOSES DATA: every usage event, and every user's telemetry opt-out. After the migration is
 * applied again all users count as opted in until they opt out again; tell them, or export
 * prompt_user_preferences first and load it back before logging is re-enabled.
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop function if exists public.ingest_usage_events(jsonb);
drop function if exists public.set_telemetry_opt_out(boolean);
drop table if exists public.prompt_usage_logs;
drop table if exists public.prompt_user_preferences;
drop function if exists private.anonymise_opted_out_usage();
drop function if exists private.set_usage_log_version();
drop function if exists private.clear_anonymous_usage_metadata();
drop function if exists public.fn_user_has_opted_out();

delete from supabase_migrations.schema_migrations where version = '20261123130500';

commit;
