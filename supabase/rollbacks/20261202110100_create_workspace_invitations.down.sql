/**
 * Rollback of 20261202110100_create_workspace_invitations.sql.
 *   - drops the invitation RPCs, table workspace_invitations and its trigger function.
 * LOSES DATA: every invitation (pending ones can no longer be accepted).
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop function if exists public.accept_workspace_invitation(text);
drop function if exists private.accept_workspace_invitation(text);
drop function if exists public.invite_workspace_member(uuid, text, public.workspace_role, integer);
drop table if exists public.workspace_invitations;
drop function if exists private.guard_workspace_invitation();

delete from supabase_migrations.schema_migrations where version = '20261202110100';

commit;
