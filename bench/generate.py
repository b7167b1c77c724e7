"""Load a throwaway database to the contract's sizes (§6) with COPY, reproducibly by seed.

At scale 1: 100 modules x 10 lessons, 100k prompts, 1M versions (10 per prompt on average),
100k cohort members (80k people in 40 cohorts), 10M usage-log rows. `--scale` multiplies every
size; `--seed` makes the data identical from run to run (ids are derived from counters, all
choices from one `random.Random(seed)`).

How it loads fast, and why the data still satisfies every rule the database enforces:
- One transaction as the superuser: TRUNCATE the tables, then `COPY ... (FREEZE)` into each
  (rows are written frozen and all-visible, so no VACUUM pass over 10M rows is needed).
- `session_replication_role = replica` for that transaction: ordinary triggers (version
  numbering, the current-version guard, the usage-log version stamp) and the foreign-key
  triggers do not fire. The generator writes what those triggers would have written (gap-free
  version numbers from 1, `current_version_id` -> a published version of the same prompt,
  `version_id` = the prompt's current version, `source_hash` as the sync RPC computes it), and
  `check_invariants()` proves it afterwards with set-based queries, including an anti-join for
  every foreign key in the schema. CHECK constraints are not triggers: they are enforced as usual.
- prompt_usage_logs' indexes are dropped before its COPY and rebuilt after (a sort-based build
  is far cheaper than 10M random B-tree inserts), from their exact `pg_get_indexdef`.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from hashlib import md5

import psycopg

# Midnight UTC of the run's day: a seed gives identical ids and content; timestamps are relative
# to the day, so the retention job (365 days) never finds generated rows old enough to purge.
NOW = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)

# id "kinds" (the second group of every generated uuid)
K_USER, K_MODULE, K_LESSON, K_PROMPT, K_VERSION, K_MEMBER, K_SPECIAL = range(1, 8)

LOADED_TABLES = [
    "auth.users", "public.prompt_admins", "public.prompt_user_preferences",
    "public.course_cohort_members", "public.prompt_modules", "public.prompt_lessons",
    "public.prompts", "public.prompt_versions", "public.prompt_usage_logs",
]


def make_uuid(kind: int, n: int) -> str:
    """A valid v4-shaped uuid, unique per (kind, n), scattered in index order like random ids."""
    scatter = (n * 2654435761 + kind * 40503) & 0xFFFFFFFF
    return f"{scatter:08x}-{kind:04x}-4{(n >> 48) & 0xFFF:03x}-8{(n >> 36) & 0xFFF:03x}-{n & 0xFFFFFFFFFFFF:012x}"


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S+00")


def source_hash(email: str, first: str | None, last: str | None, circle: str | None, status: str) -> str:
    """md5 of jsonb_build_array(...)::text, exactly as sync_cohort_members() computes it (ASCII)."""
    return md5(json.dumps([email, first, last, circle, status]).encode()).hexdigest()


@dataclass
class Sizes:
    scale: float
    modules: int
    lessons_per_module: int
    prompts: int
    versions: int
    members: int
    people: int
    cohorts: int
    usage_logs: int

    @classmethod
    def for_scale(cls, scale: float) -> "Sizes":
        prompts = max(200, round(100_000 * scale))
        members = max(200, round(100_000 * scale))
        return cls(
            scale=scale,
            modules=max(2, round(100 * scale)),
            lessons_per_module=10,
            prompts=prompts,
            versions=prompts * 10,
            members=members,
            people=round(members * 0.8),
            cohorts=max(2, round(40 * scale)),
            usage_logs=max(1000, round(10_000_000 * scale)),
        )


@dataclass
class Dataset:
    """What the benchmarks need to know about the generated data."""

    sizes: Sizes
    seed: int
    admin: dict = field(default_factory=dict)        # {id, email}
    learner: dict = field(default_factory=dict)      # active member, opted in
    outsider: dict = field(default_factory=dict)     # signed in, no membership
    learners: list[dict] = field(default_factory=list)  # more active members (for concurrency)
    module_id: str = ""                              # a module with >= 50 published prompts
    module_prompt_id: str = ""                       # a visible prompt of that module
    visible_prompt_ids: list[str] = field(default_factory=list)
    hidden_prompt_ids: list[str] = field(default_factory=list)  # drafts/deleted (dropped on ingest)
    timings: dict = field(default_factory=dict)      # seconds per load step
    counts: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"scale": self.sizes.scale, "seed": self.seed, "sizes": self.sizes.__dict__,
                "counts": self.counts, "load_seconds": self.timings}


PARAGRAPHS = [
    "You are an experienced {role}. Your audience is {audience}; keep that in mind for every sentence.",
    "Before answering, restate the task in one sentence and list any assumption you are making.",
    "Use the context below as your only source. If it does not contain the answer, say so plainly.",
    "Return the result as a Markdown table with the columns you find most useful, at most eight rows.",
    "Think step by step, but show only the final answer and a short justification of two lines.",
    "Ask me up to three clarifying questions first if anything important is ambiguous.",
    "Write in plain English at a reading age of about fourteen. Avoid jargon unless you define it.",
    "Give three alternatives, each with one strength and one weakness, then recommend one of them.",
    "Check your answer against the constraints listed above and fix anything that breaks them.",
    "Context:\\n\\n```\\n{{paste your text here}}\\n```",
    "Format: a title, a one-paragraph summary, then bullet points grouped under short headings.",
    "If you quote the source, quote it exactly and say where the passage comes from.",
]
ROLES = ["editor", "data analyst", "software engineer", "teacher", "researcher", "product manager"]
AUDIENCES = ["busy executives", "first-year students", "senior engineers", "a general audience"]
TAGS = ["basics", "format", "json", "summary", "critique", "code", "data", "research", "writing"]
FIRST = ["Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jin", "Kai", "Lea"]
LAST = ["Okafor", "Jones", "Silva", "Novak", "Tanaka", "Meyer", "Haddad", "Kowalski", "Berg"]
METADATA = ['{"source": "web"}', '{"source": "mobile"}', '{"source": "web", "lesson_step": 2}',
            '{"client": "extension", "source": "web"}']


class Loader:
    def __init__(self, admin_url: str, scale: float, seed: int, log=print) -> None:
        self.url = admin_url
        self.sizes = Sizes.for_scale(scale)
        self.rng = random.Random(seed)
        self.data = Dataset(self.sizes, seed)
        self.log = log
        # filled while generating
        self.person_users: list[tuple[str, str]] = []  # (user id, email) per person
        self.opted_out: set[int] = set()
        self.active_people: list[int] = []
        self.visible: list[tuple[str, str]] = []  # (prompt id, current version id)

    # -- COPY helpers ----------------------------------------------------------------------
    def _copy(self, cur: psycopg.Cursor, table: str, columns: list[str], rows) -> int:
        start = time.perf_counter()
        count = 0
        buf: list[str] = []
        with cur.copy(f"copy {table} ({', '.join(columns)}) from stdin with (freeze)") as copy:
            for line in rows:
                buf.append(line)
                if len(buf) >= 20000:
                    copy.write("".join(buf))
                    count += len(buf)
                    buf.clear()
            if buf:
                copy.write("".join(buf))
                count += len(buf)
        took = time.perf_counter() - start
        self.data.timings[f"copy {table}"] = round(took, 2)
        self.data.counts[table] = count
        self.log(f"  copy {table:32s} {count:>10,d} rows in {took:6.1f} s ({count / max(took, 1e-9):,.0f} rows/s)")
        return count

    # -- generators --------------------------------------------------------------------------
    def users(self):
        s = self.sizes
        created = ts(NOW - timedelta(days=400))
        special = [
            (make_uuid(K_SPECIAL, 1), "bench-admin@example.com"),
            (make_uuid(K_SPECIAL, 2), "bench-outsider@example.com"),
        ]
        self.data.admin = {"id": special[0][0], "email": special[0][1]}
        self.data.outsider = {"id": special[1][0], "email": special[1][1]}
        self.person_users = [(make_uuid(K_USER, p), f"learner{p}@bench.example.org") for p in range(s.people)]
        meta = '{"provider": "email", "providers": ["email"]}'
        for uid, email in special + self.person_users:
            yield (f"{uid}\tauthenticated\tauthenticated\t{email}\t{created}\t{meta}\t{{}}\t"
                   f"{created}\t{created}\n")

    def preferences(self):
        # 3% of people opted out of telemetry (their events are stored anonymously)
        created = ts(NOW - timedelta(days=30))
        for p in range(self.sizes.people):
            if self.rng.random() < 0.03:
                self.opted_out.add(p)
                yield f"{self.person_users[p][0]}\tt\t{created}\t{created}\n"

    def members(self):
        s = self.sizes
        rng = self.rng
        active = set()
        for r in range(s.members):
            if r < s.people:
                person, cohort = r, r % s.cohorts
            else:  # a second (usually older) membership of an earlier person
                person = r - s.people
                cohort = (person % s.cohorts + 1) % s.cohorts
            email = self.person_users[person][1]
            first, last = FIRST[person % len(FIRST)], LAST[(person // 7) % len(LAST)]
            circle = f"circle-{person}" if person % 10 else None
            draw = rng.random()
            status = "active" if draw < 0.85 else ("inactive" if draw < 0.95 else "revoked")
            if status == "active":
                active.add(person)
            synced = NOW - timedelta(days=rng.randrange(1, 300))
            revoked = ts(synced) if status != "active" else "\\N"
            yield (f"{make_uuid(K_MEMBER, r)}\tcohort-{cohort:03d}\t{email}\t{first}\t{last}\t"
                   f"{circle or chr(92) + 'N'}\t{status}\t{revoked}\t"
                   f"{source_hash(email, first, last, circle, status)}\t{ts(synced)}\t"
                   f"{ts(synced - timedelta(days=30))}\t{ts(synced)}\n")
        self.active_people = sorted(active)

    def modules(self):
        s = self.sizes
        created = ts(NOW - timedelta(days=800))
        for m in range(s.modules):
            yield f"{make_uuid(K_MODULE, m)}\tmodule-{m}\tModule {m}\tWhat module {m} covers.\t{m + 1}\t{created}\t{created}\n"

    def lessons(self):
        s = self.sizes
        created = ts(NOW - timedelta(days=800))
        for m in range(s.modules):
            for le in range(s.lessons_per_module):
                n = m * s.lessons_per_module + le
                yield (f"{make_uuid(K_LESSON, n)}\t{make_uuid(K_MODULE, m)}\tlesson-{le}\t"
                       f"Lesson {le} of module {m}\t\\N\t{le + 1}\t{created}\t{created}\n")

    def prompts_and_versions(self):
        """Plan every prompt and its versions (kept in memory: ~100k small tuples at scale 1)."""
        s = self.sizes
        rng = self.rng
        per_module = -(-s.prompts // s.modules)
        plan = []
        next_version = 0
        for i in range(s.prompts):
            module, pos = i % s.modules, i // s.modules + 1
            # 10 versions on average, paired deviations keep the total exact
            if i % 2 == 0:
                dev = rng.randint(-9, 9) if i + 1 < s.prompts else 0
                count = 10 + dev
            else:
                count = 10 - dev
            draw = rng.random()
            status = "published" if draw < 0.85 else ("draft" if draw < 0.95 else "archived")
            deleted = rng.random() < 0.02
            if status == "draft":
                published_upto, current = 0, None
            else:
                # 30% have an unpublished draft on top; 10% point at an older version (rollback)
                published_upto = count - 1 if (count > 1 and rng.random() < 0.3) else count
                current = published_upto if (published_upto == 1 or rng.random() >= 0.1) \
                    else rng.randint(1, published_upto - 1)
            plan.append((i, module, pos, count, status, deleted, published_upto, current, next_version))
            next_version += count
        self._plan = plan
        self._per_module = per_module

    def prompts(self):
        s = self.sizes
        admin = self.data.admin["id"]
        for (i, module, pos, count, status, deleted, _pub, current, first_v) in self._plan:
            lesson = module * s.lessons_per_module + min(s.lessons_per_module - 1,
                                                         (pos - 1) * s.lessons_per_module // self._per_module)
            created = NOW - timedelta(days=730 - (i % 300), minutes=i % 1440)
            current_id = make_uuid(K_VERSION, first_v + current - 1) if current else None
            published_at = ts(created + timedelta(days=current, hours=1)) if current else "\\N"
            archived_at = ts(created + timedelta(days=count + 1)) if status == "archived" else "\\N"
            deleted_at = ts(created + timedelta(days=count + 2)) if deleted else "\\N"
            tags = "{" + ",".join(sorted({TAGS[(i + k) % len(TAGS)] for k in range(1 + i % 3)})) + "}"
            updated = ts(created + timedelta(days=count + 2))
            pid = make_uuid(K_PROMPT, i)
            if status == "published" and not deleted:
                self.visible.append((pid, current_id))
            yield (f"{pid}\t{make_uuid(K_MODULE, module)}\t{make_uuid(K_LESSON, lesson)}\tprompt-{i}\t"
                   f"Prompt {i}: {ROLES[i % len(ROLES)]} for {AUDIENCES[i % len(AUDIENCES)]}\t"
                   f"A reusable prompt for {ROLES[i % len(ROLES)]}s.\t{tags}\t{pos}\t{status}\t"
                   f"{current_id or chr(92) + 'N'}\t{published_at}\t{archived_at}\t"
                   f"{'t' if deleted else 'f'}\t{deleted_at}\t{admin}\t{ts(created)}\t{updated}\n")

    def versions(self):
        rng = self.rng
        admin = self.data.admin["id"]
        paragraphs = [p.replace("{role}", ROLES[k % len(ROLES)]).replace("{audience}", AUDIENCES[k % len(AUDIENCES)])
                      for k, p in enumerate(PARAGRAPHS)]
        n_par = len(paragraphs)
        for (i, _module, _pos, count, _status, _deleted, published_upto, _current, first_v) in self._plan:
            created0 = NOW - timedelta(days=730 - (i % 300), minutes=i % 1440)
            pid = make_uuid(K_PROMPT, i)
            for v in range(1, count + 1):
                created = created0 + timedelta(days=v)
                published = v <= published_upto
                start = rng.randrange(n_par)
                body = f"# Prompt {i}, version {v}\\n\\n" + "\\n\\n".join(
                    paragraphs[(start + k) % n_par] for k in range(2 + (i + v) % 3))
                changelog = "Initial version" if v == 1 else f"Revision {v}: tightened the instructions"
                yield (f"{make_uuid(K_VERSION, first_v + v - 1)}\t{pid}\t{v}\t{body}\t{changelog}\t"
                       f"{'t' if published else 'f'}\t"
                       f"{ts(created + timedelta(hours=1)) if published else chr(92) + 'N'}\t"
                       f"{admin}\t{ts(created)}\n")

    def usage_logs(self):
        s = self.sizes
        rng = self.rng
        users = [(self.person_users[p][0], p in self.opted_out) for p in self.active_people]
        n_users, n_prompts = len(users), len(self.visible)
        visible = self.visible
        span = 360 * 86400
        start = int((NOW - timedelta(days=360)).timestamp())
        step = span / s.usage_logs
        day_cache: dict[int, str] = {}
        rand = rng.random
        for r in range(s.usage_logs):
            moment = start + int(r * step)
            day, sec = divmod(moment, 86400)
            date = day_cache.get(day)
            if date is None:
                date = day_cache[day] = datetime.fromtimestamp(day * 86400, timezone.utc).strftime("%Y-%m-%d")
            stamp = f"{date} {sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}+00"
            uid, anonymous = users[int(rand() * n_users)]
            pid, vid = visible[int(rand() ** 2 * n_prompts)]  # popular prompts get most events
            a = rand()
            action = "view" if a < 0.7 else ("copy" if a < 0.9 else ("favorite" if a < 0.97 else "unfavorite"))
            if anonymous:
                uid, meta = "\\N", "\\N"
            else:
                meta = METADATA[int(a * 40) % 4] if a * 10 % 1 < 0.3 else "\\N"
            yield f"{uid}\t{pid}\t{vid}\t{action}\t{meta}\t{stamp}\t{stamp}\n"

    # -- the load ------------------------------------------------------------------------------
    def load(self) -> Dataset:
        s = self.sizes
        self.log(f"loading scale {s.scale} (seed {self.data.seed}): {s.prompts:,} prompts, {s.versions:,} versions, "
                 f"{s.members:,} members, {s.usage_logs:,} usage-log rows")
        t0 = time.perf_counter()
        with psycopg.connect(self.url, autocommit=False) as conn, conn.cursor() as cur:
            cur.execute("set session_replication_role = replica")
            cur.execute("set maintenance_work_mem = '1GB'")
            cur.execute("truncate table " + ", ".join(LOADED_TABLES) + " cascade")
            self._copy(cur, "auth.users", ["id", "aud", "role", "email", "email_confirmed_at", "raw_app_meta_data",
                                           "raw_user_meta_data", "created_at", "updated_at"], self.users())
            cur.execute("insert into public.prompt_admins (user_id, note) values (%s, 'benchmark admin')",
                        (self.data.admin["id"],))
            self._copy(cur, "public.prompt_user_preferences",
                       ["user_id", "telemetry_opt_out", "created_at", "updated_at"], self.preferences())
            self._copy(cur, "public.course_cohort_members",
                       ["id", "cohort_id", "email", "first_name", "last_name", "circle_member_id", "status",
                        "revoked_at", "source_hash", "last_synced_at", "created_at", "updated_at"], self.members())
            self._copy(cur, "public.prompt_modules",
                       ["id", "slug", "title", "description", "position", "created_at", "updated_at"], self.modules())
            self._copy(cur, "public.prompt_lessons",
                       ["id", "module_id", "slug", "title", "description", "position", "created_at", "updated_at"],
                       self.lessons())
            self.prompts_and_versions()
            self._copy(cur, "public.prompts",
                       ["id", "module_id", "lesson_id", "slug", "title", "description", "tags", "position", "status",
                        "current_version_id", "published_at", "archived_at", "is_deleted", "deleted_at",
                        "created_by", "created_at", "updated_at"], self.prompts())
            self._copy(cur, "public.prompt_versions",
                       ["id", "prompt_id", "version_number", "markdown_body", "changelog", "published",
                        "published_at", "created_by", "created_at"], self.versions())
            rebuild = self._drop_indexes(cur, "public.prompt_usage_logs")
            self._copy(cur, "public.prompt_usage_logs",
                       ["user_id", "prompt_id", "version_id", "action", "metadata", "occurred_at", "created_at"],
                       self.usage_logs())
            start = time.perf_counter()
            for statement in rebuild:
                cur.execute(statement)
            self.data.timings["rebuild usage-log indexes"] = round(time.perf_counter() - start, 2)
            self.log(f"  rebuilt {len(rebuild)} usage-log indexes in {time.perf_counter() - start:.1f} s")
            cur.execute("update public.prompt_feature_flags set enabled = true")
            conn.commit()
            cur.execute("set session_replication_role = default")
        start = time.perf_counter()
        with psycopg.connect(self.url, autocommit=True) as conn:
            # Frozen rows need no vacuum pass; this records statistics and resets the insert
            # counters, so autovacuum does not start on these tables in the middle of a benchmark.
            conn.execute("vacuum (analyze) " + ", ".join(LOADED_TABLES))
        self.data.timings["vacuum analyze"] = round(time.perf_counter() - start, 2)
        self.log(f"  vacuum (analyze) in {time.perf_counter() - start:.1f} s")
        self._pick_actors()
        check_invariants(self.url, self.log, self.data.timings)
        self.data.timings["total"] = round(time.perf_counter() - t0, 2)
        self.log(f"loaded in {self.data.timings['total']:.0f} s")
        return self.data

    def _drop_indexes(self, cur: psycopg.Cursor, table: str) -> list[str]:
        """Drop a table's indexes (the primary key too); return the statements that rebuild them."""
        cur.execute(
            """select c.conname, pg_get_constraintdef(c.oid)
                 from pg_constraint c where c.conrelid = %s::regclass and c.contype in ('p', 'u')""", (table,))
        constraints = cur.fetchall()
        cur.execute(
            """select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                 from pg_index i
                where i.indrelid = %s::regclass
                  and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)""", (table,))
        indexes = cur.fetchall()
        for name, _ in constraints:
            cur.execute(f"alter table {table} drop constraint {name}")
        for name, _ in indexes:
            cur.execute(f"drop index {name}")
        return ([f"alter table {table} add constraint {name} {definition}" for name, definition in constraints]
                + [definition for _, definition in indexes])

    def _pick_actors(self) -> None:
        s = self.sizes
        opted_in = [p for p in self.active_people if p not in self.opted_out]
        # The benchmark learner's e-mail sorts in the middle of all e-mails: a lookup that is not
        # a true index probe (a scan in e-mail order) costs what it typically costs, not the best case.
        by_email = sorted(opted_in, key=lambda p: self.person_users[p][1])
        middle = by_email[len(by_email) // 2]
        picks = [middle] + [opted_in[(k * 7919) % len(opted_in)] for k in range(1, 64)]
        self.data.learners = [{"id": self.person_users[p][0], "email": self.person_users[p][1]}
                              for p in dict.fromkeys(picks)]
        self.data.learner = self.data.learners[0]
        module0 = make_uuid(K_MODULE, 0)
        self.data.module_id = module0
        self.data.visible_prompt_ids = [pid for pid, _ in self.visible]
        module0_prompts = {make_uuid(K_PROMPT, i) for i in range(0, s.prompts, s.modules)}
        in_module = [pid for pid, _ in self.visible if pid in module0_prompts]
        self.data.module_prompt_id = in_module[len(in_module) // 2]
        visible = set(self.data.visible_prompt_ids)
        self.data.hidden_prompt_ids = [make_uuid(K_PROMPT, i) for i in range(0, min(s.prompts, 5000))
                                       if make_uuid(K_PROMPT, i) not in visible]


def check_invariants(url: str, log=print, timings: dict | None = None) -> None:
    """Prove the bulk-loaded data satisfies what the (bypassed) triggers and foreign keys enforce."""
    start = time.perf_counter()
    checks = {
        "current_version_id is a published version of the same prompt": """
            select count(*) from public.prompts p
             where p.current_version_id is not null and not exists (
                   select 1 from public.prompt_versions v
                    where v.id = p.current_version_id and v.prompt_id = p.id and v.published)""",
        "published prompts have a current version": """
            select count(*) from public.prompts where status = 'published' and current_version_id is null""",
        "version numbers are 1..n per prompt": """
            select count(*) from (select prompt_id from public.prompt_versions group by prompt_id
                                   having min(version_number) <> 1 or max(version_number) <> count(*)) s""",
        "usage-log version_id is the prompt's current version": """
            select count(*) from public.prompt_usage_logs l join public.prompts p on p.id = l.prompt_id
             where l.version_id is distinct from p.current_version_id""",
        "members' source_hash is what the sync RPC computes": """
            select count(*) from public.course_cohort_members m
             where m.source_hash <> md5(jsonb_build_array(m.email::text, m.first_name, m.last_name,
                                                          m.circle_member_id, m.status)::text)""",
    }
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("set max_parallel_workers_per_gather = 2")
        # every foreign key in the schemas we loaded: an anti-join per constraint (MATCH SIMPLE)
        cur.execute("""
            select c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
                   array(select a.attname from unnest(c.conkey) with ordinality k(n, o)
                          join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.o),
                   array(select a.attname from unnest(c.confkey) with ordinality k(n, o)
                          join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.o)
              from pg_constraint c
             where c.contype = 'f' and c.connamespace in ('public'::regnamespace, 'auth'::regnamespace)""")
        for name, child, parent, cols, pcols in cur.fetchall():
            not_null = " and ".join(f"c.{col} is not null" for col in cols)
            match = " and ".join(f"p.{pc} = c.{col}" for col, pc in zip(cols, pcols))
            checks[f"foreign key {name}"] = (f"select count(*) from {child} c where {not_null} "
                                             f"and not exists (select 1 from {parent} p where {match})")
        failed = []
        for label, sql in checks.items():
            cur.execute(sql)
            bad = cur.fetchone()[0]
            if bad:
                failed.append(f"{label}: {bad} rows")
    took = time.perf_counter() - start
    if timings is not None:
        timings["check invariants"] = round(took, 2)
    if failed:
        raise RuntimeError("generated data breaks invariants:\n  " + "\n  ".join(failed))
    log(f"  {len(checks)} invariant checks passed ({took:.1f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-url", required=True,
                        help="superuser URL of a migrated, THROWAWAY database (the load truncates tables)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    Loader(args.db_url, args.scale, args.seed).load()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
