"""Resource embedding through the stand-in, per PostgREST 12 (docs: references/api/resource_embedding).

Two kinds of tests: HTTP through the gateway (the real supabase-py client where it can express
the request, raw HTTP otherwise) on the project's schema and on scratch tables (``gw_emb_*``:
many-to-many, one-to-one, two foreign keys to one table, RLS that hides rows), and SQL-level tests
that run the statements `sqlbuild` generates directly, as the caller's role, including EXPLAIN.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qsl

import psycopg
import pytest
from postgrest.exceptions import APIError

from devstack.gateway import sqlbuild as sb
from devstack.gateway.catalog import load_snapshot

HIDDEN_DRAFT = "30000000-0000-4000-a000-000000000012"  # a draft prompt: invisible to learners

EMBED_SQL = r"""
create table public.gw_emb_authors (id integer primary key, name text not null);
create table public.gw_emb_profiles (
    author_id integer primary key references public.gw_emb_authors (id), bio text);
create table public.gw_emb_books (
    id integer primary key, title text not null,
    author_id integer references public.gw_emb_authors (id),
    editor_id integer constraint gw_emb_books_editor_fkey references public.gw_emb_authors (id));
create table public.gw_emb_tags (id integer primary key, name text not null);
create table public.gw_emb_book_tags (
    book_id integer references public.gw_emb_books (id),
    tag_id integer references public.gw_emb_tags (id),
    primary key (book_id, tag_id));
do $$
declare t text;
begin
    foreach t in array array['gw_emb_authors', 'gw_emb_profiles', 'gw_emb_books', 'gw_emb_tags', 'gw_emb_book_tags'] loop
        execute format('alter table public.%I enable row level security', t);
        execute format('revoke all on table public.%I from anon', t);
    end loop;
end $$;
create policy "gw_emb_authors: all but secret authors" on public.gw_emb_authors
    for select to authenticated using (name not like 'secret%');
create policy "gw_emb_profiles: all" on public.gw_emb_profiles for select to authenticated using (true);
create policy "gw_emb_books: all" on public.gw_emb_books for select to authenticated using (true);
create policy "gw_emb_tags: all but secret tags" on public.gw_emb_tags
    for select to authenticated using (name not like 'secret%');
