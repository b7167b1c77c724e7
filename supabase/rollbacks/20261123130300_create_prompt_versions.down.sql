/**
 * Rollback of 20261123130300_create_prompt_versions.sql.
 *   - drops, on prompts: the trigger prompts_guard_current_version, the foreign key
 *     prompts_current_version_id_fkey and the index prompts_id_current_version_id_idx;
 *   - drops table prompt_versions (with its triggers, index and policies) and the trigger
 *     functions assign_prompt_version_number(), guard_prompt_version_update(),
 *     guard_prompt_current_version().
 * LOSES DATA: every prompt version (all prompt text). The prompts themselves stay, but their
 * current_version_id would point at nothing, so it is cleared, and published prompts become
 * drafts (a published prompt needs a version: prompts_published_has_version_check). Archived
 * prompts stay archived; published_at is kept as history. Without this the migration could not
 * be applied again (its foreign key would fail on the dangling ids).
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop trigger if exists prompts_guard_current_version on public.prompts;
alter table if exists public.prompts drop constraint if exists prompts_current_version_id_fkey;
drop index if exists public.prompts_id_current_version_id_idx;

update public.prompts p
   set current_version_id = null,
       status = case when p.status = 'published' then 'draft' else p.status end
 where p.current_version_id is not null or p.status = 'published';

drop table if exists public.prompt_versions;
drop function if exists private.guard_prompt_current_version();
drop function if exists private.guard_prompt_version_update();
drop function if exists private.assign_prompt_version_number();

delete from supabase_migrations.schema_migrations where version = '20261123130300';

commit;
