/**
 * Favorites: a learner's own bookmarks, only on prompts they can see. Nobody can write a row as
 * another user: every policy pins user_id to the JWT's sub.
 */

create table public.prompt_favorites (
    user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
    prompt_id uuid not null references public.prompts (id) on delete cascade,
    created_at timestamptz not null default now(),
    primary key (user_id, prompt_id)
);
comment on table public.prompt_favorites is
    'A user''s favorite prompts. Users read and write only their own rows, and only on prompts they can see.';

create index prompt_favorites_prompt_id_idx on public.prompt_favorites (prompt_id);

alter table public.prompt_favorites enable row level security;
revoke all on table public.prompt_favorites from anon, authenticated;
grant select, insert, delete on table public.prompt_favorites to authenticated;
grant all on table public.prompt_favorites to service_role;

-- "Visible" is decided by the prompts policies: learners with access see published prompts,
-- admins see all, everyone else sees none.
create policy "prompt_favorites: users read their own favorites on visible prompts"
    on public.prompt_favorites for select to authenticated
    using (
        user_id = (select auth.uid())
        and exists (select 1 from public.prompts p where p.id = prompt_id)
    );
create policy "prompt_favorites: users add their own favorites on visible prompts"
    on public.prompt_favorites for insert to authenticated
    with check (
        user_id = (select auth.uid())
        and exists (select 1 from public.prompts p where p.id = prompt_id)
    );
create policy "prompt_favorites: users remove their own favorites on visible prompts"
    on public.prompt_favorites for delete to authenticated
    using (
        user_id = (select auth.uid())
        and exists (select 1 from public.prompts p where p.id = prompt_id)
    );
