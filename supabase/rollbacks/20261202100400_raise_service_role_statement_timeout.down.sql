/**
 * Rollback of 20261202100400_raise_service_role_statement_timeout.sql.
 *   - removes service_role's own statement_timeout: it runs under the authenticator's (8 s) again,
 *     which the largest cohort-sync deliveries may exceed.
 * Loses no data. Run after every later migration is rolled back (`python -m devstack.rollback`
 * does); the history row is deleted so `supabase migration up` applies the migration again.
 */

begin;

alter role service_role reset statement_timeout;
notify pgrst, 'reload schema';

delete from supabase_migrations.schema_migrations where version = '20261202100400';

commit;
