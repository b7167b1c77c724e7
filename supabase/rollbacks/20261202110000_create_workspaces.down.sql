/**
 * Rollback of 20261202110000_create_workspaces.sql.
 *   - drops the auth.users triggers (personal workspaces, hand-over), tables workspace_cohorts,
 *     workspace_members and workspaces, the role helpers and the enums workspace_role and
 *     workspace_kind.
 * LOSES DATA: every workspace, membership and cohort binding.
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

-- devstack: runs as the superuser locally (drops triggers on auth.users)
begin;

drop trigger if exists on_auth_user_deleted_hand_over_workspaces on auth.users;
drop trigger if exists on_auth_user_created_create_personal_workspace on auth.users;
drop function if exists private.hand_over_workspaces();
drop function if exists private.create_personal_workspace();
drop table if exists public.workspace_cohorts;
drop table if exists public.workspace_members;
drop table if exists public.workspaces;
drop function if exists private.guard_workspace_cohort();
drop function if exists private.guard_workspace_member();
drop function if exists private.add_workspace_creator();
drop function if exists private.guard_workspace_write();
drop function if exists private.assert_workspace_role(uuid, public.workspace_role);
drop function if exists private.is_trusted_caller();
drop function if exists private.workspace_role(uuid);
drop function if exists private.caller_workspace_ids(public.workspace_role);
drop function if exists private.caller_workspace_roles();
drop function if exists private.caller_active_cohort_ids();
drop function if exists private.is_course_workspace(uuid);
drop function if exists private.default_workspace_id();
drop type if exists public.workspace_kind;
drop type if exists public.workspace_role;

delete from supabase_migrations.schema_migrations where version = '20261202110000';

commit;
