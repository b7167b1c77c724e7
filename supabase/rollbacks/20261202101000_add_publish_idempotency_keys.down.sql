/**
 * Rollback of 20261202101000_add_publish_idempotency_keys.sql.
 *   - drops the RPC publish_prompt_version_idempotent(), the helper private.idempotency_caller()
 *     and the table private.publish_idempotency_keys.
 * LOSES DATA: the remembered idempotency keys (at most 24 hours of them): a publish retried after the
 * rollback with an old key is not recognised. publish-prompt without the header keeps working;
 * with the header it fails until the migration is applied again.
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop function if exists public.publish_prompt_version_idempotent(text, uuid, uuid, text, text);
drop table if exists private.publish_idempotency_keys;
drop function if exists private.idempotency_caller();

delete from supabase_migrations.schema_migrations where version = '20261202101000';

commit;
