/**
 * Rollback of 20261202110300_add_workspace_rpcs.sql.
 *   - drops the workspace RPCs and their private helpers.
 * Loses no data. Run after every later migration is rolled back (`python -m devstack.rollback`
 * does); the history row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop function if exists public.restore_workspace(uuid);
drop function if exists private.restore_workspace(uuid);
drop function if exists public.delete_workspace(uuid);
drop function if exists public.transfer_workspace_ownership(uuid, uuid);
drop function if exists public.leave_workspace(uuid);
drop function if exists public.remove_workspace_member(uuid, uuid);
drop function if exists public.change_workspace_member_role(uuid, uuid, public.workspace_role);
drop function if exists public.add_workspace_member(uuid, uuid, public.workspace_role);
drop function if exists private.explain_member_refusal(uuid, uuid);
drop function if exists private.require_member_args(uuid, uuid, public.workspace_role, boolean);
drop function if exists public.create_workspace(text, text, public.workspace_kind, text);
drop function if exists private.member_json(public.workspace_members);

delete from supabase_migrations.schema_migrations where version = '20261202110300';

commit;