create policy "gw_emb_book_tags: all" on public.gw_emb_book_tags for select to authenticated using (true);
insert into public.gw_emb_authors values (1, 'ann'), (2, 'bob'), (3, 'secret carl');
insert into public.gw_emb_profiles values (1, 'writes');
insert into public.gw_emb_books values (10, 'alpha', 1, 2), (11, 'beta', 1, null), (12, 'gamma', 3, 1), (13, 'delta', null, null);
insert into public.gw_emb_tags values (100, 'red'), (101, 'blue'), (102, 'secret green');
insert into public.gw_emb_book_tags values (10, 100), (10, 101), (11, 102), (12, 100);
"""
EMBED_DROP_SQL = ("drop table if exists public.gw_emb_book_tags, public.gw_emb_tags, public.gw_emb_books, "
                  "public.gw_emb_profiles, public.gw_emb_authors")


@pytest.fixture(scope="module")
def emb(scratch: str) -> Iterator[str]:
    with psycopg.connect(scratch, autocommit=True) as conn:
        conn.execute(EMBED_DROP_SQL)
        conn.execute(EMBED_SQL)
        conn.execute("notify pgrst, 'reload schema'")
    yield scratch
    with psycopg.connect(scratch, autocommit=True) as conn:
        conn.execute(EMBED_DROP_SQL)
        conn.execute("notify pgrst, 'reload schema'")


def get(rest, path: str, token: str, **kwargs):
    raw = rest("GET", path, token=token, **kwargs)
    assert raw.status_code in (200, 206), raw.text
    return raw.json()


# -- the project's schema, with the real supabase client --------------------------------------------
#: The learner is a viewer of the default course workspace (v1's library) only.
IN_COURSE = "p.workspace_id = (select id from public.workspaces where is_default)"


def test_prompts_with_prompt_versions_embeds_every_visible_version(db, as_learner):
    """`prompts?select=*,prompt_versions(*)`, the most common read: one foreign key relates the two
    tables (v2 dropped v1's composite current-version key, which made it 300 PGRST201), so the
    learner gets each visible prompt with exactly its published versions."""
    rows = as_learner.table("prompts").select("*,prompt_versions(*)").execute().data
    expected: dict[str, list[int]] = {}
    for prompt_id, number in db.execute(
            "select p.id, v.version_number from public.prompts p join public.prompt_versions v on v.prompt_id = p.id "
            f"where p.status = 'published' and not p.is_deleted and v.published and {IN_COURSE} order by 1, 2"):
        expected.setdefault(str(prompt_id), []).append(number)
    assert {r["id"]: sorted(v["version_number"] for v in r["prompt_versions"]) for r in rows} == expected
    assert all(r["current_version_id"] in {v["id"] for v in r["prompt_versions"]} for r in rows)


def test_a_version_embeds_its_prompt_as_an_object(as_learner):
    rows = as_learner.table("prompt_versions").select("id,prompt_id,prompts(id,slug)").limit(5).execute().data
    assert rows and all(r["prompts"]["id"] == r["prompt_id"] for r in rows)


@pytest.mark.parametrize("hint", ["", "!prompt_versions_prompt_id_fkey", "!prompt_id"])
def test_learner_embeds_only_published_versions_of_visible_prompts(db, as_learner, hint):
    rows = (as_learner.table("prompts").select(f"id,title,prompt_versions{hint}(*)")
            .order("id").execute().data)
    expected: dict[str, list[int]] = {}
    for prompt_id, number in db.execute(
            "select p.id, v.version_number from public.prompts p join public.prompt_versions v on v.prompt_id = p.id "
            f"where p.status = 'published' and not p.is_deleted and v.published and {IN_COURSE} order by 1, 2").fetchall():
        expected.setdefault(str(prompt_id), []).append(number)
    assert {r["id"]: sorted(v["version_number"] for v in r["prompt_versions"]) for r in rows} == expected
    assert all(v["published"] and v["markdown_body"] for r in rows for v in r["prompt_versions"])
    unpublished = db.execute("select count(*) from public.prompt_versions where not published").fetchone()[0]
    assert unpublished > 0  # the seed has drafts the learner must not see


def test_inner_drops_parents_whose_embedded_rows_are_invisible(rest, learner, user_token, db):
    """Unpublished versions exist, but a learner cannot see them: !inner on them drops every prompt."""
    path = "/prompts?select=id,prompt_versions!prompt_id!inner(id)&prompt_versions.published=is.false"
    assert get(rest, path, learner) == []
    admin = user_token("admin@example.com", admin=True)
    expected = {str(r[0]) for r in db.execute(
        "select distinct prompt_id from public.prompt_versions where not published")}
    assert {r["id"] for r in get(rest, path, admin)} == expected != set()


def test_outsider_embeds_empty_arrays_not_errors(as_outsider, db):
    rows = as_outsider.table("prompt_modules").select("slug,prompts(id)").execute().data
    assert len(rows) == db.execute("select count(*) from public.prompt_modules p where " + IN_COURSE).fetchone()[0] > 0
    assert all(r["prompts"] == [] for r in rows)


def test_hidden_prompt_is_absent_from_an_embed_not_an_error(rest, learner, db):
    module = db.execute("select module_id from public.prompts where id = %s", (HIDDEN_DRAFT,)).fetchone()[0]
    rows = get(rest, f"/prompt_modules?id=eq.{module}&select=id,prompts(id)", learner)
    assert len(rows) == 1
    assert HIDDEN_DRAFT not in {p["id"] for p in rows[0]["prompts"]}


def test_nested_embeds_with_order_and_limit_from_the_client(as_learner, db):
    rows = (as_learner.table("prompt_modules")
            .select("slug,lessons:prompt_lessons(slug,prompts(slug,versions:prompt_versions!prompt_id(version_number)))")
            .order("version_number", foreign_table="lessons.prompts.versions", desc=True)
            .limit(1, foreign_table="lessons.prompts.versions")
            .execute().data)
    versions = [p["versions"] for m in rows for lesson in m["lessons"] for p in lesson["prompts"]]
    assert len(versions) == db.execute(
        f"select count(*) from public.prompts p where status = 'published' and not is_deleted and {IN_COURSE}").fetchone()[0]
    latest = {r[0] for r in db.execute(
        "select max(version_number) from public.prompt_versions v join public.prompts p on p.id = v.prompt_id "
        f"where v.published and p.status = 'published' and not p.is_deleted and {IN_COURSE} group by p.id")}
    assert all(len(v) == 1 for v in versions) and {v[0]["version_number"] for v in versions} == latest


def test_embedded_order_limit_offset_and_filter(rest, learner, db):
    prompt = "30000000-0000-4000-a000-000000000001"
    numbers = [r[0] for r in db.execute(
        "select version_number from public.prompt_versions where prompt_id = %s and published "
        "order by version_number desc", (prompt,))]
    assert len(numbers) >= 2
    base = f"/prompts?id=eq.{prompt}&select=id,v:prompt_versions!prompt_id(version_number)"
    got = get(rest, base + "&v.order=version_number.desc", learner)
    assert [x["version_number"] for x in got[0]["v"]] == numbers
    got = get(rest, base + "&prompt_versions.order=version_number.desc&v.limit=1&v.offset=1", learner)
    assert [x["version_number"] for x in got[0]["v"]] == numbers[1:2]
    got = get(rest, base + f"&v.version_number=eq.{numbers[-1]}", learner)
    assert [x["version_number"] for x in got[0]["v"]] == [numbers[-1]]
    got = get(rest, base + f"&v.or=(version_number.eq.{numbers[0]},version_number.eq.{numbers[-1]})"
                           "&v.order=version_number", learner)
    assert [x["version_number"] for x in got[0]["v"]] == [numbers[-1], numbers[0]]


def test_count_exact_with_inner_embed_counts_parents_with_matches(rest, learner, db):
    raw = rest("GET", "/prompts?select=id,prompt_versions!prompt_id!inner(id)&prompt_versions.version_number=gt.2"
                      "&limit=1", token=learner, headers={"Prefer": "count=exact"})
    expected = db.execute(
        "select count(distinct p.id) from public.prompts p join public.prompt_versions v on v.prompt_id = p.id "
        f"where p.status = 'published' and not p.is_deleted and v.published and v.version_number > 2 and {IN_COURSE}"
    ).fetchone()[0]
    assert expected > 1
    assert raw.status_code == 206
    assert raw.headers["content-range"] == f"0-0/{expected}"


def test_legacy_embedded_count(as_learner, db):
    rows = as_learner.table("prompts").select("id,prompt_versions!prompt_id(count)").execute().data
    expected = {str(p): n for p, n in db.execute(
        "select p.id, count(v.id) from public.prompts p left join public.prompt_versions v "
        f"on v.prompt_id = p.id and v.published where p.status = 'published' and not p.is_deleted and {IN_COURSE} "
        "group by p.id")}
    assert {r["id"]: r["prompt_versions"][0]["count"] for r in rows} == expected


def test_no_relationship_is_pgrst200(rest, learner):
    raw = rest("GET", "/prompts?select=id,gw_notes(*)", token=learner)
    assert raw.status_code == 400
    assert raw.json() == {
        "code": "PGRST200",
        "message": "Could not find a relationship between 'prompts' and 'gw_notes' in the schema cache",
        "details": "Searched for a foreign key relationship between 'prompts' and 'gw_notes' in the schema "
                   "'public', but no matches were found.",
        "hint": None}
    raw = rest("GET", "/prompts?select=id,prompt_version!prompt_id(*)", token=learner)
    assert raw.status_code == 400
    body = raw.json()
    assert body["code"] == "PGRST200"
    assert "using the hint 'prompt_id'" in body["details"]
    assert body["hint"] == "Perhaps you meant 'prompt_versions' instead of 'prompt_version'."


def test_parameters_on_a_resource_not_embedded_are_pgrst108(rest, learner):
    raw = rest("GET", "/prompts?select=id&prompt_versions.limit=1", token=learner)
    assert raw.status_code == 400
    assert raw.json()["code"] == "PGRST108"
    assert raw.json()["message"] == "'prompt_versions' is not an embedded resource in this request"


# -- scratch tables: many-to-many, one-to-one, ambiguity by column, hidden rows --------------------------
def test_many_to_many_through_the_junction_hides_invisible_rows(emb, rest, learner):
    rows = get(rest, "/gw_emb_books?select=id,gw_emb_tags(name)&order=id&gw_emb_tags.order=name", learner)
    assert rows == [{"id": 10, "gw_emb_tags": [{"name": "blue"}, {"name": "red"}]},
                    {"id": 11, "gw_emb_tags": []},  # its only tag is secret
                    {"id": 12, "gw_emb_tags": [{"name": "red"}]},
                    {"id": 13, "gw_emb_tags": []}]
    rows = get(rest, "/gw_emb_tags?select=name,books:gw_emb_books!gw_emb_book_tags(id)&order=id&books.order=id", learner)
    assert rows == [{"name": "red", "books": [{"id": 10}, {"id": 12}]}, {"name": "blue", "books": [{"id": 10}]}]


def test_two_foreign_keys_to_one_table_need_a_hint(emb, rest, learner):
    raw = rest("GET", "/gw_emb_books?select=id,gw_emb_authors(name)", token=learner)
    assert raw.status_code == 300
    assert [d["relationship"] for d in raw.json()["details"]] == [
        "gw_emb_books_author_id_fkey using gw_emb_books(author_id) and gw_emb_authors(id)",
        "gw_emb_books_editor_fkey using gw_emb_books(editor_id) and gw_emb_authors(id)"]
    by_fk = get(rest, "/gw_emb_books?select=id,gw_emb_authors!gw_emb_books_editor_fkey(name)&order=id", learner)
    by_col = get(rest, "/gw_emb_books?select=id,gw_emb_authors!editor_id(name)&order=id", learner)
    assert by_fk == by_col == [{"id": 10, "gw_emb_authors": {"name": "bob"}}, {"id": 11, "gw_emb_authors": None},
                               {"id": 12, "gw_emb_authors": {"name": "ann"}}, {"id": 13, "gw_emb_authors": None}]
    # The FK column itself names the many-to-one, without a hint.
    rows = get(rest, "/gw_emb_books?select=id,author_id(name)&order=id", learner)
    assert [r["author_id"] for r in rows] == [{"name": "ann"}, {"name": "ann"}, None, None]


def test_hidden_to_one_row_is_null_and_inner_drops_the_parent(emb, rest, learner):
    """Book 12's author is secret: a null object, never an error; with !inner the book is gone."""
    left = get(rest, "/gw_emb_books?select=id,author:gw_emb_authors!author_id!left(name)&order=id", learner)
    assert [r["author"] for r in left] == [{"name": "ann"}, {"name": "ann"}, None, None]
    inner = get(rest, "/gw_emb_books?select=id,author:gw_emb_authors!author_id!inner(name)&order=id", learner)
    assert [r["id"] for r in inner] == [10, 11]
    filtered = get(rest, "/gw_emb_books?select=id,a:gw_emb_authors!author_id(name)&a=not.is.null&order=id", learner)
    assert [r["id"] for r in filtered] == [10, 11]
    missing = get(rest, "/gw_emb_books?select=id,a:gw_emb_authors!author_id()&a=is.null&order=id", learner)
    assert missing == [{"id": 12}, {"id": 13}]


def test_one_to_one_is_an_object_both_ways(emb, rest, learner):
    rows = get(rest, "/gw_emb_authors?select=id,gw_emb_profiles(bio)&order=id", learner)
    assert rows == [{"id": 1, "gw_emb_profiles": {"bio": "writes"}}, {"id": 2, "gw_emb_profiles": None}]
    rows = get(rest, "/gw_emb_profiles?select=bio,gw_emb_authors(name)", learner)
    assert rows == [{"bio": "writes", "gw_emb_authors": {"name": "ann"}}]


def test_self_relationship_children_and_parent(scratch, rest, learner):
    rows = get(rest, "/gw_notes?id=eq.1&select=id,children:gw_notes(id),parent(id)", learner)
    assert rows == [{"id": 1, "children": [{"id": 2}, {"id": 3}], "parent": None}]
    rows = get(rest, "/gw_notes?id=eq.2&select=id,parent(id,body)", learner)
    assert rows == [{"id": 2, "parent": {"id": 1, "body": "first"}}]


def test_embedded_objects_are_jsonb_as_in_postgrest(emb, rest, learner):
    """PostgREST casts each embed to jsonb: keys of embedded objects come out in jsonb's order."""
    raw = rest("GET", "/gw_emb_books?id=eq.10&select=id,gw_emb_authors!author_id(name,id)", token=learner)
    assert raw.text == '[{"id":10,"gw_emb_authors":{"id": 1, "name": "ann"}}]'


def test_embedding_on_writes_is_refused_naming_the_feature(emb, rest, learner):
    raw = rest("PATCH", "/gw_emb_books?id=eq.10&select=id,gw_emb_tags(name)", token=learner,
               json={"title": "x"}, headers={"Prefer": "return=representation"})
    assert raw.status_code == 400
    assert raw.json()["code"] == "PGRSTX01"
    assert "Resource embedding on PATCH" in raw.json()["message"]
    assert raw.json()["hint"] == "See devstack/README.md for what the stand-in supports."


def test_new_foreign_key_is_found_after_one_reload(emb, rest, learner):
    with psycopg.connect(emb, autocommit=True) as conn:
        conn.execute("alter table public.gw_emb_tags add column author_id integer "
                     "references public.gw_emb_authors (id)")
    rows = get(rest, "/gw_emb_tags?id=eq.100&select=id,gw_emb_authors(id)", learner)
    assert rows == [{"id": 100, "gw_emb_authors": None}]


# -- SQL level: the generated statements, run as the caller ------------------------------------------
def _run_as(db_url: str, claims: dict, query: str, table: str, explain: bool = False):
    with psycopg.connect(db_url, cursor_factory=psycopg.RawCursor) as conn:
        snap = load_snapshot(conn)
        spec, _ = sb.parse_query(parse_qsl(query, keep_blank_values=True))
        params = sb.Params()
        root = sb.plan_read(snap, snap.tables[table], spec, spec.limit, spec.offset, None)
        sql = sb.read_sql(root, params)
        with conn.transaction(force_rollback=True):
            conn.execute("select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)",
                         [claims["role"], json.dumps(claims)])
            if explain:
                conn.execute("set local enable_seqscan = off")
                return "\n".join(r[0] for r in conn.execute("EXPLAIN (COSTS OFF) " + sql, params.values))
            return [json.loads(json.dumps(r, default=str)) for r in
                    conn.execute(f"select coalesce(json_agg(t), '[]') from ({sql}) t", params.values).fetchone()[0]]


@pytest.fixture(scope="module")
def learner_claims(db_url: str, learner: str) -> dict:
    with psycopg.connect(db_url) as conn:
        uid = conn.execute("select id from auth.users where email = 'learner@example.com'").fetchone()
    assert uid is not None, "the seed's learner is missing"
    return {"sub": str(uid[0]), "role": "authenticated", "email": "learner@example.com", "aud": "authenticated"}


@pytest.mark.parametrize("query, table, check", [
    ("select=id,gw_emb_tags(name)&id=eq.11", "gw_emb_books", lambda rows: rows == [{"id": 11, "gw_emb_tags": []}]),
    ("select=id,gw_emb_authors!author_id(name)&id=eq.12", "gw_emb_books",
     lambda rows: rows == [{"id": 12, "gw_emb_authors": None}]),
    ("select=id,gw_emb_authors!author_id!inner(name)&id=eq.12", "gw_emb_books", lambda rows: rows == []),
    ("select=id,gw_emb_profiles(bio)&id=eq.1", "gw_emb_authors",
     lambda rows: rows == [{"id": 1, "gw_emb_profiles": {"bio": "writes"}}]),
    ("select=name,gw_emb_books!author_id(id)&id=eq.1&gw_emb_books.order=id.desc&gw_emb_books.limit=1",
     "gw_emb_authors", lambda rows: rows == [{"name": "ann", "gw_emb_books": [{"id": 11}]}]),
])
def test_sql_shapes_under_the_callers_role(emb, db_url, learner_claims, query, table, check):
    assert check(_run_as(db_url, learner_claims, query, table))


def test_sql_learner_gets_only_published_versions(db_url, learner_claims, db):
    rows = _run_as(db_url, learner_claims, "select=id,prompt_versions!prompt_id(published)", "prompts")
    assert rows and all(v["published"] for r in rows for v in r["prompt_versions"])
    assert HIDDEN_DRAFT not in {r["id"] for r in rows}


@pytest.mark.parametrize("query, conditions", [
    ("select=id,prompt_versions!prompt_id(id,version_number)&module_id=eq.10000000-0000-4000-a000-000000000001",
     ["prompt_id = prompts.id"]),
    ("select=id,versions:prompt_versions(id)&module_id=eq.10000000-0000-4000-a000-000000000001",
     ["prompt_id = prompts.id"]),
])
def test_embed_join_conditions_are_index_conditions(db_url, learner_claims, query, conditions):
    """The correlated join condition reaches an index on prompt_versions (the read path of bench/)."""
    plan = _run_as(db_url, learner_claims, query, "prompts", explain=True)
    lines = plan.splitlines()
    scan = next(i for i, line in enumerate(lines) if "on prompt_versions prompt_versions_1" in line)
    assert "Index Scan" in lines[scan] or "Bitmap Heap Scan" in lines[scan], plan
    assert "Seq Scan on prompt_versions" not in plan, plan
    index_cond = next(line for line in lines[scan + 1:] if "Index Cond" in line)
    assert all(c in index_cond for c in conditions), plan


# -- grammar the stand-in dropped (item 5 of issue 18): a clear refusal, never a wrong answer ------
@pytest.mark.parametrize("count", ["planned", "estimated"])
def test_planned_and_estimated_counts_are_refused(scratch, rest, learner, count):
    raw = rest("GET", "/gw_items?select=id", token=learner, headers={"Prefer": f"count={count}"})
    assert (raw.status_code, raw.json()["code"]) == (400, "PGRSTX01")
    assert f"Prefer: count={count}" in raw.json()["message"]
